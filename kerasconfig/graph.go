package kerasconfig

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

// parser carries one Parse.
type parser struct {
	keras3   bool
	builders Builders
	ints     map[string]bool // InputLayers of dtype int32/int64 (builders_embedding.go)
}

// sequential builds a Sequential config: {"name", "layers": [...]} (or,
// from Keras 2.0-2.2, the bare list of layers).
func (p *parser) sequential(raw any, info *ModelInfo) (*nn.Model, string, error) {
	var name string
	var list []any
	var conf map[string]any
	switch c := raw.(type) {
	case []any:
		list = c
	case map[string]any:
		conf = c
		name = stringOf(c["name"])
		var ok bool
		if list, ok = c["layers"].([]any); !ok {
			return nil, name, errors.New("Sequential config has no layers list")
		}
	default:
		return nil, "", errors.New("Sequential config is not an object")
	}
	if err := checkDType(name, "Sequential", conf); err != nil {
		return nil, name, err
	}
	var input nn.Shape
	var layers []nn.Layer
	names := map[string]bool{}
	for i, item := range list {
		spec, err := layerSpec(item)
		if err != nil {
			return nil, name, fmt.Errorf("layers[%d]: %w", i, err)
		}
		c := p.cfg(spec)
		if names[c.name] && c.name != "" {
			return nil, name, c.Errorf("duplicate layer name")
		}
		names[c.name] = true
		if c.class == "InputLayer" {
			if i != 0 {
				return nil, name, c.Errorf("InputLayer is only allowed first in a Sequential model")
			}
			if input, err = c.inputShape(true); err != nil {
				return nil, name, err
			}
			info.InputName = c.name
			continue
		}
		if input == nil {
			if input, err = c.inputShape(false); err != nil {
				return nil, name, err
			}
		}
		l, err := p.build(c)
		if err != nil {
			return nil, name, err
		}
		layers = append(layers, l)
	}
	if input == nil && conf != nil {
		if s, ok := conf["build_input_shape"]; ok && s != nil {
			shape, err := batchShape(s)
			if err != nil {
				return nil, name, fmt.Errorf("build_input_shape: %w", err)
			}
			input = shape
		}
	}
	if input == nil {
		return nil, name, errors.New("the model has no input shape (no InputLayer, batch_input_shape, batch_shape, input_shape or build_input_shape): build the model with a fixed input shape before saving it")
	}
	if len(layers) == 0 {
		return nil, name, errors.New("the model has no layers")
	}
	m, err := nn.NewSequential(name, input, layers...)
	return m, name, err
}

