package weights

import (
	"errors"
	"os"
	"testing"
)

// TestSelfTestMultiIO: a manifest self_test (one input .npy, one output
// .npy) cannot describe a model with several inputs or outputs; it is
// refused, by a typed error, rather than run against the first ones.
func TestSelfTestMultiIO(t *testing.T) {
	dir := "../parity/testdata/golden/multi_io_two_lstm_k3"
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Model.MultiIO() || len(b.Info.InputNames) != 2 || len(b.Info.OutputNames) != 2 {
		t.Fatalf("MultiIO %v, inputs %q, outputs %q", b.Model.MultiIO(), b.Info.InputNames, b.Info.OutputNames)
	}
	st := &SelfTest{Input: "input_0.npy", Output: "expected_0.npy"}
	if _, err := st.Run(os.DirFS(dir), b.Model); !errors.Is(err, ErrSelfTestMultiIO) {
		t.Errorf("self-test of a multi-IO model: %v, want ErrSelfTestMultiIO", err)
	}
}
