package parity

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/weights"
)

// TestConvLSTM1DFromTutorialGoldens: TF.js has no ConvLSTM1D, but Keras's
// ConvLSTM1D over (T, steps, C) with kernel k computes what ConvLSTM2D
// computes over (T, 1, steps, C) with kernel (1, k), on the same memory. So
// each ConvLSTM2D tutorial golden, rewritten as a ConvLSTM1D model (its
// input without the row axis, kernel_size [k], the kernels' leading 1
// dropped), must still give the golden's outputs: this checks the
// ConvLSTM1D config path (kerasconfig) and weight shapes against TF.js.
func TestConvLSTM1DFromTutorialGoldens(t *testing.T) {
	for _, name := range []string{"convlstm2d_tutorial_k2_12", "convlstm2d_tutorial_k3"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join("testdata", "golden", name)
			dst := t.TempDir()
			js, err := os.ReadFile(filepath.Join(src, "model.json"))
			if err != nil {
				t.Fatal(err)
			}
			text := string(js)
			for _, r := range [][2]string{
				{`"class_name": "ConvLSTM2D"`, `"class_name": "ConvLSTM1D"`},
				{"[null, 2, 1, 3, 1]", "[null, 2, 3, 1]"},
				{`"kernel_size": [1, 2]`, `"kernel_size": [2]`},
				{`"strides": [1, 1]`, `"strides": [1]`},
				{`"dilation_rate": [1, 1]`, `"dilation_rate": [1]`},
			} {
				if !strings.Contains(text, r[0]) {
					t.Fatalf("model.json has no %s", r[0])
				}
				text = strings.ReplaceAll(text, r[0], r[1])
			}
			if err := os.WriteFile(filepath.Join(dst, "model.json"), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			// write copies an array, dropping a leading or second axis of 1
			// (the row axis of the kernels and of the input).
			write := func(from, to string, drop int) []float32 {
				data, shape, err := readNPY(filepath.Join(src, from))
				if err != nil {
					t.Fatal(err)
				}
				if drop >= 0 {
					if shape[drop] != 1 {
						t.Fatalf("%s: shape %v, axis %d is not 1", from, shape, drop)
					}
					shape = slices.Delete(slices.Clone(shape), drop, drop+1)
				}
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, to)), 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := os.Create(filepath.Join(dst, to))
				if err != nil {
					t.Fatal(err)
				}
				if err := weights.WriteNPY(f, data, shape); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				return data
			}
			write("weights/000.npy", "weights/000.npy", 0) // kernel (1, 2, 1, 256) -> (2, 1, 256)
			write("weights/001.npy", "weights/001.npy", 0) // recurrent_kernel (1, 2, 64, 256) -> (2, 64, 256)
			for _, w := range []string{"weights/002.npy", "weights/003.npy", "weights/004.npy"} {
				write(w, w, -1)
			}
			x := write("input.npy", "input.npy", 2) // (5, 2, 1, 3, 1) -> (5, 2, 3, 1)
			want, _, err := readNPY(filepath.Join(src, "expected.npy"))
			if err != nil {
				t.Fatal(err)
			}

			b, err := weights.Load(dst)
			if err != nil {
				t.Fatal(err)
			}
			m := b.Model
			if l := m.Nodes()[0].Layer; l.Class() != "ConvLSTM1D" || !m.InputShape().Equal([]int{2, 3, 1}) {
				t.Fatalf("first layer %s, input %v", l.Class(), m.InputShape())
			}
			got := make([]float32, len(want))
			if err := m.Forward(got, x, len(want)); err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range want {
				d := math.Abs(float64(got[i]) - float64(want[i]))
				tol := absTol + relTol*math.Abs(float64(want[i]))
				worst = max(worst, d/tol)
				if d > tol {
					t.Errorf("sample %d: %g, golden %g", i, got[i], want[i])
				}
			}
			t.Logf("%s as ConvLSTM1D: worst err/tol %.3g", name, worst)
		})
	}
}