// functional builds a Functional (or Keras 2 "Model") config: its inputs
// are input_layers in order and its outputs output_layers in order (Keras
// 2.0-2.12 and 3 write a list of [name, 0, 0]; Keras 3 writes a bare
// [name, 0, 0] for a single one).
func (p *parser) functional(raw any, info *ModelInfo) (*nn.Model, string, error) {
	conf, ok := raw.(map[string]any)
	if !ok {
		return nil, "", errors.New("Functional config is not an object")
	}
	name := stringOf(conf["name"])
	if err := checkDType(name, "Functional", conf); err != nil {
		return nil, name, err
	}
	list, ok := conf["layers"].([]any)
	if !ok {
		return nil, name, errors.New("Functional config has no layers list")
	}
	ins, err := tensorRefs(conf["input_layers"])
	if err != nil {
		return nil, name, fmt.Errorf("input_layers: %w", err)
	}
	outs, err := tensorRefs(conf["output_layers"])
	if err != nil {
		return nil, name, fmt.Errorf("output_layers: %w", err)
	}
	if len(ins) == 0 || len(outs) == 0 {
		return nil, name, fmt.Errorf("a model with %d input(s) and %d output(s): want at least one of each", len(ins), len(outs))
	}
	if len(ins) > MaxModelIO || len(outs) > MaxModelIO {
		return nil, name, fmt.Errorf("a model with %d inputs and %d outputs is %w (at most %d of each)", len(ins), len(outs), ErrUnsupported, MaxModelIO)
	}
	inputAt := map[string]int{} // input layer name -> model input index
	for j, in := range ins {
		if in.node != 0 || in.tensor != 0 {
			return nil, name, fmt.Errorf("input [%q, %d, %d] is %w (an input layer's single tensor [name, 0, 0])", in.layer, in.node, in.tensor, ErrUnsupported)
		}
		if _, dup := inputAt[in.layer]; dup {
			return nil, name, fmt.Errorf("input layer %q is listed twice in input_layers", in.layer)
		}
		inputAt[in.layer] = j
		info.InputNames = append(info.InputNames, in.layer)
	}
	info.InputName = ins[0].layer
	inputs := make([]nn.Shape, len(ins))
	index := map[string]int{} // layer name -> node index (nn.InputAt(j) for the j-th input layer)
	var nodes []nn.Node
	for i, item := range list {
		spec, err := layerSpec(item)
		if err != nil {
			return nil, name, fmt.Errorf("layers[%d]: %w", i, err)
		}
		c := p.cfg(spec)
		if n := stringOf(spec["name"]); n != "" {
			c.name = n
		}
		if _, dup := index[c.name]; dup {
			return nil, name, c.Errorf("duplicate layer name")
		}
		if c.class == "InputLayer" {
			j, ok := inputAt[c.name]
			if !ok {
				return nil, name, c.Errorf("an InputLayer that is not in the model's input_layers (%q) is %w", info.InputNames, ErrUnsupported)
			}
			if inputs[j], err = c.inputShape(true); err != nil {
				return nil, name, err
			}
			index[c.name] = nn.InputAt(j)
			continue
		}
		calls, err := inboundNodes(spec["inbound_nodes"])
		if err != nil {
			return nil, name, c.Errorf("inbound_nodes: %w", err)
		}
		if len(calls) != 1 {
			return nil, name, c.Errorf("a layer called %d times (shared layer) is %w (each layer must be called once)", len(calls), ErrUnsupported)
		}
		refs, err := calls[0].inputs(c.class)
		if err != nil {
			return nil, name, c.Errorf("inbound_nodes: %w", err)
		}
		c.call = calls[0].kwargs
		var inputs []int
		for _, ref := range refs {
			k, ok := index[ref.layer]
			if !ok {
				return nil, name, c.Errorf("inbound layer %q is not an earlier layer of the model", ref.layer)
			}
			if ref.node != 0 || ref.tensor != 0 {
				return nil, name, c.Errorf("inbound tensor [%q, %d, %d] is %w (only the single output of a layer called once)", ref.layer, ref.node, ref.tensor, ErrUnsupported)
			}
			inputs = append(inputs, k)
		}
		if len(inputs) == 0 {
			return nil, name, c.Errorf("no inbound tensor")
		}
		l, err := p.build(c)
		if err != nil {
			return nil, name, err
		}
		index[c.name] = len(nodes)
		nodes = append(nodes, nn.Node{Layer: l, Inputs: inputs})
	}
	for j, in := range inputs {
		if in == nil {
			return nil, name, fmt.Errorf("input layer %q not found among the layers", ins[j].layer)
		}
	}
	if len(nodes) == 0 {
		return nil, name, errors.New("the model has no layers")
	}
	outputs := make([]int, len(outs))
	for j, out := range outs {
		k, ok := index[out.layer]
		switch {
		case !ok:
			return nil, name, fmt.Errorf("output layer %q is not a layer of the model", out.layer)
		case k < 0:
			return nil, name, fmt.Errorf("output [%q, %d, %d] is an input layer: a model output that is its input is %w", out.layer, out.node, out.tensor, ErrUnsupported)
		case out.node != 0 || out.tensor != 0:
			return nil, name, fmt.Errorf("output [%q, %d, %d] is %w (only the single output of a layer called once)", out.layer, out.node, out.tensor, ErrUnsupported)
		}
		outputs[j] = k
		info.OutputNames = append(info.OutputNames, out.layer)
	}
	m, err := nn.NewGraph(name, inputs, nodes, outputs)
	return m, name, err
}

// MaxModelIO bounds a model's inputs and its outputs (real multi-input
// forecasters have a handful), so that a hostile config cannot make the
// server allocate per-input state without bound.
const MaxModelIO = 64

// tensorRef is one [layer_name, node_index, tensor_index] reference.
type tensorRef struct {
	layer        string
	node, tensor int
}

// tensorRefs reads input_layers/output_layers: [[name, 0, 0], ...], a bare
// [name, 0, 0], or a dict of them.
func tensorRefs(v any) ([]tensorRef, error) {
	switch v := v.(type) {
	case []any:
		if len(v) > 0 {
			if _, ok := v[0].(string); ok {
				r, err := oneRef(v)
				if err != nil {
					return nil, err
				}
				return []tensorRef{r}, nil
			}
		}
		var refs []tensorRef
		for _, x := range v {
			r, err := tensorRefs(x)
			if err != nil {
				return nil, err
			}
			refs = append(refs, r...)
		}
		return refs, nil
	case map[string]any:
		var refs []tensorRef
		for _, k := range slices.Sorted(maps.Keys(v)) {
			r, err := tensorRefs(v[k])
			if err != nil {
				return nil, err
			}
			refs = append(refs, r...)
		}
		return refs, nil
	case nil:
		return nil, errors.New("missing")
	}
	return nil, fmt.Errorf("unexpected %s", jsonText(v))
}

func oneRef(v []any) (tensorRef, error) {
	if len(v) < 3 {
		return tensorRef{}, fmt.Errorf("tensor reference %s: want [layer, node, tensor]", jsonText(v))
	}
	name, ok := v[0].(string)
	node, ok1 := intOf(v[1])
	tensor, ok2 := intOf(v[2])
	if !ok || !ok1 || !ok2 {
		return tensorRef{}, fmt.Errorf("tensor reference %s: want [layer, node, tensor]", jsonText(v))
	}
	return tensorRef{layer: name, node: node, tensor: tensor}, nil
}

