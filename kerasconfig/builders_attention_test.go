package kerasconfig

import (
	"errors"
	"strings"
	"testing"
)

// mhaConfig is a Keras 3 functional config with one MultiHeadAttention
// whose options (merged into its config) and call kwargs are given.
func mhaConfig(opts, kwargs string) string {
	return `{"class_name": "Functional", "keras_version": "3.10.0", "config": {"name": "m", "layers": [
 {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_shape": [null, 5, 4]}, "inbound_nodes": []},
 {"class_name": "MultiHeadAttention", "name": "mha", "config": {"name": "mha", "num_heads": 2, "key_dim": 3` + opts + `},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {"value": {"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}` + kwargs + `}}]}],
 "input_layers": ["in", 0, 0], "output_layers": ["mha", 0, 0]}}`
}

// TestAttentionRefusals: every option seqcast cannot run is refused with
// an *Error naming the layer, the option and what is supported.
func TestAttentionRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, opts, kwargs, option, want string
	}{
		{"attention_axes 2", `, "attention_axes": [2]`, "", "attention_axes", "[1]"},
		{"attention_axes two", `, "attention_axes": [1, 2]`, "", "attention_axes", "[1]"},
		{"output_shape 2-D", `, "output_shape": [2, 3]`, "", "output_shape", "one-element list"},
		{"scores", "", `, "return_attention_scores": true`, "call argument return_attention_scores", "false"},
		{"attention_mask tensor", "", `, "attention_mask": {"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}`, "", "supported: value, key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(mhaConfig(tc.opts, tc.kwargs)), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Layer != "mha" || e.Option != tc.option || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("layer %q option %q: %v", e.Layer, e.Option, err)
			}
			if tc.option != "" && !errors.Is(err, ErrUnsupported) {
				t.Errorf("does not wrap ErrUnsupported: %v", err)
			}
		})
	}
	for _, ok := range []string{"", `, "attention_axes": [1]`, `, "attention_axes": -2`, `, "output_shape": 6`} {
		if _, _, err := Parse([]byte(mhaConfig(ok, `, "use_causal_mask": true`)), Options{}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
