package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goldenKerasFile is one TF.js golden written as a Keras file.
type goldenKerasFile struct {
	path   string // the .h5 or .keras file
	golden string // its golden bundle (input.npy, expected.npy)
	conv1D bool   // the ConvLSTM2D golden rewritten as ConvLSTM1D: no row axis in the input
}

// goldenKerasFiles writes the ConvLSTM2D, ConvLSTM1D and subsequence
// CNN-LSTM goldens as Keras 2 .h5, Keras 3 legacy .h5 and Keras 3 .keras
// files, in the layouts Keras writes (tools/tests/keras_layouts.py
// write_golden_files), into a temporary directory. A missing
// /usr/bin/python3 or h5py is a failure.
func goldenKerasFiles(t *testing.T) []goldenKerasFile {
	t.Helper()
	const script = `import json, sys; sys.path[:0] = ["../../tools", "../../tools/tests"]
import keras_layouts as kl
json.dump(kl.write_golden_files(sys.argv[1], "../../parity/testdata/golden"), sys.stdout)`
	out, err := exec.Command(python, "-c", script, t.TempDir()).Output()
	if err != nil {
		t.Fatalf("%s keras_layouts.write_golden_files: %v (needs /usr/bin/python3 with numpy and h5py: apt-get install python3-h5py)", python, err)
	}
	var rows [][]any
	if err := json.Unmarshal(out, &rows); err != nil || len(rows) < 8 {
		t.Fatalf("write_golden_files: %v, %d files: %s", err, len(rows), out)
	}
	var files []goldenKerasFile
	for _, r := range rows {
		p, _ := r[0].(string)
		g, _ := r[1].(string)
		c, _ := r[2].(bool)
		files = append(files, goldenKerasFile{p, g, c})
	}
	return files
}

