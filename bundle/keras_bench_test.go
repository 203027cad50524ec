package bundle

import (
	"testing"

	"github.com/seqcast/seqcast/weights"
)

// Loading a Keras file costs about what loading the same model as a bundle
// directory costs:
//
//	go test -run '^$' -bench Load -benchmem ./bundle/
//
// on the air-quality Conv1D/Bi-LSTM fixture (Keras 3 .keras, 37,169
// parameters) and the bundle tools/export_keras.py made from it. Both build
// the network with weights.LoadFS; the bundle directory also runs its
// self-test, so BenchmarkLoadKerasFile is given the same self-test.
const (
	benchKeras  = "../parity/testdata/fixtures/airquality-cnn-bilstm/cnn_bilstm_model.keras"
	benchBundle = "../parity/testdata/fixtures/airquality-cnn-bilstm/bundles/cnn_bilstm_model"
)

func BenchmarkLoadKerasFile(b *testing.B) {
	opts := KerasOptions{
		ScalerX:        "../parity/testdata/fixtures/airquality-cnn-bilstm/scaler_X.pkl",
		ScalerY:        "../parity/testdata/fixtures/airquality-cnn-bilstm/scaler_y.pkl",
		SelfTestInput:  benchBundle + "/self_test/input.npy",
		SelfTestOutput: benchBundle + "/self_test/output.npy",
	}
	for b.Loop() {
		bu, err := FromKeras(benchKeras, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := weights.LoadFS(bu.FS()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadBundleDir(b *testing.B) {
	for b.Loop() {
		bu, err := ReadDir(benchBundle, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := weights.LoadFS(bu.FS()); err != nil {
			b.Fatal(err)
		}
	}
}
