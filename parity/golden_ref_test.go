package parity

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
	"github.com/seqcast/seqcast/weights"
)

// The goldens whose reference is a float64 evaluation in Go (attention
// layers, keras-tcn's TCN) share how a bundle is written and checked.

// refEval evaluates a model.json in float64, taking the weights from next.
type refEval func(modelJSON []byte, x ref64.Tensor, next weightSource) (ref64.Tensor, error)

// writeRefBundle writes a case's bundle into dir (emptied first): its
// model.json, the weights as weights/NNN.npy, input.npy and expected.npy
// (y rounded to float32).
func writeRefBundle(dir string, js []byte, x []float32, xShape []int, arrays [][]float32, shapes [][]int, y ref64.Tensor) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		return err
	}
	write := func(name string, data []float32, shape []int) error {
		var buf bytes.Buffer
		if err := weights.WriteNPY(&buf, data, shape); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), js, 0o644); err != nil {
		return err
	}
	for i, a := range arrays {
		if err := write(fmt.Sprintf("weights/%03d.npy", i), a, shapes[i]); err != nil {
			return err
		}
	}
	if err := write("input.npy", x, xShape); err != nil {
		return err
	}
	yf := make([]float32, len(y.Data))
	for i, v := range y.Data {
		yf[i] = float32(v)
	}
	return write("expected.npy", yf, y.Shape)
}

// checkRefGoldens requires names (the cases the code defines) and the
// directories under root to be exactly want, then, for each case, that
// nn (through package weights) matches expected.npy within 1e-5 +
// 1e-5*|golden| and that expected.npy is still eval of the bundle's own
// files (update names the flag that rewrites them). extra, when not nil,
// runs last with the case's input, weight arrays (in order) and golden.
func checkRefGoldens(t *testing.T, root string, names, want []string, update string, eval refEval,
	extra func(t *testing.T, name string, x []float32, arrays [][]float32, golden []float32)) {
	t.Helper()
	names = slices.Sorted(slices.Values(names))
	if !slices.Equal(names, want) {
		t.Fatalf("the cases are %v, the want list %v", names, want)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if !slices.Equal(dirs, want) {
		t.Fatalf("%s holds %v, want %v (regenerate with %s)", root, dirs, want, update)
	}
	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, name)
			res, err := runCase(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-40s %-7s out %v  max|err| %.3g  worst err/tol %.3g  max|golden| %.3g",
				name, res.kerasVersion, res.outShape, res.maxErr, res.worstRatio, res.maxRef)
			if res.worstRatio > 1 {
				t.Errorf("%d of %d outputs off by more than %g + %g*|golden|; worst at %d: got %g, golden %g",
					res.bad, res.n, absTol, relTol, res.worstAt, res.worstGot, res.worstWant)
			}
			// expected.npy is the reference of the bundle's own files.
			js, err := os.ReadFile(filepath.Join(dir, "model.json"))
			if err != nil {
				t.Fatal(err)
			}
			x, xs, err := readNPY(filepath.Join(dir, "input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			xt := ref64.New(xs...)
			for i, v := range x {
				xt.Data[i] = float64(v)
			}
			var arrays [][]float32
			y, err := eval(js, xt, func(layer, wname string, shape []int) ref64.Tensor {
				k := len(arrays)
				a, s, err := readNPY(filepath.Join(dir, "weights", fmt.Sprintf("%03d.npy", k)))
				if err != nil || !slices.Equal(s, shape) {
					t.Fatalf("weight %d (%s %s): shape %v, want %v (%v)", k, layer, wname, s, shape, err)
				}
				arrays = append(arrays, a)
				tt := ref64.New(shape...)
				for i, v := range a {
					tt.Data[i] = float64(v)
				}
				return tt
			})
			if err != nil {
				t.Fatal(err)
			}
			golden, _, err := readNPY(filepath.Join(dir, "expected.npy"))
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range y.Data {
				if golden[i] != float32(v) {
					t.Fatalf("expected.npy[%d] = %g, the reference gives %g: regenerate with %s", i, golden[i], float32(v), update)
				}
			}
			if extra != nil {
				extra(t, name, x, arrays, golden)
			}
		})
	}
}