// name is the model's name when served with --model: the file's base name
// without its extension.
func (g goldenKerasFile) name() string {
	b := filepath.Base(g.path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// input is the golden's input.npy, without the row axis for the ConvLSTM1D
// rewrite ((N, S, 1, T, F) -> (N, S, T, F): the same memory).
func (g goldenKerasFile) input(t *testing.T) ([]float32, []int) {
	x, xs := readNPY(t, filepath.Join(g.golden, "input.npy"))
	if g.conv1D {
		if len(xs) != 5 || xs[2] != 1 {
			t.Fatalf("%s input.npy shape %v, want (N, S, 1, T, F)", g.golden, xs)
		}
		xs = slices.Delete(slices.Clone(xs), 2, 3)
	}
	return x, xs
}

// checkGoldenPredict posts the golden's input tensor to :predict (instances)
// and requires every output value to be expected.npy's within 1e-5 + 1e-5
// relative; it returns the largest error.
func checkGoldenPredict(t *testing.T, p *proc, name string, g goldenKerasFile) float64 {
	t.Helper()
	x, xs := g.input(t)
	want, _ := readNPY(t, filepath.Join(g.golden, "expected.npy"))
	r := p.call(t, "POST", "/v1/models/"+name+":predict", `{"instances":`+nestJSON(x, xs)+`}`, "Content-Type", "application/json")
	var b struct{ Predictions []any }
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &b) != nil || len(b.Predictions) != xs[0] {
		t.Fatalf(":predict %s: %d %.400s", name, r.status, r.raw)
	}
	var got []float64
	var flat func(v any)
	flat = func(v any) {
		switch v := v.(type) {
		case float64:
			got = append(got, v)
		case []any:
			for _, e := range v {
				flat(e)
			}
		}
	}
	flat(b.Predictions)
	if len(got) != len(want) {
		t.Fatalf(":predict %s: %d values, expected.npy has %d", name, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		if !nearGolden(got[i], want[i]) {
			t.Errorf(":predict %s value %d: %g, golden %g", name, i, got[i], want[i])
		}
		worst = max(worst, abs64(got[i]-float64(want[i])))
	}
	return worst
}

func abs64(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestServeConvLSTMKerasFiles: the ConvLSTM2D and ConvLSTM1D tutorial
// forecasters and the subsequence CNN-LSTM, as the Keras files a user has
// (Keras 2 .h5, Keras 3 legacy .h5, Keras 3 .keras), through the built
// binary: `seqcast serve --model FILE` and `seqcast import FILE --out DIR`
// then serving DIR answer :predict with the golden's input.npy equal to its
// expected.npy within 1e-5 + 1e-5 relative.
func TestServeConvLSTMKerasFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary and runs Python")
	}
	files := goldenKerasFiles(t)
	// The imported bundles, one server: named after the file with its
	// extension (the k3 goldens are both a .h5 and a .keras).
	root := t.TempDir()
	bundleName := func(g goldenKerasFile) string {
		return g.name() + "_" + strings.TrimPrefix(filepath.Ext(g.path), ".")
	}
	for _, g := range files {
		mustRun(t, "import", g.path, "--out", filepath.Join(root, bundleName(g), "1"))
	}
	imported := startBinary(t, nil, "--models-dir", root)
	for _, g := range files {
		t.Run(filepath.Base(g.path), func(t *testing.T) {
			p := startBinary(t, nil, "--model", g.path)
			file := checkGoldenPredict(t, p, g.name(), g)
			dir := checkGoldenPredict(t, imported, bundleName(g), g)
			if !g.conv1D {
				// the imported weights are the golden's, in its order
				ws, _ := filepath.Glob(filepath.Join(g.golden, "weights", "*.npy"))
				for _, w := range ws {
					a, as := readNPY(t, w)
					b, bs := readNPY(t, filepath.Join(root, bundleName(g), "1", "weights", filepath.Base(w)))
					if !slices.Equal(a, b) || !slices.Equal(as, bs) {
						t.Errorf("imported weights/%s (%v) differs from the golden's (%v)", filepath.Base(w), bs, as)
					}
				}
			}
			t.Logf("max |err| vs expected.npy: served file %.3g, imported bundle %.3g", file, dir)
		})
	}
}

// TestConvLSTMKerasFileWrongShape: a Keras file whose ConvLSTM weight has
// the wrong shape is refused by serve and import, naming the layer and the
// weight.
func TestConvLSTMKerasFileWrongShape(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary and runs Python")
	}
	dir := t.TempDir()
	const script = `import sys; sys.path[:0] = ["../../tools", "../../tools/tests"]
import numpy as np, keras_layouts as kl
g = "../../parity/testdata/golden/"
c, v, l = kl.golden_model(g + "convlstm2d_tutorial_k2_12")
l[0][1][1] = l[0][1][1][:, :, :32]  # recurrent_kernel (1, 2, 32, 256), filters are 64
kl.write_golden_keras2_h5(sys.argv[1] + "/recurrent.h5", c, v, l)
c, v, l = kl.golden_model(g + "convlstm2d_tutorial_k3")
l[0][1][0] = np.zeros((1, 3, 1, 256), np.float32)  # kernel_size is (1, 2)
kl.write_golden_keras3_zip(sys.argv[1] + "/kernel.keras", c, v, l)`
	if out, err := exec.Command(python, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, c := range []struct{ file, want string }{
		{"recurrent.h5", `layer "conv_lst_m2d" recurrent_kernel`},
		{"kernel.keras", `layer "conv_lst_m2d" kernel`},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			code, _, stderr := noPython(t, "import", path, "--out", filepath.Join(t.TempDir(), "b"))
			if code == 0 || !strings.Contains(stderr, c.want) {
				t.Errorf("import: exit %d\n%s\nwant a refusal naming %s", code, stderr, c.want)
			}
			p := launchBinary(t, nil, "--model", path)
			// the log is JSON: its quotes are escaped
			if code := p.exitCode(t); code == 0 || !strings.Contains(strings.ReplaceAll(p.log.String(), `\"`, `"`), c.want) {
				t.Errorf("serve: exit %d\n%s\nwant a refusal naming %s", code, p.log, c.want)
			}
			t.Log(strings.TrimSpace(stderr))
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); err == nil {
		t.Error("import wrote a bundle for a refused file")
	}
}
