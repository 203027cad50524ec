package kerasfile_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasfile"
)

// python is the interpreter with numpy and h5py (Debian's python3-h5py);
// the python3 first on PATH may be another one.
const python = "/usr/bin/python3"

// wantUnsupported lists the files (by base name) that hold a layer class
// seqcast cannot map yet, and that class: both readers refuse them, and the
// Go error must name the class.
var wantUnsupported = map[string]string{
	"bad_class_PositionalEncoding.keras": "PositionalEncoding",
}

// mustRead reports whether both readers must read a file (by base name):
// the goldens tools/tests/keras_layouts.py write_golden_files writes as
// Keras files (ConvLSTM2D, ConvLSTM1D, the subsequence CNN-LSTM).
func mustRead(name string) bool {
	return strings.HasPrefix(name, "convlstm") || strings.HasPrefix(name, "timedistributed_cnn_lstm")
}

type pyWeight struct {
	Layer string `json:"layer"`
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	Data  string `json:"data"`
}

type pyRecord struct {
	File         string          `json:"file"`
	OK           bool            `json:"ok"`
	Error        string          `json:"error"`
	Config       json.RawMessage `json:"config"`
	KerasVersion *string         `json:"keras_version"`
	Backend      *string         `json:"backend"`
	Weights      []pyWeight      `json:"weights"`
}

// kerasFiles lists every .h5 and .keras file in the repository, plus those
// in ../shared/fixtures when that folder exists (it does on the development
// machine, not in a user's clone).
func kerasFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	add := func(root string) {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".h5") || strings.HasSuffix(p, ".keras")) {
				abs, err := filepath.Abs(p)
				if err != nil {
					return err
				}
				files = append(files, abs)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add("..")
	if st, err := os.Stat("../../shared/fixtures"); err == nil && st.IsDir() {
		add("../../shared/fixtures")
	}
	return files
}

// TestCrossCheckPython reads every Keras file of the repository, and the
// layouts tools/tests/keras_layouts.py writes, with this package and with
// the Python exporter's reader, and requires the same config, versions and
// bit-identical weight arrays in the same order with the same labels, or a
// refusal from both. A missing /usr/bin/python3 or h5py is a failure (only
// -short, make test-short's mode, leaves it out).
func TestCrossCheckPython(t *testing.T) {
	if testing.Short() {
		t.Skip("-short (make test-short) runs no Python; make test runs this cross-check")
	}
	files := kerasFiles(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := t.TempDir()
	args := append([]string{"testdata/pyread.py", "--layouts", layoutDir}, files...)
	cmd := exec.Command(python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s testdata/pyread.py: %v\n%s\n(the cross-check needs /usr/bin/python3 with numpy and h5py: apt-get install python3-h5py)", python, err, stderr.String())
	}
	var recs []pyRecord
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("pyread.py output: %v", err)
	}
	if len(recs) < len(files)+15 {
		t.Fatalf("pyread.py reported %d files, want at least %d", len(recs), len(files)+15)
	}
	var agreed, refused int
	for _, rec := range recs {
		name := filepath.Base(rec.File)
		rel := rec.File
		switch {
		case strings.HasPrefix(rec.File, layoutDir):
			rel = "layouts/" + name
		case strings.HasPrefix(rec.File, repo):
			rel, _ = filepath.Rel(repo, rec.File)
		}
		t.Run(rel, func(t *testing.T) {
			m, err := kerasfile.ReadFile(rec.File, nil)
			if !rec.OK {
				if mustRead(name) && strings.HasPrefix(rec.File, layoutDir) {
					t.Fatalf("Python refuses a golden's Keras file: %s (Go: %v)", rec.Error, err)
				}
				if err == nil {
					t.Fatalf("Python refuses it (%s), Go read %d weights", rec.Error, len(m.Weights))
				}
				if cls, ok := wantUnsupported[name]; ok {
					var ue *kerasfile.UnsupportedClassError
					if !errors.As(err, &ue) || ue.Class != cls {
						t.Fatalf("want an UnsupportedClassError naming %s, got %v", cls, err)
					}
				}
				t.Logf("both refuse it\n  python: %s\n  go:     %v", rec.Error, err)
				refused++
				return
			}
			if err != nil {
				t.Fatalf("Python reads it, Go: %v", err)
			}
			compare(t, rec, m)
			agreed++
		})
	}
	t.Logf("%d files read identically by both, %d refused by both", agreed, refused)
}

func compare(t *testing.T, rec pyRecord, m *kerasfile.Model) {
	t.Helper()
	var pyCfg, goCfg any
	if err := json.Unmarshal(rec.Config, &pyCfg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(m.Config, &goCfg); err != nil {
		t.Fatalf("Go config is not JSON: %v", err)
	}
	if !reflect.DeepEqual(pyCfg, goCfg) {
		t.Errorf("configs differ")
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if str(rec.KerasVersion) != m.KerasVersion || str(rec.Backend) != m.Backend {
		t.Errorf("keras_version/backend: Python %q/%q, Go %q/%q", str(rec.KerasVersion), str(rec.Backend), m.KerasVersion, m.Backend)
	}
	if len(rec.Weights) != len(m.Weights) {
		t.Fatalf("Python has %d weights, Go %d", len(rec.Weights), len(m.Weights))
	}
	for i, pw := range rec.Weights {
		gw := m.Weights[i]
		if pw.Layer != gw.Layer || pw.Name != gw.Name || !slices.Equal(pw.Shape, gw.Shape) {
			t.Fatalf("weight %d: Python %s %s %v, Go %s %s %v", i, pw.Layer, pw.Name, pw.Shape, gw.Layer, gw.Name, gw.Shape)
		}
		raw, err := base64.StdEncoding.DecodeString(pw.Data)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		switch pw.DType {
		case "<f4":
			if gw.Float64 != nil {
				t.Fatalf("weight %d (%s): Python float32, Go float64", i, pw.Name)
			}
			for _, v := range gw.Data {
				got = binary.LittleEndian.AppendUint32(got, math.Float32bits(v))
			}
		case "<f8":
			if gw.Float64 == nil {
				t.Fatalf("weight %d (%s): Python float64, Go float32", i, pw.Name)
			}
			for _, v := range gw.Float64 {
				got = binary.LittleEndian.AppendUint64(got, math.Float64bits(v))
			}
		}
		if !bytes.Equal(raw, got) {
			t.Fatalf("weight %d (%s %s): arrays differ", i, pw.Layer, pw.Name)
		}
	}
}
