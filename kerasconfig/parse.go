package kerasconfig

import (
	"errors"
	"fmt"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

// ModelInfo is what Parse learned about a config besides the model.
type ModelInfo struct {
	Name         string  // the model's Keras name
	InputName    string  // the input layer's name ("" when the config has no InputLayer)
	Class        string  // "Sequential", "Functional" or "Model"
	KerasVersion string  // declared version ("" when neither the caller nor the JSON gives one)
	Keras3       bool    // Keras 3 semantics apply (hard_sigmoid is relu6(x+3)/6)
	Dialect      Dialect // the JSON dialect detected
}

// Options are what a caller may tell Parse besides the config's bytes.
type Options struct {
	// KerasVersion is the Keras version that saved the model when the
	// caller knows it (a bundle's manifest), else "".
	KerasVersion string
}

// Parse turns a Keras model config, as model.to_json() writes it (or as
// an .h5 file's model_config attribute or a .keras zip's config.json holds
// it), into a built model without weights.
//
// Whether Keras 3 semantics apply (they differ for hard_sigmoid) is decided
// by, in order: opts.KerasVersion, the JSON's own top-level keras_version,
// and else the dialect: a config is Keras 3 when it contains an InputLayer
// batch_shape, a DTypePolicy dtype object or a __keras_tensor__ inbound node;
// module/registered_name keys alone do not decide it because Keras 2.13-2.15
// write them too. A version and a dialect that contradict each other are an
// error.
func Parse(data []byte, opts Options) (*nn.Model, ModelInfo, error) {
	kerasVersion := opts.KerasVersion
	var info ModelInfo
	top, err := decodeObject(data)
	if err != nil {
		return nil, info, fmt.Errorf("model config: invalid JSON: %w", err)
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
				return nil, info, fmt.Errorf("model config: %s: %w", key, err)
			}
		}
		m, ok := inner.(map[string]any)
		if !ok {
			return nil, info, fmt.Errorf("model config: %s is not an object", key)
		}
		top = m
		if v := stringOf(top["keras_version"]); v != "" {
			jsonVersion = v
		}
	}
	info.Class = stringOf(top["class_name"])
	info.Dialect = detectDialect(top)
	if kerasVersion != "" && jsonVersion != "" {
		a, errA := isKeras3(kerasVersion)
		b, errB := isKeras3(jsonVersion)
		if errA == nil && errB == nil && a != b {
			return nil, info, fmt.Errorf("model config: keras_version %q given for the bundle contradicts keras_version %q in the JSON", kerasVersion, jsonVersion)
		}
	}
	info.KerasVersion = kerasVersion
	if info.KerasVersion == "" {
		info.KerasVersion = jsonVersion
	}
	if info.KerasVersion != "" {
		if info.Keras3, err = isKeras3(info.KerasVersion); err != nil {
			return nil, info, fmt.Errorf("model config: %w", err)
		}
		if info.Keras3 != (info.Dialect == DialectKeras3) && !strings.HasPrefix(info.KerasVersion, "tfjs") {
			return nil, info, fmt.Errorf("model config: keras_version %q contradicts the JSON, which is in the %s dialect", info.KerasVersion, info.Dialect)
		}
	} else {
		info.Keras3 = info.Dialect == DialectKeras3
	}
	if err := checkRegistered("model", top); err != nil {
		return nil, info, fmt.Errorf("model config: %w", err)
	}
	p := &parser{keras3: info.Keras3}
	var m *nn.Model
	switch info.Class {
	case "Sequential":
		m, info.Name, err = p.sequential(top["config"], &info)
	case "Functional", "Model":
		m, info.Name, err = p.functional(top["config"], &info)
	case "":
		err = errors.New("no class_name at the top level: not a Keras model config")
	default:
		err = fmt.Errorf("model class %q is %w (supported: Sequential, Functional, Model)", info.Class, ErrUnsupported)
	}
	if err != nil {
		return nil, info, fmt.Errorf("model config: %w", err)
	}
	if err := checkActivations(m); err != nil {
		return nil, info, fmt.Errorf("model config: %w", err)
	}
	return m, info, nil
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
	size := func(what string, s nn.Shape) error {
		n := 1
		for _, d := range s {
			if d < 0 || (d > 0 && n > MaxActivations/d) {
				return fmt.Errorf("%s: output shape %v is too large (more than %d values per sample)", what, []int(s), MaxActivations)
			}
			n *= d
		}
		if total += n; total > MaxActivations {
			return fmt.Errorf("%s: the layer outputs add up to more than %d values per sample", what, MaxActivations)
		}
		return nil
	}
	if err := size("input", m.InputShape()); err != nil {
		return err
	}
	for i, nd := range m.Nodes() {
		if err := size(fmt.Sprintf("layer %q", nd.Layer.Name()), m.NodeShape(i)); err != nil {
			return err
		}
	}
	return nil
}

// isKeras3 reads the major version of a keras_version string. TF.js's
