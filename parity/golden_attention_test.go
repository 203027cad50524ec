package parity

import (
	"encoding/json"
	"flag"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/internal/ref64"
)

// The attention goldens: layers TF.js lacks (MultiHeadAttention, Attention,
// AdditiveAttention, EinsumDense), each case a bundle under
// testdata/golden_attention whose expected.npy is the float64 evaluation of
// its model.json (attention_eval_test.go, on internal/ref64: Keras's
// semantics written as explicit loops, checked against Keras's own einsum
// equations). Regenerate with
//
//	go test ./parity/ -run TestGoldenAttention -update-attention
//
// (deterministic: weights and inputs come from a PCG seeded with the case
// name). See tools/golden/README.md.

var updateAttention = flag.Bool("update-attention", false, "rewrite testdata/golden_attention")

const attentionDir = "testdata/golden_attention"

// wantAttentionCases lists every attention golden; the test fails if the
// directory holds another set. Keep it sorted.
var wantAttentionCases = []string{
	"additive_attention_k3",
	"additive_attention_noscale_causal_k2_15",
	"attention_causal_option_k2_12",
	"attention_concat_key_causal_k3",
	"attention_dot_scale_k2_12",
	"einsum_dense_k2_15",
	"einsum_dense_k3",
	"mha_causal_k2_15",
	"mha_cross_kwargs_k2_12",
	"mha_cross_repeat_causal_k2_15",
	"mha_cross_repeat_k3",
	"mha_kwargs_causal_k3",
	"mha_self_k3",
	"transformer_encoder_k3",
}

// gl is one layer of a golden case: its inputs are positional tensors
// (args), or, for Attention, one list of them (list); kw holds keyword
// arguments, whose string values starting with "@" name tensors.
type gl struct {
	name, class string
	cfg         map[string]any
	args        []string
	list        bool
	kw          map[string]any
}

type attentionCase struct {
	name, version string
	input         []int // per sample (T, F)
	n             int
	layers        []gl
}

func (c attentionCase) keras3() bool { return strings.HasPrefix(c.version, "3") }

