package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/scaler"
	"github.com/seqcast/seqcast/weights"
)

// The real Keras files in the repository (copied from the shared fixture
// set with their LICENSE; see parity/testdata/fixtures/README.md and
// kerasfile/testdata/survey).
const (
	salesDir  = "../../parity/testdata/fixtures/sales-bilstm"
	aqDir     = "../../parity/testdata/fixtures/airquality-cnn-bilstm"
	surveyDir = "../../kerasfile/testdata/survey"
)

var salesModels = []string{"nb08_cnn_baseline_80_20", "nb09_cnn_ga_best_80_20", "nb10_bilstm_baseline_80_20", "nb11_bilstm_ga_best_80_20"}

// noPython runs the built binary with PATH holding only an empty
// directory: no python, python3, pip or anything else can be found.
func noPython(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	bin := seqcastBinary(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running %s: %v", bin, err)
		}
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := noPython(t, args...)
	if code != 0 {
		t.Fatalf("seqcast %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// readNPY64 reads a float32 or float64 .npy as float64 (a float64 one
// exactly, which weights.ReadNPY would round to float32).
func readNPY64(t *testing.T, path string) ([]float64, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nr, err := weights.NewNPYReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var v []float64
	if strings.HasSuffix(nr.Header.DType, "f8") {
		f.Seek(0, io.SeekStart)
		err = npy.Read(f, &v)
	} else {
		var v32 []float32
		v32, err = nr.Read()
		for _, x := range v32 {
			v = append(v, float64(x))
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v, nr.Header.Shape
}

func writeNPY32(t *testing.T, path string, x []float32, shape []int) {
	t.Helper()
	var b bytes.Buffer
	if err := weights.WriteNPY(&b, x, shape); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// keepKerasNumbers imports model with args, then, as the server does,
// scales raw (n windows) with the imported scaler.json, runs `seqcast
// predict` on the Keras file itself and on the imported bundle (which must
// agree byte for byte), inverts the scaling and compares with what Keras
// computed, within rel.
func keepKerasNumbers(t *testing.T, model string, args []string, raw []float64, n int, want []float64, rel float64) {
	dir := t.TempDir()
	out := filepath.Join(dir, "bundle")
	stdout := mustRun(t, append([]string{"import", model, "--out", out}, args...)...)
	t.Log(strings.TrimSpace(stdout))

	sj, err := os.ReadFile(filepath.Join(out, "scaler.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := scaler.Parse(sj)
	if err != nil {
		t.Fatal(err)
	}
	T := p.Window
	F := len(raw) / (n * T)
	x := make([]float32, len(raw))
	if err := p.ScaleBatch(x, raw, n, F); err != nil {
		t.Fatal(err)
	}
	xin := filepath.Join(dir, "x.npy")
	writeNPY32(t, xin, x, []int{n, T, F})

	yFile, yDir := filepath.Join(dir, "y_file.npy"), filepath.Join(dir, "y_dir.npy")
	mustRun(t, "predict", "--model", model, "--input", xin, "--output", yFile)
	mustRun(t, "predict", "--model", out, "--input", xin, "--output", yDir)
	a, _ := os.ReadFile(yFile)
	b, _ := os.ReadFile(yDir)
	if !bytes.Equal(a, b) {
		t.Errorf("predict on %s and on its imported bundle differ", model)
	}
	y, _ := readNPY(t, yFile)
	got := make([]float64, len(want))
	if err := p.InverseBatch(got, y, raw, n, F); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range want {
		r := math.Abs(got[i]-want[i]) / math.Abs(want[i])
		if !(r <= rel) {
			t.Errorf("prediction %d = %.9g, Keras %.9g (relative error %.3g > %g)", i, got[i], want[i], r, rel)
		}
		worst = max(worst, r)
	}
	t.Logf("%d predictions, max relative error vs Keras %.3g", len(want), worst)

	summary := mustRun(t, "inspect", model)
	if !strings.Contains(summary, "Total params: ") || !strings.Contains(summary, "Keras version: 3.") {
		t.Errorf("inspect %s:\n%s", model, summary)
	}
}

// TestKerasFilesWithoutPython: with nothing on PATH, `seqcast import`,
// `predict` and `inspect` work on every real Keras file in the repository
// whose layers seqcast supports, with the scaler pickles there, and
// reproduce the numbers Keras computed (the tolerances of
// parity/realworld_test.go).
func TestKerasFilesWithoutPython(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	t.Run("sales-bilstm", func(t *testing.T) {
		raw, shape := readNPY64(t, filepath.Join(salesDir, "npy", "x_test.npy"))
		for _, m := range salesModels {
			t.Run(m, func(t *testing.T) {
				want, _ := readNPY64(t, filepath.Join(salesDir, "npy", "keras_pred_"+m+".npy"))
				keepKerasNumbers(t, filepath.Join(salesDir, m+".keras"), []string{"--window-zscore"}, raw, shape[0], want, 1e-5)
			})
		}
	})
	t.Run("airquality-cnn-bilstm", func(t *testing.T) {
		raw, shape := readNPY64(t, filepath.Join(aqDir, "x_printed_raw.npy"))
		want, _ := readNPY64(t, filepath.Join(aqDir, "keras_printed_predictions.npy"))
		keepKerasNumbers(t, filepath.Join(aqDir, "cnn_bilstm_model.keras"),
			[]string{"--scaler-x", filepath.Join(aqDir, "scaler_X.pkl"), "--scaler-y", filepath.Join(aqDir, "scaler_y.pkl")},
			raw, shape[0], want, 1e-6)
	})
}

// unsupportedLayer names the first layer of a Keras file that the
// default builder table cannot build ("" when every layer is supported):
// the survey files need layers that are being added, so which of them are
// refused follows the table.
func unsupportedLayer(t *testing.T, path string) (class string) {
	t.Helper()
	m, err := kerasfile.ReadFile(path, nil)
	var uc *kerasfile.UnsupportedClassError
	if errors.As(err, &uc) {
		return uc.Class
	}
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Config struct {
			Layers []struct {
				ClassName      string `json:"class_name"`
				RegisteredName string `json:"registered_name"`
			} `json:"layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(m.Config, &top); err != nil {
		t.Fatal(err)
	}
	b := kerasconfig.Default()
	for _, l := range top.Config.Layers {
		key := l.ClassName
		if l.RegisteredName != "" && l.RegisteredName != l.ClassName {
			key = l.RegisteredName
		}
		if _, ok := b[key]; !ok && l.ClassName != "InputLayer" {
			return l.ClassName
		}
	}
	return ""
}

// TestKerasFilesSurvey: the survey files whose layers seqcast cannot build
// (the epidemic transformer's custom PositionalEncoding, as this is
// written; the layers the others needed have been added) are refused by
// import, predict and inspect, naming the file, the layer's class, the
// supported list and package layers (how a program adds a class), and
// nothing is written; those it can build import and
// inspect. Which is which follows the builder table.
func TestKerasFilesSurvey(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	supported := strings.Join(kerasconfig.Default().Classes(), ", ")
	files, _ := filepath.Glob(filepath.Join(surveyDir, "*", "*.*"))
	files = slices.DeleteFunc(files, func(f string) bool { return !strings.HasSuffix(f, ".h5") && !strings.HasSuffix(f, ".keras") })
	if len(files) != 4 {
		t.Fatalf("%d survey Keras files, want 4: %v", len(files), files)
	}
	refused := 0
	for _, path := range files {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			class := unsupportedLayer(t, path)
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if class == "" {
				t.Logf("%s: every layer is supported", path)
				mustRun(t, "import", path, "--out", out)
				mustRun(t, "inspect", path)
				return
			}
			refused++
			x := filepath.Join(dir, "x.npy")
			writeNPY32(t, x, make([]float32, 1), []int{1, 1, 1})
			for _, args := range [][]string{
				{"import", path, "--out", out},
				{"inspect", path},
				{"predict", "--model", path, "--input", x, "--output", filepath.Join(dir, "y.npy")},
			} {
				code, stdout, stderr := noPython(t, args...)
				if code != 1 || stdout != "" || !strings.Contains(stderr, path) || !strings.Contains(stderr, "("+class+")") && !strings.Contains(stderr, "class "+class) ||
					!strings.Contains(stderr, supported) || !strings.Contains(stderr, "github.com/seqcast/seqcast/layers") {
					t.Errorf("seqcast %s: exit %d, stdout %q, stderr:\n%s\nwant exit 1 naming %s, %s, the supported list and package layers",
						args[0], code, stdout, stderr, path, class)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
	t.Logf("%d of %d survey files refused", refused, len(files))
}

// bigH5 writes, with h5py, a Keras 2 .h5 of one Dense(n) on n inputs:
// n*n+n float32 weights.
const bigH5 = `
import h5py, json, sys, numpy as np
n = int(sys.argv[2])
cfg = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, n], "dtype": "float32", "name": "in"}},
    {"class_name": "Dense", "config": {"name": "dense", "units": n, "use_bias": True}}]}}
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["backend"] = "tensorflow"; f.attrs["keras_version"] = "2.4.0"; f.attrs["model_config"] = json.dumps(cfg)
    g = f.create_group("model_weights"); g.attrs["backend"] = "tensorflow"; g.attrs["keras_version"] = "2.4.0"
    g.attrs["layer_names"] = np.array([b"dense"])
    d = g.create_group("dense"); d.attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
    dd = d.create_group("dense")
    dd.create_dataset("kernel:0", data=np.random.default_rng(0).standard_normal((n, n), dtype=np.float32) * 0.01)
    dd.create_dataset("bias:0", data=np.zeros(n, np.float32))
`

// maxRSS runs the binary and returns its peak resident set in bytes.
func maxRSS(t *testing.T, args ...string) int64 {
	t.Helper()
	cmd := exec.Command(seqcastBinary(t), args...)
	cmd.Env = []string{"PATH=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("seqcast %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage")
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// TestKerasFileMemory: importing or inspecting a 100 MB .h5 holds no more
// than loading the same model as a bundle directory does (plus a margin for
// when the collector runs), and a small multiple of its weights.
func TestKerasFileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary, writes 200 MB")
	}
	dir := t.TempDir()
	h5, out := filepath.Join(dir, "big.h5"), filepath.Join(dir, "bundle")
	const n = 5000
	if b, err := exec.Command(python, "-c", bigH5, h5, strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("%s with h5py is needed to write the file: %v\n%s", python, err, b)
	}
	wbytes := int64(4 * (n*n + n))
	imp := maxRSS(t, "import", h5, "--out", out)
	fromFile := maxRSS(t, "inspect", h5)
	fromDir := maxRSS(t, "inspect", out)
	t.Logf("weights %d MB; peak RSS: import %d MB, inspect file %d MB, inspect bundle dir %d MB",
		wbytes>>20, imp>>20, fromFile>>20, fromDir>>20)
	// Measured (2026-12-05, 95 MiB of weights): import and inspect of the
	// file 399 MiB, the bundle directory 302 MiB; before the readers stopped
	// growing buffers by doubling, 635 and 657 MiB. The bounds leave room
	// for the GC's pacing, not for another copy of the weights.
	for what, rss := range map[string]int64{"import": imp, "inspect of the file": fromFile} {
		if rss > fromDir*3/2 || rss > 5*wbytes {
			t.Errorf("%s peaked at %d MB: more than 1.5x the bundle directory's %d MB or 5x the %d MB of weights",
				what, rss>>20, fromDir>>20, wbytes>>20)
		}
	}
	if fromDir > 4*wbytes {
		t.Errorf("inspect of the bundle directory peaked at %d MB: more than 4x the %d MB of weights", fromDir>>20, wbytes>>20)
	}
}