// nodeCall is one call of a layer as an inbound node records it.
type nodeCall struct {
	args   []tensorRef            // the tensors passed positionally, in order
	kw     map[string][]tensorRef // the tensors passed by keyword
	kwargs map[string]any         // every keyword argument, as written
}

// inputs orders a call's tensors as the layer's nn inputs: the positional
// ones, then those passed by keyword in the order of the class's call
// signature (keywordInputs). A tensor under any other keyword (a mask, an
// attention_mask) is refused.
func (nc nodeCall) inputs(class string) ([]tensorRef, error) {
	if len(nc.kw) == 0 {
		return nc.args, nil
	}
	sig := keywordInputs(class)
	refs := slices.Clone(nc.args)
	for _, key := range slices.Sorted(maps.Keys(nc.kw)) {
		if !slices.Contains(sig, key) || slices.Index(sig, key) < len(nc.args) {
			return nil, fmt.Errorf("a tensor passed as keyword argument %q is %w (supported: %s)", key, ErrUnsupported, keywordList(sig, len(nc.args)))
		}
	}
	for _, key := range sig[min(len(nc.args), len(sig)):] {
		r, ok := nc.kw[key]
		if !ok {
			break
		}
		if len(r) != 1 {
			return nil, fmt.Errorf("keyword argument %q holds %d tensors, want 1", key, len(r))
		}
		refs = append(refs, r[0])
	}
	if len(refs) != len(nc.args)+len(nc.kw) {
		return nil, fmt.Errorf("keyword tensors %q leave a gap in the call signature %q", slices.Sorted(maps.Keys(nc.kw)), sig)
	}
	return refs, nil
}

// keywordList names the keyword tensors a call may add after n positional ones.
func keywordList(sig []string, n int) string {
	if n >= len(sig) {
		return "none"
	}
	return strings.Join(sig[n:], ", ")
}

// inboundNodes reads a layer's inbound_nodes, one entry per call of the
// layer, in either dialect:
//
//	Keras 2: [[["conv1d", 0, 0, {}], ...], ...]; tensors passed by keyword
//	         sit in the dict as ["layer", 0, 0] (MultiHeadAttention's value)
//	Keras 3: [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv1d", 0, 0]}}], "kwargs": {}}, ...]
func inboundNodes(v any) ([]nodeCall, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %s", jsonText(v))
	}
	var calls []nodeCall
	for _, call := range list {
		nc := nodeCall{kw: map[string][]tensorRef{}}
		switch c := call.(type) {
		case map[string]any: // Keras 3
			if err := kerasTensors(c["args"], &nc.args); err != nil {
				return nil, err
			}
			nc.kwargs, _ = c["kwargs"].(map[string]any)
			for key, val := range nc.kwargs {
				var kw []tensorRef
				if err := kerasTensors(val, &kw); err != nil {
					return nil, err
				}
				if len(kw) > 0 {
					nc.kw[key] = kw
				}
			}
		case []any: // Keras 2
			for _, r := range c {
				rl, ok := r.([]any)
				if !ok {
					return nil, fmt.Errorf("unexpected %s", jsonText(r))
				}
				ref, err := oneRef(rl)
				if err != nil {
					return nil, err
				}
				nc.args = append(nc.args, ref)
				if len(rl) > 3 && nc.kwargs == nil {
					nc.kwargs, _ = rl[3].(map[string]any)
				}
			}
			for key, val := range nc.kwargs {
				if l, isList := val.([]any); isList && len(l) >= 3 {
					if _, isName := l[0].(string); isName {
						ref, err := oneRef(l)
						if err != nil {
							return nil, fmt.Errorf("keyword argument %q: %w", key, err)
						}
						nc.kw[key] = []tensorRef{ref}
					}
				}
			}
		default:
			return nil, fmt.Errorf("unexpected %s", jsonText(call))
		}
		calls = append(calls, nc)
	}
	return calls, nil
}

// kerasTensors collects, in order, every __keras_tensor__ under v.
func kerasTensors(v any, refs *[]tensorRef) error {
	switch v := v.(type) {
	case map[string]any:
		if stringOf(v["class_name"]) == "__keras_tensor__" {
			c, _ := v["config"].(map[string]any)
			h, _ := c["keras_history"].([]any)
			ref, err := oneRef(h)
			if err != nil {
				return err
			}
			*refs = append(*refs, ref)
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := kerasTensors(v[k], refs); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := kerasTensors(x, refs); err != nil {
				return err
			}
		}
	}
	return nil
}

// layerSpec checks that v is a {class_name, config} object.
func layerSpec(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("layer is not an object: %s", jsonText(v))
	}
	if stringOf(m["class_name"]) == "" {
		return nil, errors.New("layer has no class_name")
	}
	if _, ok := m["config"].(map[string]any); !ok {
		return nil, fmt.Errorf("layer %s has no config object", stringOf(m["class_name"]))
	}
	return m, nil
}
