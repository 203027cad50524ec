package main

import (
	"math"
	"path/filepath"
	"testing"
)

// TestPredictFixtureBundles runs `seqcast predict` on every bundle exported
// from the real Keras files in parity/testdata/fixtures (tools/tests checks
// that the exporter still writes exactly these bundles) and compares the
// output with the self-test output Keras gave.
func TestPredictFixtureBundles(t *testing.T) {
	dirs, err := filepath.Glob("../../parity/testdata/fixtures/*/bundles/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 5 {
		t.Fatalf("found %d fixture bundles, want 5 (four sales-bilstm models and airquality): %v", len(dirs), dirs)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "y.npy")
			in := filepath.Join(dir, "self_test", "input.npy")
			if code, _, stderr := runCmd("predict", "--model", dir, "--input", in, "--output", out); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got, _ := readNPY(t, out)
			want, _ := readNPY(t, filepath.Join(dir, "self_test", "output.npy"))
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("got %d outputs, want %d", len(got), len(want))
			}
			worst := 0.0
			for i := range got {
				d := math.Abs(float64(got[i] - want[i]))
				worst = max(worst, d)
				if d > 1e-5+1e-5*math.Abs(float64(want[i])) {
					t.Errorf("output %d = %v, Keras gave %v", i, got[i], want[i])
				}
			}
			t.Logf("%d outputs, max |err| %.3g", len(got), worst)
		})
	}
}