func attentionCases() []attentionCase {
	ln := func(name, in string) gl {
		return gl{name: name, class: "LayerNormalization", cfg: map[string]any{"axis": -1, "epsilon": 1e-6, "center": true, "scale": true}, args: []string{in}}
	}
	dense := func(name, in string, units int, act string) gl {
		return gl{name: name, class: "Dense", cfg: map[string]any{"units": units, "activation": act, "use_bias": true}, args: []string{in}}
	}
	mha := func(name string, cfg map[string]any, args []string, kw map[string]any) gl {
		base := map[string]any{"value_dim": nil, "dropout": 0.1, "use_bias": true, "output_shape": nil, "attention_axes": nil}
		for k, v := range cfg {
			base[k] = v
		}
		return gl{name: name, class: "MultiHeadAttention", cfg: base, args: args, kw: kw}
	}
	return []attentionCase{
		{name: "mha_self_k3", version: "3.10.0", input: []int{6, 4}, n: 4, layers: []gl{
			ln("ln", "INPUT"),
			mha("mha", map[string]any{"num_heads": 2, "key_dim": 3, "attention_axes": []any{1}}, []string{"ln", "ln"}, nil),
			{name: "add", class: "Add", args: []string{"mha", "INPUT"}, list: true},
		}},
		{name: "mha_cross_kwargs_k2_12", version: "2.12.0", input: []int{6, 4}, n: 4, layers: []gl{
			dense("dense_v", "INPUT", 5, "tanh"),
			dense("dense_k", "INPUT", 3, "linear"),
			mha("mha", map[string]any{"num_heads": 2, "key_dim": 3, "value_dim": 2, "use_bias": false, "output_shape": 5, "attention_axes": []any{1}},
				[]string{"INPUT"}, map[string]any{"value": "@dense_v", "key": "@dense_k"}),
		}},
		{name: "mha_causal_k2_15", version: "2.15.0", input: []int{7, 3}, n: 5, layers: []gl{
			mha("mha", map[string]any{"num_heads": 3, "key_dim": 2}, []string{"INPUT"}, map[string]any{"value": "@INPUT", "use_causal_mask": true}),
			{name: "flat", class: "Flatten", cfg: map[string]any{"data_format": "channels_last"}, args: []string{"mha"}},
			dense("out", "flat", 2, "linear"),
		}},
		{name: "mha_kwargs_causal_k3", version: "3.13.2", input: []int{6, 3}, n: 4, layers: []gl{
			dense("proj", "INPUT", 4, "relu"),
			mha("mha", map[string]any{"num_heads": 2, "key_dim": 2, "value_dim": 4, "output_shape": []any{5}},
				nil, map[string]any{"query": "@proj", "value": "@INPUT", "use_causal_mask": true}),
		}},
		// the transformer autoencoder's cross-attention: a shorter query
		// (RepeatVector of the pooled input) attends to the whole input
		{name: "mha_cross_repeat_k3", version: "3.10.0", input: []int{8, 3}, n: 4, layers: []gl{
			{name: "gap", class: "GlobalAveragePooling1D", cfg: map[string]any{"data_format": "channels_last", "keepdims": false}, args: []string{"INPUT"}},
			{name: "rep", class: "RepeatVector", cfg: map[string]any{"n": 4}, args: []string{"gap"}},
			mha("mha", map[string]any{"num_heads": 2, "key_dim": 3}, []string{"rep", "INPUT"}, nil),
			{name: "flat", class: "Flatten", cfg: map[string]any{"data_format": "channels_last"}, args: []string{"mha"}},
			dense("out", "flat", 2, "linear"),
		}},
		{name: "mha_cross_repeat_causal_k2_15", version: "2.15.0", input: []int{6, 3}, n: 4, layers: []gl{
			{name: "gap", class: "GlobalAveragePooling1D", cfg: map[string]any{"data_format": "channels_last", "keepdims": false}, args: []string{"INPUT"}},
			{name: "rep", class: "RepeatVector", cfg: map[string]any{"n": 9}, args: []string{"gap"}},
			dense("proj", "rep", 3, "tanh"),
			mha("mha", map[string]any{"num_heads": 2, "key_dim": 2, "value_dim": 3}, []string{"proj"},
				map[string]any{"value": "@INPUT", "use_causal_mask": true}),
		}},
		{name: "attention_dot_scale_k2_12", version: "2.12.0", input: []int{5, 4}, n: 4, layers: []gl{
			dense("dense_q", "INPUT", 4, "tanh"),
			{name: "att", class: "Attention", cfg: map[string]any{"use_scale": true, "score_mode": "dot", "dropout": 0.0}, args: []string{"dense_q", "INPUT"}, list: true},
			{name: "flat", class: "Flatten", cfg: map[string]any{"data_format": "channels_last"}, args: []string{"att"}},
		}},
		{name: "attention_concat_key_causal_k3", version: "3.10.0", input: []int{6, 3}, n: 4, layers: []gl{
			dense("dense_q", "INPUT", 4, "tanh"),
			dense("dense_k", "INPUT", 4, "linear"),
			{name: "att", class: "Attention", cfg: map[string]any{"use_scale": true, "score_mode": "concat", "dropout": 0.0},
				args: []string{"dense_q", "INPUT", "dense_k"}, list: true, kw: map[string]any{"use_causal_mask": true}},
		}},
		{name: "attention_causal_option_k2_12", version: "2.12.0", input: []int{5, 3}, n: 4, layers: []gl{
			{name: "att", class: "Attention", cfg: map[string]any{"use_scale": false, "causal": true, "dropout": 0.0}, args: []string{"INPUT", "INPUT"}, list: true},
		}},
		{name: "additive_attention_k3", version: "3.13.2", input: []int{6, 3}, n: 4, layers: []gl{
			dense("dense_q", "INPUT", 4, "linear"),
			dense("dense_k", "INPUT", 4, "tanh"),
			{name: "att", class: "AdditiveAttention", cfg: map[string]any{"use_scale": true, "dropout": 0.0},
				args: []string{"dense_q", "INPUT", "dense_k"}, list: true},
		}},
		{name: "additive_attention_noscale_causal_k2_15", version: "2.15.0", input: []int{6, 3}, n: 4, layers: []gl{
			{name: "att", class: "AdditiveAttention", cfg: map[string]any{"use_scale": false, "dropout": 0.0},
				args: []string{"INPUT", "INPUT"}, list: true, kw: map[string]any{"use_causal_mask": true}},
		}},
		{name: "einsum_dense_k3", version: "3.10.0", input: []int{5, 4}, n: 4, layers: []gl{
			{name: "ed1", class: "EinsumDense", cfg: map[string]any{"equation": "abc,cde->abde", "output_shape": []any{nil, 2, 3}, "bias_axes": "de", "activation": "tanh"}, args: []string{"INPUT"}},
			{name: "ed2", class: "EinsumDense", cfg: map[string]any{"equation": "abde,dec->abc", "output_shape": []any{nil, 4}, "bias_axes": "c", "activation": "relu"}, args: []string{"ed1"}},
			{name: "ed3", class: "EinsumDense", cfg: map[string]any{"equation": "abc,cd->adb", "output_shape": []any{3, nil}, "bias_axes": "d", "activation": "linear"}, args: []string{"ed2"}},
		}},
		{name: "einsum_dense_k2_15", version: "2.15.0", input: []int{5, 4}, n: 4, layers: []gl{
			{name: "ed", class: "EinsumDense", cfg: map[string]any{"equation": "abc,cd->abd", "output_shape": []any{nil, 6}, "bias_axes": "d", "activation": "sigmoid"}, args: []string{"INPUT"}},
			{name: "ed_nobias", class: "EinsumDense", cfg: map[string]any{"equation": "abc,cd->abd", "output_shape": []any{nil, 2}, "bias_axes": nil, "activation": "linear"}, args: []string{"ed"}},
		}},
		{name: "transformer_encoder_k3", version: "3.10.0", input: []int{8, 6}, n: 4, layers: []gl{
			ln("ln1", "INPUT"),
			mha("mha", map[string]any{"num_heads": 2, "key_dim": 4}, []string{"ln1", "ln1"}, nil),
			{name: "drop", class: "Dropout", cfg: map[string]any{"rate": 0.1}, args: []string{"mha"}},
			{name: "add1", class: "Add", args: []string{"drop", "INPUT"}, list: true},
			ln("ln2", "add1"),
			dense("ff1", "ln2", 8, "relu"),
			dense("ff2", "ff1", 6, "linear"),
			{name: "add2", class: "Add", args: []string{"ff2", "add1"}, list: true},
			{name: "gap", class: "GlobalAveragePooling1D", cfg: map[string]any{"data_format": "channels_last", "keepdims": false}, args: []string{"add2"}},
			dense("out", "gap", 1, "linear"),
		}},
	}
}

