package main

import (
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/weights"
)

// twoLSTM is the survey's shape: inputs prices (8, 2) and weather (5, 3),
// outputs quantiles (3) and mean (1), with TF.js's outputs.
const twoLSTM = "../../parity/testdata/golden/multi_io_two_lstm_k2_15"

// closeTo fails unless got is want within the parity tolerance.
func closeTo(t *testing.T, what string, got []float32, gs []int, want []float32, ws []int) {
	t.Helper()
	if weights.FormatShape(gs) != weights.FormatShape(ws) || len(got) != len(want) {
		t.Fatalf("%s: shape %v, want %v", what, gs, ws)
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) {
			t.Errorf("%s: value %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestPredictMultiIOBinary runs the built binary on a two-input,
// two-output model: with one --input and --output per tensor, and with an
// .npz that numpy wrote (compressed, keys in another order) in and an .npz
// out that numpy reads back, keys in the model's output order.
func TestPredictMultiIOBinary(t *testing.T) {
	dir := t.TempDir()
	in0, in1 := filepath.Join(twoLSTM, "input_0.npy"), filepath.Join(twoLSTM, "input_1.npy")
	y0, y1 := filepath.Join(dir, "q.npy"), filepath.Join(dir, "m.npy")
	mustRun(t, "predict", "--model", twoLSTM, "--input", in0, "--input", in1, "--output", y0, "--output", y1, "--batch", "4")
	for j, y := range []string{y0, y1} {
		got, gs := readNPY(t, y)
		want, ws := readNPY(t, filepath.Join(twoLSTM, "expected_"+strconv.Itoa(j)+".npy"))
		closeTo(t, y, got, gs, want, ws)
	}

	xz, yz := filepath.Join(dir, "x.npz"), filepath.Join(dir, "y.npz")
	script := `
import sys, numpy as np
d, xz = sys.argv[1], sys.argv[2]
np.savez_compressed(xz, weather=np.load(d + "/input_1.npy"), prices=np.load(d + "/input_0.npy"))
`
	if out, err := exec.Command(python, "-c", script, twoLSTM, xz).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	mustRun(t, "predict", "--model", twoLSTM, "--input", xz, "--output", yz)
	back := `
import sys, numpy as np
z = np.load(sys.argv[1])
print(",".join(z.files))
for k in z.files:
    np.save(sys.argv[2] + "/back_" + k + ".npy", z[k])
`
	out, err := exec.Command(python, "-c", back, yz, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	if keys := strings.TrimSpace(string(out)); keys != "quantiles,mean" {
		t.Errorf("numpy reads keys %q from the output .npz, want quantiles,mean", keys)
	}
	for j, k := range []string{"quantiles", "mean"} {
		got, gs := readNPY(t, filepath.Join(dir, "back_"+k+".npy"))
		want, ws := readNPY(t, filepath.Join(twoLSTM, "expected_"+strconv.Itoa(j)+".npy"))
		closeTo(t, k, got, gs, want, ws)
	}
}

// TestPredictNPZSingleIO: a single-input model takes an .npz holding one
// array and writes an .npz keyed by its output layer's name.
func TestPredictNPZSingleIO(t *testing.T) {
	dir := t.TempDir()
	xz, yz := filepath.Join(dir, "x.npz"), filepath.Join(dir, "y.npz")
	x, xs := readNPY(t, filepath.Join(gold, "input.npy"))
	if err := writeNPZ(xz, []namedArray{{name: "anything", data: x, shape: xs}}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("predict", "--model", gold, "--input", xz, "--output", yz); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := readNPZ(yz, []string{"dense_1"})
	if err != nil {
		t.Fatal(err)
	}
	want, ws := readNPY(t, filepath.Join(gold, "expected.npy"))
	closeTo(t, "y.npz", got[0].data, got[0].shape, want, ws)
}

func TestPredictMultiIOErrors(t *testing.T) {
	dir := t.TempDir()
	in0, in1 := filepath.Join(twoLSTM, "input_0.npy"), filepath.Join(twoLSTM, "input_1.npy")
	x0, s0 := readNPY(t, in0)
	x1, s1 := readNPY(t, in1)
	npz := func(name string, arrays ...namedArray) string {
		p := filepath.Join(dir, name)
		if err := writeNPZ(p, arrays); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := npz("missing.npz", namedArray{"prices", x0, s0})
	extra := npz("extra.npz", namedArray{"prices", x0, s0}, namedArray{"weather", x1, s1}, namedArray{"wind", x1, s1})
	fewer := npz("fewer.npz", namedArray{"prices", x0[:2*16], append([]int{2}, s0[1:]...)}, namedArray{"weather", x1, s1})
	out := filepath.Join(dir, "y.npy")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"one input", []string{"--input", in0, "--output", out, "--output", out}, `2 input(s), prices (N, 8, 2), weather (N, 5, 3), and 1 --input`},
		{"inputs swapped", []string{"--input", in1, "--input", in0, "--output", out, "--output", out}, `(model input 0, "prices") has shape (6, 5, 3); the model wants (N, 8, 2)`},
		{"one output", []string{"--input", in0, "--input", in1, "--output", out}, "2 output(s), quantiles, mean, and 1 --output"},
		{"npz missing array", []string{"--input", missing, "--output", out, "--output", out}, `has no array "weather" (the model's inputs: prices, weather; the archive's arrays: prices)`},
		{"npz extra array", []string{"--input", extra, "--output", out, "--output", out}, `array "wind", which is not a model input`},
		{"different N", []string{"--input", fewer, "--output", out, "--output", out}, "every input needs the same N"},
		{"npz with others", []string{"--input", extra, "--input", in1, "--output", out, "--output", out}, "an .npz holds every input and is given alone"},
		{"two stdouts", []string{"--input", in0, "--input", in1, "--output", "-", "--output", "-"}, "--output - (stdout) may be given once"},
		{"not a zip", []string{"--input", filepath.Join(dir, "nope.npz"), "--output", out}, "not an .npz (zip) archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(append([]string{"predict", "--model", twoLSTM}, tc.args...)...)
			if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr, tc.want)
			}
		})
	}
}

func TestInspectMultiIO(t *testing.T) {
	code, stdout, stderr := runCmd("inspect", twoLSTM)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Input 0: prices (None, 8, 2)\n", "Input 1: weather (None, 5, 3)\n",
		"Output 0: quantiles (None, 3)\n", "Output 1: mean (None, 1)\n",
		" weather (InputLayer)", "weather_lstm_1 (LSTM)", "prices_lstm_2, weather_lstm_2\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect lacks %q:\n%s", want, stdout)
		}
	}
}

