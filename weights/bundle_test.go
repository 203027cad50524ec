package weights

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/seqcast/seqcast/kerasconfig"
)

const goldDir = "../testdata/bench/gold"

// TestLoadGold loads the gold bundle and matches TF.js's outputs.
func TestLoadGold(t *testing.T) {
	b, err := Load(goldDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Model.ParamCount(); got != 108577 {
		t.Errorf("ParamCount = %d, want 108577", got)
	}
	if b.KerasVersion != "2.15.0" || b.Info.Dialect != kerasconfig.DialectKeras213 || b.Manifest != nil || b.SelfTestError != -1 {
		t.Errorf("bundle = %+v", b)
	}
	if len(b.Files) != 19 || b.Files[0] != "model.json" || b.Files[18] != "weights/017.npy" {
		t.Errorf("Files = %v", b.Files)
	}
	checkGoldOutputs(t, b)
}

func checkGoldOutputs(t *testing.T, b *Bundle) {
	t.Helper()
	x, xs := readTestNPY(t, filepath.Join(goldDir, "input.npy"))
	want, ws := readTestNPY(t, filepath.Join(goldDir, "expected.npy"))
	got, err := b.Model.Predict(x, xs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || ws[0] != xs[0] {
		t.Fatalf("got %d outputs, want %d", len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i] - want[i]))
		worst = max(worst, d)
		if d > 1e-5+1e-5*math.Abs(float64(want[i])) {
			t.Errorf("output %d = %v, want %v (|err| %.3g)", i, got[i], want[i], d)
		}
	}
	t.Logf("max |err| vs TF.js = %.3g", worst)
}

// TestLoadKeras3Bundles loads real Keras 3.14 models whose manifests carry a
// self-test made of Keras's own predictions.
func TestLoadKeras3Bundles(t *testing.T) {
	for _, dir := range []string{"testdata/keras3-sales-bilstm", "testdata/keras3-sales-cnn"} {
		t.Run(dir, func(t *testing.T) {
			b, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !b.Info.Keras3 || b.KerasVersion != "3.14.0" || b.Manifest == nil || b.Manifest.Name != filepath.Base(dir) {
				t.Errorf("bundle = %+v", b)
			}
			if b.SelfTestError < 0 || b.SelfTestError > 1e-5 {
				t.Errorf("SelfTestError = %g, want within 1e-5", b.SelfTestError)
			}
		})
	}
}

// TestLoadFS loads the gold bundle from an fs.FS, also with float64 and
// Fortran-order weight files, which numpy may write.
func TestLoadFS(t *testing.T) {
	fsys := goldFS(t)
	b, err := LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	checkGoldOutputs(t, b)

	// weights/008.npy as float64 in Fortran order: same model.
	w, shape := readTestNPY(t, filepath.Join(goldDir, "weights/008.npy"))
	var payload bytes.Buffer
	for c := 0; c < shape[1]; c++ {
		for r := 0; r < shape[0]; r++ {
			binary.Write(&payload, binary.LittleEndian, float64(w[r*shape[1]+c]))
		}
	}
	fsys["weights/008.npy"] = &fstest.MapFile{Data: rawNPY("<f8", true, shape, payload.Bytes())}
	b, err = LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	checkGoldOutputs(t, b)
}

