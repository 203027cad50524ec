package bundle

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/weights"
)

const (
	aqDir    = "../parity/testdata/fixtures/airquality-cnn-bilstm"
	aqKeras  = aqDir + "/cnn_bilstm_model.keras"
	aqBundle = aqDir + "/bundles/cnn_bilstm_model"
	salesK   = "../parity/testdata/fixtures/sales-bilstm/nb08_cnn_baseline_80_20.keras"
)

func ptr(f float64) *float64 { return &f }

// TestFromKerasMatchesCommittedBundle: the air-quality bundle in
// parity/testdata was written by tools/export_keras.py (`make fixtures`);
// FromKeras with the same arguments gives the same files, byte for byte,
// hence the same fingerprint as reading that directory, and the bundle
// loads with package weights (self-test included).
func TestFromKerasMatchesCommittedBundle(t *testing.T) {
	b, err := FromKeras(aqKeras, KerasOptions{
		ScalerX: aqDir + "/scaler_X.pkl", ScalerY: aqDir + "/scaler_y.pkl",
		SelfTestInput: aqBundle + "/self_test/input.npy", SelfTestOutput: aqBundle + "/self_test/output.npy",
		Name: "cnn_bilstm_model",
	})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := ReadDir(aqBundle, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Names(), dir.Names()) {
		t.Fatalf("FromKeras made %v, the exporter %v", b.Names(), dir.Names())
	}
	for _, n := range b.Names() {
		x, _ := b.File(n)
		y, _ := dir.File(n)
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs from the exporter's", n)
		}
	}
	if b.Fingerprint() != dir.Fingerprint() {
		t.Errorf("fingerprint %s, the directory's %s", b.Fingerprint(), dir.Fingerprint())
	}
	if b.Origin() != aqKeras {
		t.Errorf("origin %q", b.Origin())
	}
	wb, err := weights.LoadFS(b.FS())
	if err != nil {
		t.Fatal(err)
	}
	if wb.SelfTestError < 0 || wb.Manifest == nil || wb.Manifest.Name != "cnn_bilstm_model" || wb.ScalerJSON == nil {
		t.Errorf("loaded: self-test %v, manifest %+v", wb.SelfTestError, wb.Manifest)
	}
}

// TestFromKerasDefaults: no options gives model.json, weights and a
// manifest named after the file, version 1; the same inputs give the same
// fingerprint.
func TestFromKerasDefaults(t *testing.T) {
	a, err := FromKeras(salesK, KerasOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromKeras(salesK, KerasOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("two reads of the same file differ")
	}
	want := []string{"manifest.json", "model.json", "weights/000.npy", "weights/001.npy", "weights/002.npy",
		"weights/003.npy", "weights/004.npy", "weights/005.npy"}
	if got := a.Names(); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	mf, _ := a.File("manifest.json")
	m, err := weights.ParseManifest(mf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "nb08_cnn_baseline_80_20" || m.Version != "1" || m.KerasVersion != "3.14.0" || m.SelfTest != nil || len(m.Files) != 7 {
		t.Errorf("manifest %+v", m)
	}
	if err := m.VerifyFiles(a.FS()); err != nil {
		t.Error(err)
	}
	mj, _ := a.File("model.json")
	if !bytes.HasSuffix(mj, []byte(`, "keras_version": "3.14.0"}`+"\n")) {
		t.Errorf("model.json ends %q", mj[max(0, len(mj)-80):])
	}
}

func TestStem(t *testing.T) {
	for in, want := range map[string]string{"m.keras": "m", "m.v2.h5": "m.v2", ".keras": ".keras", "..keras": "..keras",
		"model": "model", "._m.h5": "._m", "a.": "a"} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q (os.path.splitext)", in, got, want)
		}
	}
}

