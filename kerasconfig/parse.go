package kerasconfig

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/seqcast/seqcast/nn"
)

// ModelInfo is what Parse learned about a config besides the model.
type ModelInfo struct {
	Name      string // the model's Keras name
	InputName string // the (first) input layer's name ("" when the config has no InputLayer)
	// InputNames and OutputNames name a Functional model's inputs and
	// outputs in the model's order (input_layers and output_layers): the
	// input and output layers' names, which Keras uses as the tensors' names
	// (model.input_names, model.output_names). A Sequential model leaves
	// them nil.
	InputNames, OutputNames []string
	Class                   string  // "Sequential", "Functional" or "Model"
	KerasVersion            string  // declared version ("" when neither the caller nor the JSON gives one)
	Keras3                  bool    // Keras 3 semantics apply (hard_sigmoid is relu6(x+3)/6)
	Dialect                 Dialect // the JSON dialect detected
	// Stateful names the recurrent layers saved with stateful=True. seqcast
	// computes every request from a zero state, what Keras computes for a
	// freshly loaded model or after reset_states(), and their
	// batch_input_shape's batch size does not bound the batch.
	Stateful []string
}

// Options are what a caller may tell Parse besides the config's bytes.
type Options struct {
	// KerasVersion is the Keras version that saved the model when the
	// caller knows it (a bundle's manifest), else "".
	KerasVersion string
	// File names the config's file in errors (Error.File), for example
	// "mymodel/model.json"; "" leaves it out.
	File string
	// Builders is the class -> builder table layers are built with; nil
	// means Default(). A program adds its own classes to a copy of
	// Default() and passes it here.
	Builders Builders
}

// Parse turns a Keras model config, as model.to_json() writes it (or as
// an .h5 file's model_config attribute or a .keras zip's config.json holds
// it), into a built model without weights. Every error it returns is an
// *Error.
//
// Whether Keras 3 semantics apply (they differ for hard_sigmoid) is decided
// by, in order: opts.KerasVersion, the JSON's own top-level keras_version,
// and else the dialect: a config is Keras 3 when it contains an InputLayer
// batch_shape, a DTypePolicy dtype object or a __keras_tensor__ inbound node;
// module/registered_name keys alone do not decide it because Keras 2.13-2.15
// write them too. A version and a dialect that contradict each other are an
// error.
func Parse(data []byte, opts Options) (*nn.Model, ModelInfo, error) {
	m, info, err := parse(data, opts)
	if err != nil {
		e := asError(err)
		e.File = opts.File
		return nil, info, e
	}
	return m, info, nil
}

func parse(data []byte, opts Options) (*nn.Model, ModelInfo, error) {
	var info ModelInfo
	top, err := decodeObject(data)
	if err != nil {
		return nil, info, fmt.Errorf("invalid JSON: %w", err)
	}
	// Unwrap TF.js's {"modelTopology": ...} and {"model_config": ...} holders.
	jsonVersion := stringOf(top["keras_version"])
	for _, key := range []string{"modelTopology", "model_config"} {
		inner, ok := top[key]
		if !ok {
			continue
		}
		if s, isStr := inner.(string); isStr {
			if inner, err = decodeAny([]byte(s)); err != nil {
				return nil, info, fmt.Errorf("%s: %w", key, err)
			}
		}
		m, ok := inner.(map[string]any)
		if !ok {
			return nil, info, fmt.Errorf("%s is not an object", key)
		}
		top = m
		if v := stringOf(top["keras_version"]); v != "" {
			jsonVersion = v
		}
	}
	info.Class = stringOf(top["class_name"])
	info.Dialect = detectDialect(top)
	if info.KerasVersion, info.Keras3, err = semantics(opts.KerasVersion, jsonVersion, info.Dialect); err != nil {
		return nil, info, err
	}
	p := &parser{keras3: info.Keras3, builders: opts.Builders}
	if p.builders == nil {
		p.builders = Default()
	}
	graphs := map[string]func(any, *ModelInfo) (*nn.Model, string, error){
		"Sequential": p.sequential,
		"Functional": p.functional,
		"Model":      p.functional, // Keras 2's name for Functional
	}
	graph, ok := graphs[info.Class]
	switch {
	case info.Class == "":
		return nil, info, errors.New("no class_name at the top level: not a Keras model config")
	case registeredName(top) != "":
		return nil, info, fmt.Errorf("model class %q is a custom object (registered_name %q) and is %w", info.Class, registeredName(top), ErrUnsupported)
	case !ok:
		supported := slices.Sorted(maps.Keys(graphs))
		return nil, info, &Error{Supported: supported, Err: unsupported(fmt.Sprintf("model class %q", info.Class), supported)}
	}
	m, name, err := graph(top["config"], &info)
	info.Name = name
	if err != nil {
		return nil, info, err
	}
	names := info.InputNames
	if len(names) == 0 {
		names = []string{info.InputName}
	}
	if err := checkIntInputs(m, names, p.ints); err != nil {
		return nil, info, err
	}
	info.Stateful = StatefulLayers(m)
	if err := checkMaskDrops(m, info); err != nil {
		return nil, info, err
	}
	return m, info, checkActivations(m)
}

// MaxActivations bounds the float32 values one sample's layer outputs may
// add up to (32 MiB). Real forecasters need a few thousand; the bound stops
// a hostile config (RepeatVector with n = 2^62, a huge Reshape, ...) from
// making inference allocate without bound or overflow a size.
const MaxActivations = 1 << 23

// checkActivations checks every layer's per-sample output size, without
// overflowing, against MaxActivations.
func checkActivations(m *nn.Model) error {
	total := 0
	size := func(s nn.Shape) error {
		n := 1
		for _, d := range s {
			if d < 0 || (d > 0 && n > MaxActivations/d) {
				return fmt.Errorf("output shape %v is too large (more than %d values per sample)", []int(s), MaxActivations)
			}
			n *= d
		}
		if total += n; total > MaxActivations {
			return fmt.Errorf("the layer outputs add up to more than %d values per sample", MaxActivations)
		}
		return nil
	}
	if err := size(m.InputShape()); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	for i, nd := range m.Nodes() {
		if err := size(m.NodeShape(i)); err != nil {
			return &Error{Layer: nd.Layer.Name(), Class: nd.Layer.Class(), Err: err}
		}
	}
	return nil
}
