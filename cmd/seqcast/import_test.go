package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportUsage(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(salesDir, salesModels[0]+".keras")
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"--out", out}, 2, "give one Keras .h5 or .keras file"},
		{"two files", []string{m, m, "--out", out}, 2, "give one Keras .h5 or .keras file"},
		{"no out", []string{m}, 2, "--out is required"},
		{"exclusive", []string{m, "--out", out, "--window-zscore", "--scaler-x", "x.pkl"}, 2, "--window-zscore and --scaler-x/--scaler-y are exclusive"},
		{"epsilon alone", []string{m, "--out", out, "--epsilon", "0.1"}, 2, "--epsilon and --target-feature need --window-zscore"},
		{"self-test half", []string{m, "--out", out, "--self-test-output", "y.npy"}, 2, "--self-test-input and --self-test-output go together"},
		{"tolerance alone", []string{m, "--out", out, "--self-test-tolerance", "1"}, 2, "--self-test-tolerance needs"},
		{"window", []string{m, "--out", out, "--window-zscore", "--window", "0"}, 2, "--window must be positive"},
		{"bad flag", []string{m, "--nope"}, 2, "flag provided but not defined"},
		{"a directory", []string{salesDir, "--out", out}, 1, "is a directory; give a Keras .h5 or .keras file"},
		{"missing", []string{filepath.Join(dir, "nope.keras"), "--out", out}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(append([]string{"import"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestImportForce: an existing bundle is replaced only with --force, and a
// directory that is not a bundle never.
func TestImportForce(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(salesDir, salesModels[0]+".keras")
	out := filepath.Join(dir, "out")
	if code, stdout, stderr := runCmd("import", m, "--out", out, "--window-zscore"); code != 0 || !strings.Contains(stdout, "6 weight arrays, 353 parameters, 9 files") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCmd("import", m, "--out", out); code != 1 || !strings.Contains(stderr, "use --force") {
		t.Errorf("second import: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCmd("import", "--force", m, "--out", out); code != 0 {
		t.Errorf("--force: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "scaler.json")); err == nil {
		t.Error("the replaced bundle kept scaler.json")
	}
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o755)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if code, _, stderr := runCmd("import", m, "--out", other, "--force"); code != 1 || !strings.Contains(stderr, "does not look like a bundle") {
		t.Errorf("non-bundle --out: exit %d, %s", code, stderr)
	}
}
