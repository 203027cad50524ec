package nn

import "testing"

// TestForwardChunks checks that a batch larger than one chunk gives exactly
// what running its samples one at a time gives, for batch sizes around the
// chunk boundary, and that it allocates nothing at steady state.
func TestForwardChunks(t *testing.T) {
	m := goldModel(t)
	x0, n0 := goldInput(t)
	per := m.InputShape().Size()
	for _, n := range []int{chunk - 1, chunk, chunk + 1, 2*chunk + 3} {
		x := make([]float32, n*per)
		for i := 0; i < n; i++ {
			copy(x[i*per:(i+1)*per], x0[(i%n0)*per:])
		}
		got, err := m.Predict(x, n)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			one, err := m.Predict(x[i*per:(i+1)*per], 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := float64(one[0] - got[i]); d > 1e-6 || d < -1e-6 {
				t.Fatalf("n=%d sample %d: batched %v, alone %v", n, i, got[i], one[0])
			}
		}
		dst := make([]float32, n)
		if a := testing.AllocsPerRun(5, func() { _ = m.Forward(dst, x, n) }); a != 0 {
			t.Errorf("n=%d: Forward allocates %v times per run, want 0", n, a)
		}
	}
}

func TestForwardErrors(t *testing.T) {
	m := goldModel(t)
	per := m.InputShape().Size()
	for _, tc := range []struct {
		name      string
		dst, x    int
		n         int
		wantError bool
	}{
		{"ok", 2, 2 * per, 2, false},
		{"zero batch", 0, 0, 0, true},
		{"short input", 2, 2*per - 1, 2, true},
		{"short output", 1, 2 * per, 2, true},
	} {
		err := m.Forward(make([]float32, tc.dst), make([]float32, tc.x), tc.n)
		if (err != nil) != tc.wantError {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.wantError)
		}
	}
}
