package main

import (
	"strings"
	"testing"
)

// TestInspectStateful: inspect names the stateful RNNs of a model saved
// with stateful=True and a fixed batch size, and says each request starts
// from a zero state at any batch size.
func TestInspectStateful(t *testing.T) {
	code, stdout, stderr := runCmd("inspect", "../../parity/testdata/golden/lstm_stateful_batch1_k2_12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Stateful: lstm, gru saved with stateful=True", "zero state", "reset_states()", "any batch size"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	if _, stdout, _ := runCmd("inspect", gold); strings.Contains(stdout, "Stateful") {
		t.Errorf("inspect of a non-stateful model mentions Stateful:\n%s", stdout)
	}
}