// multiIOH5 writes the Keras 2.0 two-input, two-output golden as the legacy
// .h5 Keras 2 model.save writes (model_config, model_weights/<layer>/
// <layer>/kernel:0 ...), from the golden's own config and arrays.
const multiIOH5 = `
import json, os, sys
import h5py, numpy as np
src, dst = sys.argv[1], sys.argv[2]
model = json.load(open(os.path.join(src, "model.json")))
kv = model.pop("keras_version"); model.pop("backend")
arrays = [np.load(os.path.join(src, "weights", n)) for n in sorted(os.listdir(os.path.join(src, "weights")))]
names = {"LSTM": ["kernel", "recurrent_kernel", "bias"], "Dense": ["kernel", "bias"]}
with h5py.File(dst, "w") as f:
    f.attrs["keras_version"] = kv.encode()
    f.attrs["backend"] = b"tensorflow"
    f.attrs["model_config"] = json.dumps(model).encode()
    mw = f.create_group("model_weights")
    layers = [l for l in model["config"]["layers"] if l["class_name"] != "InputLayer"]
    mw.attrs["layer_names"] = np.array([l["name"].encode() for l in model["config"]["layers"]])
    i = 0
    for l in model["config"]["layers"]:
        g = mw.create_group(l["name"])
        wn = ["%s/%s:0" % (l["name"], w) for w in names.get(l["class_name"], [])]
        g.attrs["weight_names"] = np.array([w.encode() for w in wn]) if wn else np.array([])
        for w in wn:
            g.create_dataset(w, data=arrays[i]); i += 1
    assert i == len(arrays)
`

// TestPredictMultiIOKerasH5: the survey's shape (two LSTM stacks,
// Concatenate, two heads) as a Keras 2.0 .h5 file, read directly.
func TestPredictMultiIOKerasH5(t *testing.T) {
	src := "../../parity/testdata/golden/multi_io_two_lstm_k2_0"
	dir := t.TempDir()
	h5 := filepath.Join(dir, "two_lstm.h5")
	if out, err := exec.Command(python, "-c", multiIOH5, src, h5).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	yz := filepath.Join(dir, "y.npz")
	mustRun(t, "predict", "--model", h5, "--input", filepath.Join(src, "input_0.npy"), "--input", filepath.Join(src, "input_1.npy"), "--output", yz)
	got, err := readNPZ(yz, []string{"mean", "quantiles"})
	if err != nil {
		t.Fatal(err)
	}
	for j, a := range got {
		want, ws := readNPY(t, filepath.Join(src, "expected_"+strconv.Itoa(j)+".npy"))
		closeTo(t, a.name, a.data, a.shape, want, ws)
	}
	out := mustRun(t, "inspect", h5)
	for _, want := range []string{"Input 0: prices (None, 8, 2)", "Output 1: quantiles (None, 3)", `"model" (Model)`} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
}
