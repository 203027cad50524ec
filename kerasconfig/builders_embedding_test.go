package kerasconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// embeddingGraph is a retail forecaster in one of the three dialects: a
// numeric window (6, 2) into an LSTM, a store id (1,) of dtype idType into
// Embedding (extra merged into its config) and Flatten, both concatenated
// into a Dense. idInto is the layer the ids feed ("emb", or "cat" to feed
// the ids straight into the Concatenate).
func embeddingGraph(dialect Dialect, idType, extra, idInto string) string {
	type layer struct {
		name, class, cfg string
		in               []string
	}
	layers := []layer{
		{"lstm", "LSTM", `"units":3`, []string{"window"}},
		{"emb", "Embedding", `"input_dim":7,"output_dim":4` + extra, []string{"store"}},
		{"flat", "Flatten", ``, []string{"emb"}},
		{"cat", "Concatenate", `"axis":-1`, []string{"lstm", "flat"}},
		{"out", "Dense", `"units":1`, []string{"cat"}},
	}
	if idInto == "cat" {
		layers[3].in = []string{"lstm", "flat", "store"}
	}
	shape := "batch_input_shape"
	if dialect == DialectKeras3 {
		shape = "batch_shape"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"class_name":"Functional","config":{"name":"f","layers":[`+
		`{"class_name":"InputLayer","name":"window","config":{"name":"window","%s":[null,6,2],"dtype":"float32"},"inbound_nodes":[]},`+
		`{"class_name":"InputLayer","name":"store","config":{"name":"store","%s":[null,1],"dtype":%q},"inbound_nodes":[]}`, shape, shape, idType)
	for _, l := range layers {
		writeGraphLayer(&b, dialect, l.name, l.class, l.cfg, l.in)
	}
	b.WriteString(`],"input_layers":[["window",0,0],["store",0,0]],"output_layers":[["out",0,0]]}`)
	if dialect == DialectKeras3 {
		b.WriteString(`,"keras_version":"3.10.0"`)
	}
	b.WriteString(`}`)
	return b.String()
}

// TestEmbeddingGraph builds the two-input forecaster in the three dialects,
// with the id input float32, int32 or int64, and the options Keras writes
// that seqcast ignores.
func TestEmbeddingGraph(t *testing.T) {
	extra := `,"embeddings_initializer":{"class_name":"RandomUniform","config":{"minval":-0.05,"maxval":0.05}},` +
		`"embeddings_regularizer":null,"activity_regularizer":null,"embeddings_constraint":null,"mask_zero":false,"input_length":1`
	for _, d := range []Dialect{DialectKeras2, DialectKeras213, DialectKeras3} {
		for _, dt := range []string{"float32", "int32", "int64"} {
			t.Run(string(d)+"/"+dt, func(t *testing.T) {
				cfg := extra
				if d == DialectKeras3 {
					cfg = strings.Replace(extra, `"input_length":1`, `"sparse":false,"lora_rank":null`, 1)
				}
				m, info, err := Parse([]byte(embeddingGraph(d, dt, cfg, "emb")), Options{})
				if err != nil {
					t.Fatal(err)
				}
				if info.Dialect != d || len(info.InputNames) != 2 || info.InputNames[1] != "store" {
					t.Errorf("dialect %s, inputs %q", info.Dialect, info.InputNames)
				}
				if !m.OutputShape().Equal(nn.Shape{1}) {
					t.Errorf("output shape %v", m.OutputShape())
				}
				var emb *nn.Embedding
				for i, nd := range m.Nodes() {
					if e, ok := nd.Layer.(*nn.Embedding); ok {
						emb = e
						if !m.NodeShape(i).Equal(nn.Shape{1, 4}) || nd.Inputs[0] != nn.InputAt(1) {
							t.Errorf("embedding output %v, inputs %v", m.NodeShape(i), nd.Inputs)
						}
					}
				}
				if emb == nil || emb.InputDim != 7 || emb.OutputDim != 4 || len(emb.Weights()) != 1 ||
					!emb.Weights()[0].Shape.Equal(nn.Shape{7, 4}) || emb.Weights()[0].Name != "embeddings" {
					t.Fatalf("embedding %+v", emb)
				}
			})
		}
	}
}

// TestEmbeddingRefusals: what seqcast does not run is an *Error naming the
// layer (and the option).
func TestEmbeddingRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, idType, extra, idInto string
		layer, option, want         string
		unsupported                 bool
	}{
		{"sparse", "float32", `,"sparse":true`, "emb", "emb", "sparse", "false", true},
		{"lora_rank", "float32", `,"lora_rank":4,"lora_alpha":4`, "emb", "emb", "lora_rank", "null", true},
		{"quantized", "float32", `,"quantization_config":{"mode":"int8"}`, "emb", "emb", "quantization_config", "null", true},
		{"input_dim_zero", "float32", `,"input_dim":0`, "emb", "emb", "input_dim", "positive", false},
		{"int_input_into_concatenate", "int32", ``, "cat", "cat", "", "integer input store", true},
		{"int8_input", "int8", ``, "emb", "store", "dtype", "float32", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := embeddingGraph(DialectKeras3, tc.idType, tc.extra, tc.idInto)
			if tc.name == "input_dim_zero" {
				js = strings.Replace(js, `"input_dim":7,"output_dim":4,"input_dim":0`, `"input_dim":0,"output_dim":4`, 1)
			}
			_, _, err := Parse([]byte(js), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Layer != tc.layer || e.Option != tc.option || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("layer %q option %q: %v", e.Layer, e.Option, err)
			}
			if errors.Is(err, ErrUnsupported) != tc.unsupported {
				t.Errorf("wraps ErrUnsupported: %v, want %v (%v)", errors.Is(err, ErrUnsupported), tc.unsupported, err)
			}
		})
	}
	t.Run("missing_output_dim", func(t *testing.T) {
		_, _, err := Parse([]byte(seq(`{"class_name":"Embedding","config":{"name":"e","input_dim":3}}`)), Options{})
		var e *Error
		if !errors.As(err, &e) || e.Layer != "e" || !strings.Contains(err.Error(), "output_dim") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("time_distributed", func(t *testing.T) {
		_, _, err := Parse([]byte(seq(`{"class_name":"TimeDistributed","config":{"name":"td","layer":{"class_name":"Embedding","config":{"name":"e","input_dim":3,"output_dim":2}}}}`)), Options{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `"td"`) || !strings.Contains(err.Error(), "TimeDistributed(Embedding)") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("mask_zero_2d_input", func(t *testing.T) {
		_, _, err := Parse([]byte(seq(`{"class_name":"Embedding","config":{"name":"e","input_dim":3,"output_dim":2,"mask_zero":true}}`)), Options{})
		if err == nil || !strings.Contains(err.Error(), `"e"`) || !strings.Contains(err.Error(), "mask_zero=true needs a (timesteps,) input") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("after_another_layer", func(t *testing.T) {
		_, _, err := Parse([]byte(seq(`{"class_name":"Flatten","config":{"name":"f"}}`, `{"class_name":"Embedding","config":{"name":"e","input_dim":3,"output_dim":2}}`)), Options{})
		if err == nil || !strings.Contains(err.Error(), `"e"`) || !strings.Contains(err.Error(), `"f"`) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestEmbeddingSequential: Keras 2's Sequential with the Embedding first
// (batch_input_shape and input_length on the layer) builds a (T,) id input.
func TestEmbeddingSequential(t *testing.T) {
	js := `{"class_name":"Sequential","config":{"name":"s","layers":[` +
		`{"class_name":"Embedding","config":{"name":"e","batch_input_shape":[null,5],"dtype":"float32","input_dim":9,"output_dim":3,"input_length":5}},` +
		`{"class_name":"LSTM","config":{"name":"l","units":2}}]}}`
	m := mustParse(t, js, "2.12.0")
	if !m.InputShape().Equal(nn.Shape{5}) || !m.NodeShape(0).Equal(nn.Shape{5, 3}) || !m.OutputShape().Equal(nn.Shape{2}) {
		t.Fatalf("input %v, embedding %v, output %v", m.InputShape(), m.NodeShape(0), m.OutputShape())
	}
}

// writeGraphLayer writes ",{layer}" of a Functional config in a dialect:
// class, name, config options cfg (without braces) and its inbound layers.
func writeGraphLayer(b *strings.Builder, dialect Dialect, name, class, cfg string, in []string) {
	var ins []string
	for _, l := range in {
		if dialect == DialectKeras3 {
			ins = append(ins, `{"class_name":"__keras_tensor__","config":{"shape":[null,1],"dtype":"float32","keras_history":["`+l+`",0,0]}}`)
		} else {
			ins = append(ins, `["`+l+`",0,0,{}]`)
		}
	}
	inbound := `[[` + strings.Join(ins, ",") + `]]`
	switch {
	case dialect == DialectKeras3 && len(ins) == 1:
		inbound = `[{"args":[` + ins[0] + `],"kwargs":{}}]`
	case dialect == DialectKeras3:
		inbound = `[{"args":[[` + strings.Join(ins, ",") + `]],"kwargs":{}}]`
	}
	module := ""
	if dialect == DialectKeras213 {
		module = `"module":"keras.layers","registered_name":null,`
	}
	if cfg != "" {
		cfg = "," + cfg
	}
	fmt.Fprintf(b, `,{%s"class_name":%q,"name":%q,"config":{"name":%q%s},"inbound_nodes":%s}`, module, class, name, name, cfg, inbound)
}

// TestEmbeddingMaskZero: mask_zero=true builds an nn.EmbeddingMaskZero whose
// mask the LSTM reads; in Keras 2.3 a mask reaching Flatten is refused as
// Keras refused it.
func TestEmbeddingMaskZero(t *testing.T) {
	js := `{"class_name":"Sequential","config":{"name":"s","layers":[` +
		`{"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,5],"dtype":"float32"}},` +
		`{"class_name":"Embedding","config":{"name":"e","input_dim":9,"output_dim":3,"mask_zero":true,"input_length":5}},` +
		`{"class_name":"LSTM","config":{"name":"l","units":2}}]}}`
	m := mustParse(t, js, "2.12.0")
	if _, ok := m.Nodes()[0].Layer.(*nn.EmbeddingMaskZero); !ok {
		t.Fatalf("layer %T", m.Nodes()[0].Layer)
	}
	if got := m.MaskConsumers(); len(got) != 1 || got[0] != 1 {
		t.Errorf("mask consumers %v, want the LSTM", got)
	}
	_, _, err := Parse([]byte(embeddingGraph(DialectKeras2, "float32", `,"mask_zero":true`, "emb")), Options{KerasVersion: "2.3.1"})
	if err == nil || !strings.Contains(err.Error(), "flat") {
		t.Errorf("a mask reaching Flatten in Keras 2.3: %v", err)
	}
	if _, _, err := Parse([]byte(embeddingGraph(DialectKeras3, "int32", `,"mask_zero":true`, "emb")), Options{}); err != nil {
		t.Errorf("a mask dropped at Flatten in Keras 3: %v", err)
	}
}