// modelJSON writes a case's config in its Keras dialect: Keras 3's
// {"args", "kwargs"} inbound nodes with __keras_tensor__ objects, or Keras
// 2's [[name, 0, 0, kwargs], ...] with keyword tensors as [name, 0, 0].
func (c attentionCase) modelJSON() []byte {
	k3 := c.keras3()
	inName := "input_1"
	if k3 {
		inName = "input_layer"
	}
	ref := func(n string) string {
		if n == "INPUT" {
			return inName
		}
		return n
	}
	tensor := func(n string) any {
		if k3 {
			return map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{"shape": nil, "dtype": "float32", "keras_history": []any{ref(n), 0, 0}}}
		}
		return []any{ref(n), 0, 0}
	}
	var dtype any = "float32"
	if k3 {
		dtype = map[string]any{"module": "keras", "class_name": "DTypePolicy", "config": map[string]any{"name": "float32"}, "registered_name": nil}
	}
	shapeKey := "batch_input_shape"
	if k3 {
		shapeKey = "batch_shape"
	}
	layers := []any{map[string]any{"class_name": "InputLayer", "name": inName, "inbound_nodes": []any{},
		"config": map[string]any{shapeKey: []any{nil, c.input[0], c.input[1]}, "dtype": "float32", "sparse": false, "name": inName}}}
	for _, l := range c.layers {
		cfg := map[string]any{"name": l.name, "trainable": true, "dtype": dtype}
		for k, v := range l.cfg {
			cfg[k] = v
		}
		kw := map[string]any{}
		for k, v := range l.kw {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "@") {
				v = tensor(s[1:])
			}
			kw[k] = v
		}
		var node any
		if k3 {
			var args []any
			for _, a := range l.args {
				args = append(args, tensor(a))
			}
			if l.list {
				args = []any{args}
			}
			if args == nil {
				args = []any{}
			}
			node = map[string]any{"args": args, "kwargs": kw}
		} else {
			var refs []any
			for _, a := range l.args {
				refs = append(refs, []any{ref(a), 0, 0, kw})
			}
			node = refs
		}
		entry := map[string]any{"class_name": l.class, "name": l.name, "config": cfg, "inbound_nodes": []any{node}}
		if k3 {
			entry["module"], entry["registered_name"] = "keras.layers", nil
		}
		layers = append(layers, entry)
	}
	last := c.layers[len(c.layers)-1].name
	class := "Model"
	var ins, outs any = []any{[]any{inName, 0, 0}}, []any{[]any{last, 0, 0}}
	if k3 {
		class = "Functional"
		ins, outs = []any{inName, 0, 0}, []any{last, 0, 0}
	}
	top := map[string]any{"class_name": class, "keras_version": c.version, "backend": "tensorflow",
		"config": map[string]any{"name": "model", "layers": layers, "input_layers": ins, "output_layers": outs}}
	b, err := json.MarshalIndent(top, "", " ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// draw is a weight source of seeded values scaled by what the weight is.
func draw(r *rand.Rand, arrays *[][]float32, shapes *[][]int) weightSource {
	return func(layer, name string, shape []int) ref64.Tensor {
		t := ref64.New(shape...)
		a := make([]float32, len(t.Data))
		kind := name[strings.LastIndex(name, "/")+1:]
		fan := 1
		if len(shape) > 1 {
			for _, d := range shape[:len(shape)-1] {
				fan *= d
			}
		}
		lo, hi := -0.5, 0.5
		switch kind {
		case "kernel":
			s := 1.2 * math.Sqrt(3/float64(fan))
			if strings.HasPrefix(name, "attention_output") || strings.HasPrefix(name, "query") || strings.HasPrefix(name, "key") || strings.HasPrefix(name, "value") {
				s = 1.2 * math.Sqrt(3/float64(shape[0]))
			}
			lo, hi = -s, s
		case "gamma":
			lo, hi = 0.6, 1.4
		case "scale", "concat_score_weight":
			lo, hi = 0.5, 1.5
		}
		for i := range a {
			a[i] = float32(lo + (hi-lo)*r.Float64())
			t.Data[i] = float64(a[i])
		}
		*arrays = append(*arrays, a)
		*shapes = append(*shapes, append([]int(nil), shape...))
		return t
	}
}

func seeded(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("seqcast-golden/" + name))
	return rand.New(rand.NewPCG(h.Sum64(), 2026))
}

