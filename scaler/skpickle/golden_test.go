package skpickle

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/scaler"
)

// The golden pickles and their expected documents are written by
// `/usr/bin/python3 tools/scaler_pickles.py` (see its docstring); the real
// joblib fixtures (scikit-learn 1.6.1, numpy 2) are the parity fixture's.
const fixtureDir = "../../parity/testdata/fixtures/airquality-cnn-bilstm"

var fixtureFiles = map[string]string{
	fixtureDir + "/scaler_X.pkl": "airquality_scaler_X",
	fixtureDir + "/scaler_y.pkl": "airquality_scaler_y",
}

// goldenFiles maps every golden pickle to the name of its expected document.
func goldenFiles(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/pickles/*.pkl")
	if err != nil || len(files) < 100 {
		t.Fatalf("golden pickles missing (%d, %v): run /usr/bin/python3 tools/scaler_pickles.py", len(files), err)
	}
	out := map[string]string{}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".pkl")
		out[f] = base[:strings.Index(base, "-")]
	}
	for f, c := range fixtureFiles {
		out[f] = c
	}
	return out
}

func TestGoldenPickles(t *testing.T) {
	for path, kase := range goldenFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "expected", kase+".json"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			// Byte for byte what Python's json.dumps writes.
			if string(got)+"\n" != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			comp := CompressionNone
			for _, c := range []Compression{CompressionZlib, CompressionGzip, CompressionBz2, CompressionLzma, CompressionXz} {
				if strings.HasSuffix(path, "-joblib-"+string(c)+".pkl") {
					comp = c
				}
			}
			if s.Compression != comp {
				t.Errorf("compression %q, want %q", s.Compression, comp)
			}
			sc, err := s.Scaler()
			if err != nil {
				t.Fatalf("scaler.ParseScaler refuses it: %v", err)
			}
			if sc.Kind() != s.Kind {
				t.Errorf("kind %s, want %s", sc.Kind(), s.Kind)
			}
			if n := s.NumFeatures(); n != s.NFeaturesIn || n <= 0 {
				t.Errorf("NumFeatures %d, n_features_in_ %d", n, s.NFeaturesIn)
			}
		})
	}
}

// TestMarshalIndentMatchesExporter: a scaler.json built around Scalers with
// encoding/json (indent 2, HTML escaping off) is the exporter's file.
func TestMarshalIndentMatchesExporter(t *testing.T) {
	x, err := LoadFile(fixtureDir + "/scaler_X.pkl")
	if err != nil {
		t.Fatal(err)
	}
	y, err := LoadFile(fixtureDir + "/scaler_y.pkl")
	if err != nil {
		t.Fatal(err)
	}
	doc := struct {
		Format string  `json:"format"`
		Window int     `json:"window"`
		Input  *Scaler `json:"input"`
		Output *Scaler `json:"output"`
	}{scaler.Format, 24, x, y}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	code := `import json, sys; sys.path.insert(0, "../../tools")
from seqcast_export import safe_pickle, bundle
d = {"format": bundle.SCALER_FORMAT, "window": 24,
     "input": safe_pickle.load_scaler_json(sys.argv[1]), "output": safe_pickle.load_scaler_json(sys.argv[2])}
sys.stdout.buffer.write(bundle._dump_json(d))`
	out, err := exec.Command(python(t), "-c", code, fixtureDir+"/scaler_X.pkl", fixtureDir+"/scaler_y.pkl").Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	if b.String() != string(out) {
		t.Errorf("Go:\n%s\nPython:\n%s", b.String(), out)
	}
	p, err := scaler.Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(24, 7, 1); err != nil {
		t.Fatal(err)
	}
}

// python finds Debian's interpreter, which the cross-check needs: missing is
// a failure, not a skip.
func python(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s is needed for the cross-check with tools/seqcast_export/safe_pickle.py: %v", py, err)
	}
	return py
}

type pyLine struct {
	Path    string          `json:"path"`
	OK      json.RawMessage `json:"ok"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// runPython returns safe_pickle's verdict on each path.
func runPython(t *testing.T, paths []string) map[string]pyLine {
	t.Helper()
	cmd := exec.Command(python(t), "../../tools/scaler_pickles.py", "--json")
	cmd.Args = append(cmd.Args, paths...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	res := map[string]pyLine{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l pyLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("python line %q: %v", sc.Text(), err)
		}
		res[l.Path] = l
	}
	if len(res) != len(paths) {
		t.Fatalf("python answered for %d of %d files", len(res), len(paths))
	}
	return res
}

// TestPythonCrossCheck runs every golden and hostile file through
// tools/seqcast_export/safe_pickle.py (the exporter's reader) and this
// package: equal documents, or both refusing. The one accepted difference
// is MaxAbsScaler, which safe_pickle refuses as an unknown global.
func TestPythonCrossCheck(t *testing.T) {
	var paths []string
	for p := range goldenFiles(t) {
		paths = append(paths, p)
	}
	hostile, _ := filepath.Glob("testdata/hostile/*.pkl")
	paths = append(paths, hostile...)
	py := runPython(t, paths)
	for _, p := range paths {
		l := py[p]
		s, err := LoadFile(p)
		switch {
		case err == nil && l.OK != nil:
			got, _ := s.MarshalJSON()
			var a, b any
			if json.Unmarshal(got, &a) != nil || json.Unmarshal(l.OK, &b) != nil || !reflect.DeepEqual(a, b) {
				t.Errorf("%s: Go %s\nPython %s", p, got, l.OK)
			}
		case err == nil && s.Class == "MaxAbsScaler" && l.Error == "UnsafePickleError" &&
			strings.Contains(l.Message, "sklearn.preprocessing._data.MaxAbsScaler"):
		case err == nil:
			t.Errorf("%s: Go reads it, Python refuses: %s: %s", p, l.Error, l.Message)
		case l.OK != nil:
			t.Errorf("%s: Python reads it, Go refuses: %v", p, err)
		default:
			var ue *UnsafeError
			if l.Error == "UnsafePickleError" && (!errors.As(err, &ue) || !strings.Contains(l.Message, ue.Global())) {
				t.Errorf("%s: Python %s, Go %v", p, l.Message, err)
			}
		}
	}
}

// BenchmarkLoad: reading the real fixture pickles (joblib, uncompressed)
// and an xz-compressed golden file.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{fixtureDir + "/scaler_X.pkl", "testdata/pickles/standard_feature_names-joblib-xz.pkl"} {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
