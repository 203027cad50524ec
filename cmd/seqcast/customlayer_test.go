package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasconfig"
)

// TestServeRefusesCustomLayer: the stock binary, which knows only the
// built-in layers, refuses to serve the epidemic transformer (its first
// layer is the author's own PositionalEncoding): exit 1, and the log names
// the class, the supported list and the API through which a program adds
// the layer (package layers; examples/positional's epidemic-server serves
// the same file).
func TestServeRefusesCustomLayer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	path := filepath.Join(surveyDir, "epidemic-transformer", "transformer_model_optimized.keras")
	code, stdout, _ := noPython(t, "serve", "--model", path, "--addr", "127.0.0.1:0", "--log-format", "json")
	var msg string
	for _, l := range strings.Split(stdout, "\n") { // the log: stdout (--log-output)
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "serve failed" {
			msg, _ = m["err"].(string)
		}
	}
	supported := strings.Join(kerasconfig.Default().Classes(), ", ")
	for _, want := range []string{path, `"positional_encoding_7" (PositionalEncoding)`, "class PositionalEncoding is not supported",
		"(supported: " + supported + ")", "package github.com/seqcast/seqcast/layers", "docs/byo-model.md"} {
		if code != 1 || !strings.Contains(msg, want) {
			t.Fatalf("seqcast serve: exit %d, want 1 with a \"serve failed\" error containing %q; log:\n%s", code, want, stdout)
		}
	}
	t.Logf("%s", msg)
}