// writeAttentionCase writes one bundle.
func writeAttentionCase(c attentionCase) error {
	js := c.modelJSON()
	r := seeded(c.name)
	per := c.input[0] * c.input[1]
	x := make([]float32, c.n*per)
	xt := ref64.New(c.n, c.input[0], c.input[1])
	for i := range x {
		x[i] = float32(r.Float64()*3 - 1.5)
		xt.Data[i] = float64(x[i])
	}
	var arrays [][]float32
	var shapes [][]int
	y, err := evalModel(js, xt, draw(r, &arrays, &shapes))
	if err != nil {
		return err
	}
	return writeRefBundle(filepath.Join(attentionDir, c.name), js, x, []int{c.n, c.input[0], c.input[1]}, arrays, shapes, y)
}

// TestGoldenAttention runs every attention golden through package weights
// and nn (1e-5 + 1e-5*|golden|), and checks that expected.npy is still what
// the float64 evaluation of the bundle's own model.json and weights gives.
func TestGoldenAttention(t *testing.T) {
	cases := attentionCases()
	if *updateAttention {
		for _, c := range cases {
			if err := writeAttentionCase(c); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
	}
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
	}
	checkRefGoldens(t, attentionDir, names, wantAttentionCases, "-update-attention", evalModel, nil)
}