// TestFromKerasErrors: what the exporter refuses, FromKeras refuses, with
// a *Error naming the file; an unsupported class is an
// *UnsupportedLayerError naming the layer, the class and the builder
// table's classes.
func TestFromKerasErrors(t *testing.T) {
	dir := t.TempDir()
	nan := filepath.Join(dir, "nan.npy")
	var buf bytes.Buffer
	x := make([]float32, 8)
	x[3] = float32(math.NaN())
	weights.WriteNPY(&buf, x, []int{1, 8, 1})
	os.WriteFile(nan, buf.Bytes(), 0o644)
	good := aqBundle + "/self_test/output.npy"
	notKeras := filepath.Join(dir, "model.keras")
	os.WriteFile(notKeras, []byte("not a model"), 0o644)
	st := KerasOptions{SelfTestInput: aqBundle + "/self_test/input.npy"}
	tests := []struct {
		name string
		file string
		opts KerasOptions
		want string
	}{
		{"exclusive", salesK, KerasOptions{WindowZScore: true, ScalerX: "x.pkl"}, "--window-zscore and --scaler-x/--scaler-y are exclusive"},
		{"self-test half", salesK, st, "--self-test-input and --self-test-output go together"},
		{"window alone", salesK, KerasOptions{Window: 8}, "--window needs --scaler-x/--scaler-y or --window-zscore"},
		{"window", salesK, KerasOptions{WindowZScore: true, Window: 9}, "--window 9 differs from the model's input length 8"},
		{"target feature", salesK, KerasOptions{WindowZScore: true, TargetFeature: 1}, "--target-feature 1: model has 1 input features"},
		{"epsilon", salesK, KerasOptions{WindowZScore: true, Epsilon: ptr(-1)}, "--epsilon must be >= 0"},
		{"epsilon NaN", salesK, KerasOptions{WindowZScore: true, Epsilon: ptr(math.NaN())}, "--epsilon must be >= 0"},
		{"scaler features", salesK, KerasOptions{ScalerX: aqDir + "/scaler_X.pkl"}, "was fitted on 7 features, the model takes 1"},
		{"no pickle", salesK, KerasOptions{ScalerY: filepath.Join(dir, "nope.pkl")}, "--scaler-y: open"},
		{"not a pickle", salesK, KerasOptions{ScalerY: notKeras}, "--scaler-y: " + notKeras},
		{"self-test shape", salesK, KerasOptions{SelfTestInput: aqBundle + "/self_test/input.npy", SelfTestOutput: good},
			"--self-test-input has shape (6, 24, 7), the model takes (N, 8, 1)"},
		{"self-test NaN", salesK, KerasOptions{SelfTestInput: nan, SelfTestOutput: good}, "must hold finite floats (value 3 is NaN)"},
		{"self-test rows", salesK, KerasOptions{SelfTestInput: "../parity/testdata/fixtures/sales-bilstm/bundles/nb08_cnn_baseline_80_20/self_test/input.npy", SelfTestOutput: good},
			"--self-test-output has 6 rows, input has 72"},
		{"tolerance", aqKeras, KerasOptions{SelfTestInput: aqBundle + "/self_test/input.npy", SelfTestOutput: good, SelfTestTolerance: ptr(math.Inf(1))},
			"--self-test-tolerance +Inf must be a finite number >= 0"},
		{"missing", filepath.Join(dir, "nope.h5"), KerasOptions{}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromKeras(tt.file, tt.opts)
			var be *Error
			if !errors.As(err, &be) || be.Origin != tt.file || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v\nwant a *bundle.Error for %s containing %q", err, tt.file, tt.want)
			}
		})
	}

	t.Run("not a Keras file", func(t *testing.T) {
		_, err := FromKeras(notKeras, KerasOptions{})
		var ke *kerasfile.Error
		if !errors.As(err, &ke) || ke.File != notKeras || !strings.Contains(err.Error(), "neither a .keras zip nor an HDF5 file") {
			t.Errorf("got %v, want a *kerasfile.Error naming %s", err, notKeras)
		}
	})

	t.Run("unsupported class", func(t *testing.T) {
		// a program whose tables leave keras-tcn's TCN out
		const tcn = "../kerasfile/testdata/survey/tcn-stock/tcn_model.keras"
		layers, builders := kerasfile.DefaultLayers(), kerasconfig.Default()
		delete(layers, "TCN")
		delete(builders, "TCN")
		delete(builders, "Custom>TCN")
		_, err := FromKeras(tcn, KerasOptions{Keras: &kerasfile.Options{Layers: layers}, Builders: builders})
		var ue *UnsupportedLayerError
		var ke *kerasfile.UnsupportedClassError
		if !errors.As(err, &ue) || !errors.As(err, &ke) {
			t.Fatalf("got %v, want an *UnsupportedLayerError wrapping a *kerasfile.UnsupportedClassError", err)
		}
		if ue.File != tcn || ue.Layer != "tcn" || ue.Class != "TCN" || !slices.Equal(ue.Supported, builders.Classes()) {
			t.Errorf("%+v", ue)
		}
		if !strings.Contains(err.Error(), `layer "tcn" has class TCN, which seqcast does not support (supported: Activation, `) {
			t.Error(err)
		}
	})
}