// TestLoadErrors breaks the gold bundle one way at a time.
func TestLoadErrors(t *testing.T) {
	x, _ := os.ReadFile(filepath.Join(goldDir, "input.npy"))
	expected, _ := os.ReadFile(filepath.Join(goldDir, "expected.npy"))
	off := func() []byte { // expected.npy with one output off by 0.01
		want, shape := readTestNPY(t, filepath.Join(goldDir, "expected.npy"))
		want[5] += 0.01
		var buf bytes.Buffer
		if err := WriteNPY(&buf, want, shape); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()
	transposed := func() []byte {
		w, s := readTestNPY(t, filepath.Join(goldDir, "weights/009.npy"))
		tr := make([]float32, len(w))
		for r := 0; r < s[0]; r++ {
			for c := 0; c < s[1]; c++ {
				tr[c*s[0]+r] = w[r*s[1]+c]
			}
		}
		var buf bytes.Buffer
		WriteNPY(&buf, tr, []int{s[1], s[0]})
		return buf.Bytes()
	}()
	manifest := func(extra string) []byte {
		return []byte(`{"name":"gold","version":"1"` + extra + `}`)
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	modelJSON, _ := os.ReadFile(filepath.Join(goldDir, "model.json"))

	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		is     error
		want   string
	}{
		{"transposed weight", func(f fstest.MapFS) { f["weights/009.npy"].Data = transposed }, nil,
			`weights: layer "bidirectional_1" recurrent_kernel (weights/009.npy): want (32, 128), got (128, 32)`},
		{"missing weight", func(f fstest.MapFS) { delete(f, "weights/017.npy") }, nil,
			`weights/017.npy is missing: array 17 is layer "dense_1" bias (1,) (the model needs 18 arrays, found 17 files)`},
		{"extra weight", func(f fstest.MapFS) { f["weights/018.npy"] = f["weights/017.npy"] }, nil,
			"weights/018.npy: the model needs only 18 weight arrays"},
		{"duplicate index", func(f fstest.MapFS) { f["weights/17.npy"] = f["weights/017.npy"] }, nil, "both hold array 17"},
		{"bad name", func(f fstest.MapFS) { f["weights/kernel.npy"] = f["weights/017.npy"] }, nil, "weights/kernel.npy: the name is not an array index"},
		{"no weights dir", func(f fstest.MapFS) {
			for k := range f {
				if strings.HasPrefix(k, "weights/") {
					delete(f, k)
				}
			}
		}, fs.ErrNotExist, "weights/"},
		{"int weights", func(f fstest.MapFS) { f["weights/001.npy"].Data = rawNPY("<i8", false, []int{64}, make([]byte, 64*8)) }, nil,
			`layer "conv1d" bias (weights/001.npy): npy: dtype <i8 is not supported`},
		{"nan weight", func(f fstest.MapFS) {
			f["weights/017.npy"].Data = rawNPY("<f4", false, []int{1}, f32bytes(binary.LittleEndian, float32(math.NaN())))
		}, nil, `layer "dense_1" bias (weights/017.npy): value 0 of (1,) is NaN`},
		{"inf weight", func(f fstest.MapFS) {
			f["weights/017.npy"].Data = rawNPY("<f8", false, []int{1}, f64bytes(binary.LittleEndian, 1e300))
		}, nil, `(weights/017.npy): value 0 of (1,) is +Inf`},
		{"truncated weight", func(f fstest.MapFS) { d := f["weights/016.npy"].Data; f["weights/016.npy"].Data = d[:len(d)-8] }, nil,
			`layer "dense_1" kernel (weights/016.npy): npy: truncated`},
		{"no model.json", func(f fstest.MapFS) { delete(f, "model.json") }, nil, "model.json is missing"},
		{"unsupported layer", func(f fstest.MapFS) {
			f["model.json"].Data = bytes.Replace(modelJSON, []byte(`"class_name": "Dropout"`), []byte(`"class_name": "Lambda"`), 1)
		}, ErrUnsupported, `model.json: model config: layer "dropout" (Lambda): class Lambda is not supported (supported: Activation, `},
		{"checksum", func(f fstest.MapFS) {
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"files":{"model.json":"` + sum(modelJSON) + `","weights/003.npy":"` + sum([]byte("x")) + `"}`)}
		}, ErrChecksum, "weights/003.npy: checksum mismatch: manifest.json says sha256 2d711642"},
		{"listed file missing", func(f fstest.MapFS) {
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"files":{"scaler.json":"` + sum(nil) + `"}`)}
		}, fs.ErrNotExist, "manifest.json lists scaler.json"},
		{"manifest path escapes", func(f fstest.MapFS) {
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"files":{"../x":"` + sum(nil) + `"}`)}
		}, nil, `"../x" is not a clean relative path`},
		{"self-test refused", func(f fstest.MapFS) {
			f["st/x.npy"] = &fstest.MapFile{Data: x}
			f["st/y.npy"] = &fstest.MapFile{Data: off}
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"self_test":{"input":"st/x.npy","output":"st/y.npy"}`)}
		}, ErrSelfTest, "refusing the model: self-test failed: max |model - st/y.npy| = 0.01 at element 5"},
		{"self-test wrong shape", func(f fstest.MapFS) {
			f["st/x.npy"] = &fstest.MapFile{Data: expected}
			f["st/y.npy"] = &fstest.MapFile{Data: expected}
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"self_test":{"input":"st/x.npy","output":"st/y.npy"}`)}
		}, nil, "self_test: input st/x.npy: shape (64, 1), want (N, 60, 1)"},
		{"bad tolerance", func(f fstest.MapFS) {
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"self_test":{"input":"a","output":"b","tolerance":-1}`)}
		}, nil, "tolerance -1 must be"},
		{"manifest version contradicts", func(f fstest.MapFS) {
			f["manifest.json"] = &fstest.MapFile{Data: manifest(`,"keras_version":"3.2.0"`)}
		}, nil, "contradicts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := goldFS(t)
			tt.mutate(fsys)
			_, err := LoadFS(fsys)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if ce := (*kerasconfig.Error)(nil); errors.As(err, &ce) && ce.File != "model.json" {
				t.Errorf("config error names file %q, want model.json", ce.File)
			}
		})
	}
}

