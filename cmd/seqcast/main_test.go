package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/weights"
)

const gold = "../../testdata/bench/gold"

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestPredictRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "y.npy")
	code, _, stderr := runCmd("predict", "--model", gold, "--input", filepath.Join(gold, "input.npy"), "--output", out, "--batch", "7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, gs := readNPY(t, out)
	want, ws := readNPY(t, filepath.Join(gold, "expected.npy"))
	if weights.FormatShape(gs) != weights.FormatShape(ws) {
		t.Fatalf("output shape %v, want %v", gs, ws)
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5+1e-5*math.Abs(float64(want[i])) {
			t.Errorf("output %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestPredictEmptyAndStdout(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.npy")
	f, _ := os.Create(empty)
	weights.WriteNPY(f, nil, []int{0, 60, 1})
	f.Close()
	code, stdout, stderr := runCmd("predict", "--model", gold, "--input", empty, "--output", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	y, s, err := weights.ReadNPY(strings.NewReader(stdout))
	if err != nil || len(y) != 0 || weights.FormatShape(s) != "(0, 1)" {
		t.Errorf("stdout holds %v %v (%v)", y, s, err)
	}
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong.npy")
	f, err := os.Create(wrong)
	if err != nil {
		t.Fatal(err)
	}
	weights.WriteNPY(f, make([]float32, 4*60*2), []int{4, 60, 2})
	f.Close()
	nan := filepath.Join(dir, "nan.npy")
	f, _ = os.Create(nan)
	x := make([]float32, 60)
	x[7] = float32(math.NaN())
	weights.WriteNPY(f, x, []int{1, 60, 1})
	f.Close()
	out := filepath.Join(dir, "y.npy")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong shape", []string{"--model", gold, "--input", wrong, "--output", out}, 1,
			"seqcast predict: input " + wrong + " has shape (4, 60, 2); the model wants (N, 60, 1)"},
		{"nan input", []string{"--model", gold, "--input", nan, "--output", out}, 1, "value 7 is NaN"},
		{"no such input", []string{"--model", gold, "--input", filepath.Join(dir, "nope.npy"), "--output", out}, 1, "nope.npy"},
		{"no such model", []string{"--model", dir, "--input", nan, "--output", out}, 1, "model.json is missing"},
		{"missing flags", []string{"--model", gold}, 2, "required"},
		{"bad flag", []string{"--nope"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(append([]string{"predict"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and %q", code, stderr, stdout, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	code, stdout, stderr := runCmd("inspect", gold)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Total params: 108,577\n",
		" Layer (type)                      Output Shape      Param #\n",
		" bidirectional_1 (Bidirectional)   (None, 64)        41,216\n",
		" conv1d (Conv1D)                   (None, 58, 64)    256\n",
		"Input shape: (None, 60, 1)\n",
		"Keras version: 2.15.0",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := runCmd("inspect"); code != 2 || !strings.Contains(stderr, "Usage") {
		t.Errorf("inspect without DIR: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCmd("inspect", t.TempDir()); code != 1 || !strings.Contains(stderr, "model.json is missing") {
		t.Errorf("inspect of an empty dir: exit %d, %q", code, stderr)
	}
}

// TestInspectFunctional shows the "Connected to" column of a branching model.
func TestInspectFunctional(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../kerasconfig/testdata/configs/keras3_functional.json")
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := kerasconfig.Parse(data, kerasconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.json"), data, 0o644)
	os.Mkdir(filepath.Join(dir, "weights"), 0o755)
	for i, r := range m.Weights() {
		f, _ := os.Create(filepath.Join(dir, "weights", fmt.Sprintf("%03d.npy", i)))
		vals := make([]float32, r.Shape.Size())
		for j := range vals {
			vals[j] = float32(j%7) * 0.01
		}
		weights.WriteNPY(f, vals, r.Shape)
		f.Close()
	}
	code, stdout, stderr := runCmd("inspect", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Log("\n" + stdout)
	for _, want := range []string{"Connected to", "bidirectional, global_average_pooling1d", "Total params: 1,697", "Keras 3 semantics: true"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestDispatch(t *testing.T) {
	if code, _, stderr := runCmd(); code != 2 || !strings.Contains(stderr, "Commands:") {
		t.Errorf("no args: exit %d, %q", code, stderr)
	}
	if code, stdout, _ := runCmd("--help"); code != 0 || !strings.Contains(stdout, "predict") {
		t.Errorf("--help: exit %d, %q", code, stdout)
	}
	if code, _, stderr := runCmd("frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown: exit %d, %q", code, stderr)
	}
	if code, stdout, _ := runCmd("version"); code != 0 || !strings.HasPrefix(stdout, "seqcast ") || !strings.Contains(stdout, "commit: ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

// TestVersion checks what `seqcast version` prints from the variables the
// Makefile sets with -ldflags -X, and that the Makefile names them right.
// (Building the binary here would compile every dependency of serve.)
func TestVersion(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v9.8.7", "abc1234", "2026-01-02T03:04:05Z"
	code, stdout, _ := runCmd("version")
	if want := "seqcast v9.8.7\ncommit: abc1234\ndate: 2026-01-02T03:04:05Z\ngo: "; code != 0 || !strings.HasPrefix(stdout, want) {
		t.Errorf("version: exit %d, printed %q, want prefix %q", code, stdout, want)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal("no Makefile:", err)
	}
	for _, v := range []string{"-X main.version=", "-X main.commit=", "-X main.date="} {
		if !bytes.Contains(mk, []byte(v)) {
			t.Errorf("Makefile does not set %s", v)
		}
	}
}

func readNPY(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, s, err := weights.ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	return x, s
}
