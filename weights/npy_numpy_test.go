package weights

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// TestWriteNPYMatchesNumpy checks WriteNPY and WriteNPY64 against np.save
// of Debian's numpy (/usr/bin/python3) byte for byte, on shapes chosen to
// land the header on and around the 64-byte boundary and to exercise the
// growth padding of the first dimension. A missing /usr/bin/python3 or
// numpy is a failure.
func TestWriteNPYMatchesNumpy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Python")
	}
	shapes := [][]int{{}, {0}, {1}, {3, 4}, {128}, {1, 2, 3}, {0, 60, 1},
		{12345678901, 0}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {2, 1000000, 0, 7, 123456, 99}}
	// Shapes whose dict plus growth padding fill the header exactly.
	for k := 1; k < 30; k++ {
		s := []int{1}
		for range k {
			s = append(s, 0)
		}
		shapes = append(shapes, s)
	}
	spec, _ := json.Marshal(shapes)
	script := `
import io, json, sys, numpy as np
out = []
for s in json.loads(sys.argv[1]):
    for dt in (np.float32, np.float64):
        n = int(np.prod(s)) if s else 1
        a = (np.arange(n, dtype=np.float64) * 0.37 - 1.5).astype(dt).reshape(s)
        b = io.BytesIO(); np.save(b, a, allow_pickle=False); out.append(b.getvalue().hex())
print(json.dumps(out))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, string(spec))
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("/usr/bin/python3 with numpy is needed: %v", err)
	}
	var want []string
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, s := range shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		f64 := make([]float64, n)
		f32 := make([]float32, n)
		for j := range f64 {
			f64[j] = float64(j)*0.37 - 1.5
			f32[j] = float32(f64[j])
		}
		var b32, b64 bytes.Buffer
		if err := WriteNPY(&b32, f32, s); err != nil {
			t.Fatal(err)
		}
		if err := WriteNPY64(&b64, f64, s); err != nil {
			t.Fatal(err)
		}
		for _, got := range []*bytes.Buffer{&b32, &b64} {
			if g := hex.EncodeToString(got.Bytes()); g != want[i] {
				t.Errorf("shape %v (case %d): WriteNPY wrote\n%s\nnumpy wrote\n%s", s, i, g, want[i])
			}
			i++
		}
	}
}