// TestSelfTestPasses runs a self-test with a tolerance and checksums that hold.
func TestSelfTestPasses(t *testing.T) {
	fsys := goldFS(t)
	fsys["scaler.json"] = &fstest.MapFile{Data: []byte(`{"format":"seqcast-scaler/1"}`)}
	sum := func(name string) string { s := sha256.Sum256(fsys[name].Data); return hex.EncodeToString(s[:]) }
	fsys["manifest.json"] = &fstest.MapFile{Data: []byte(`{"name":"gold","version":"7","keras_version":"2.15.0",
		"files":{"model.json":"` + strings.ToUpper(sum("model.json")) + `","weights/009.npy":"` + sum("weights/009.npy") + `"},
		"self_test":{"input":"input.npy","output":"expected.npy","tolerance":1e-5},"exported_by":"test"}`)}
	b, err := LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if b.SelfTestError < 0 || b.SelfTestError > 1e-5 || b.Manifest.Version != "7" || b.Manifest.SelfTest.Tol() != 1e-5 {
		t.Errorf("bundle %+v, manifest %+v", b, b.Manifest)
	}
	if string(b.ScalerJSON) != `{"format":"seqcast-scaler/1"}` {
		t.Errorf("ScalerJSON = %q", b.ScalerJSON)
	}
	for _, f := range []string{"expected.npy", "input.npy", "manifest.json", "scaler.json"} {
		found := false
		for _, g := range b.Files {
			found = found || g == f
		}
		if !found {
			t.Errorf("Files %v lacks %s", b.Files, f)
		}
	}
}

// TestLoadNamesDir checks that Load's errors carry the bundle directory.
func TestLoadNamesDir(t *testing.T) {
	dir := t.TempDir()
	for name, f := range goldFS(t) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, "weights", "005.npy"))
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "weights: bundle "+dir+": "+filepath.Join(dir, "weights", "005.npy")+" is missing") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v", err)
	}
}

// goldFS is the gold bundle in memory, for tests to break.
func goldFS(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(goldDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(goldDir, p))
		fsys[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func readTestNPY(t testing.TB, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, shape, err := ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	return data, shape
}

func BenchmarkLoadGold(b *testing.B) {
	fsys := goldFS(b)
	for b.Loop() {
		if _, err := LoadFS(fsys); err != nil {
			b.Fatal(err)
		}
	}
}
