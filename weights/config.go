package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

// ErrUnsupported is wrapped by every error about a Keras class, option or
// value that seqcast cannot run.
var ErrUnsupported = errors.New("not supported")

// Dialect names the flavour of Keras JSON a config was written in.
type Dialect string

const (
	// DialectKeras2 is Keras <= 2.12: layers are {class_name, config}.
	DialectKeras2 Dialect = "keras2"
	// DialectKeras213 is Keras 2.13-2.15: layers also carry module,
	// registered_name and build_config; InputLayer has batch_input_shape.
	DialectKeras213 Dialect = "keras2.13"
	// DialectKeras3 is Keras 3: InputLayer has batch_shape, dtype may be a
	// DTypePolicy object, Functional inbound_nodes are {args, kwargs}.
	DialectKeras3 Dialect = "keras3"
)

// ModelInfo is what ParseConfig learned about a config besides the model.
type ModelInfo struct {
	Name         string  // the model's Keras name
	InputName    string  // the input layer's name ("" when the config has no InputLayer)
	Class        string  // "Sequential", "Functional" or "Model"
	KerasVersion string  // declared version ("" when neither the caller nor the JSON gives one)
	Keras3       bool    // Keras 3 semantics apply (hard_sigmoid is relu6(x+3)/6)
	Dialect      Dialect // the JSON dialect detected
}

// ParseConfig turns a Keras model config, as model.to_json() writes it (or as
// an .h5 file's model_config attribute or a .keras zip's config.json holds
// it), into a built model without weights.
//
// kerasVersion is the Keras version that saved the model when the caller
// knows it (a bundle's manifest), else "". Whether Keras 3 semantics apply
// (they differ for hard_sigmoid) is decided by, in order: kerasVersion, the
// JSON's own top-level keras_version, and else the dialect: a config is Keras
// 3 when it contains an InputLayer batch_shape, a DTypePolicy dtype object or
// a __keras_tensor__ inbound node; module/registered_name keys alone do not
// decide it because Keras 2.13-2.15 write them too. A version and a dialect
// that contradict each other are an error.
func ParseConfig(data []byte, kerasVersion string) (*nn.Model, ModelInfo, error) {
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
// "tfjs-layers x.y.z" follows Keras 2 semantics.
func isKeras3(v string) (bool, error) {
	if strings.HasPrefix(v, "tfjs") {
		return false, nil
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < 1 {
		return false, fmt.Errorf("keras_version %q is not a version number", v)
	}
	return n >= 3, nil
}

// detectDialect looks for the marks only Keras 3 writes, then for the
// module keys Keras 2.13+ adds.
func detectDialect(top map[string]any) Dialect {
	keras3, module := false, false
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch stringOf(v["class_name"]) {
			case "DTypePolicy", "FloatDTypePolicy", "__keras_tensor__":
				keras3 = true
			}
			if _, ok := v["batch_shape"]; ok {
				keras3 = true
			}
			if _, ok := v["module"]; ok {
				module = true
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(top)
	switch {
	case keras3:
		return DialectKeras3
	case module:
		return DialectKeras213
	}
	return DialectKeras2
}

type parser struct {
	keras3 bool
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
			return nil, name, c.errf("duplicate layer name")
		}
		names[c.name] = true
		if c.class == "InputLayer" {
			if i != 0 {
				return nil, name, c.errf("InputLayer is only allowed first in a Sequential model")
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
		l, err := p.layer(c)
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

// functional builds a Functional (or Keras 2 "Model") config with one input
// and one output.
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
	if len(ins) != 1 || len(outs) != 1 {
		return nil, name, fmt.Errorf("a model with %d input(s) and %d output(s) is %w (only one input and one output)", len(ins), len(outs), ErrUnsupported)
	}
	var input nn.Shape
	inputName := ins[0].layer
	info.InputName = inputName
	index := map[string]int{} // layer name -> node index (nn.Input for the input layer)
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
			return nil, name, c.errf("duplicate layer name")
		}
		if c.class == "InputLayer" {
			if c.name != inputName {
				return nil, name, c.errf("a second model input is %w (only one input)", ErrUnsupported)
			}
			if input, err = c.inputShape(true); err != nil {
				return nil, name, err
			}
			index[c.name] = nn.Input
			continue
		}
		calls, err := inboundNodes(spec["inbound_nodes"])
		if err != nil {
			return nil, name, c.errf("inbound_nodes: %w", err)
		}
		if len(calls) != 1 {
			return nil, name, c.errf("a layer called %d times (shared layer) is %w (each layer must be called once)", len(calls), ErrUnsupported)
		}
		var inputs []int
		for _, ref := range calls[0] {
			k, ok := index[ref.layer]
			if !ok {
				return nil, name, c.errf("inbound layer %q is not an earlier layer of the model", ref.layer)
			}
			if ref.node != 0 || ref.tensor != 0 {
				return nil, name, c.errf("inbound tensor [%q, %d, %d] is %w (only the single output of a layer called once)", ref.layer, ref.node, ref.tensor, ErrUnsupported)
			}
			inputs = append(inputs, k)
		}
		if len(inputs) == 0 {
			return nil, name, c.errf("no inbound tensor")
		}
		l, err := p.layer(c)
		if err != nil {
			return nil, name, err
		}
		index[c.name] = len(nodes)
		nodes = append(nodes, nn.Node{Layer: l, Inputs: inputs})
	}
	if input == nil {
		return nil, name, fmt.Errorf("input layer %q not found among the layers", inputName)
	}
	if len(nodes) == 0 {
		return nil, name, errors.New("the model has no layers")
	}
	out := outs[0]
	if k, ok := index[out.layer]; !ok || k != len(nodes)-1 || out.node != 0 || out.tensor != 0 {
		return nil, name, fmt.Errorf("output [%q, %d, %d] must be the single output of the last layer (%q) and is %w otherwise",
			out.layer, out.node, out.tensor, nodes[len(nodes)-1].Layer.Name(), ErrUnsupported)
	}
	m, err := nn.NewModel(name, input, nodes)
	return m, name, err
}

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

// inboundNodes reads a layer's inbound_nodes, one entry per call of the
// layer, in either dialect:
//
//	Keras 2: [[["conv1d", 0, 0, {}], ...], ...]
//	Keras 3: [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv1d", 0, 0]}}], "kwargs": {}}, ...]
func inboundNodes(v any) ([][]tensorRef, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %s", jsonText(v))
	}
	var calls [][]tensorRef
	for _, call := range list {
		switch c := call.(type) {
		case map[string]any: // Keras 3
			var refs []tensorRef
			if err := kerasTensors(c["args"], &refs); err != nil {
				return nil, err
			}
			var kw []tensorRef
			if err := kerasTensors(c["kwargs"], &kw); err != nil {
				return nil, err
			}
			if len(kw) > 0 {
				return nil, fmt.Errorf("a tensor passed as a keyword argument is %w", ErrUnsupported)
			}
			calls = append(calls, refs)
		case []any: // Keras 2
			var refs []tensorRef
			for _, r := range c {
				rl, ok := r.([]any)
				if !ok {
					return nil, fmt.Errorf("unexpected %s", jsonText(r))
				}
				ref, err := oneRef(rl)
				if err != nil {
					return nil, err
				}
				refs = append(refs, ref)
			}
			calls = append(calls, refs)
		default:
			return nil, fmt.Errorf("unexpected %s", jsonText(call))
		}
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

// lcfg is one layer's config with typed accessors whose errors name the
// layer, the option and its value.
type lcfg struct {
	class, name string
	spec        map[string]any
	m           map[string]any
}

func (p *parser) cfg(spec map[string]any) *lcfg {
	m := spec["config"].(map[string]any)
	return &lcfg{class: stringOf(spec["class_name"]), name: stringOf(m["name"]), spec: spec, m: m}
}

func (c *lcfg) errf(format string, args ...any) error {
	return fmt.Errorf("layer %q (%s): %w", c.name, c.class, fmt.Errorf(format, args...))
}

// unsupported reports an option value seqcast cannot run.
func (c *lcfg) unsupported(key, supported string) error {
	return fmt.Errorf("layer %q (%s): option %s=%s is %w (supported: %s)", c.name, c.class, key, jsonText(c.m[key]), ErrUnsupported, supported)
}

func (c *lcfg) bad(key, want string) error {
	return fmt.Errorf("layer %q (%s): option %s=%s: want %s", c.name, c.class, key, jsonText(c.m[key]), want)
}

// get returns the option, treating JSON null as absent.
func (c *lcfg) get(key string) (any, bool) {
	v, ok := c.m[key]
	return v, ok && v != nil
}

// required as an int option's default makes the option mandatory.
const required = math.MinInt

// int reads an integer option, also accepting Keras 3's one-element lists
// ([3] for 3).
func (c *lcfg) int(key string, def int) (int, error) {
	v, ok := c.get(key)
	if !ok {
		if def == required {
			return 0, c.errf("missing option %s", key)
		}
		return def, nil
	}
	if l, isList := v.([]any); isList {
		if len(l) != 1 {
			return 0, c.bad(key, "one integer (1-D layers)")
		}
		v = l[0]
	}
	n, ok := intOf(v)
	if !ok {
		return 0, c.bad(key, "an integer")
	}
	return n, nil
}

// positive reads an integer option that must be >= 1.
func (c *lcfg) positive(key string, def int) (int, error) {
	n, err := c.int(key, def)
	if err == nil && n < 1 {
		err = c.bad(key, "a positive integer")
	}
	return n, err
}

func (c *lcfg) float(key string, def float64) (float64, error) {
	v, ok := c.get(key)
	if !ok {
		return def, nil
	}
	f, ok := floatOf(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, c.bad(key, "a finite number")
	}
	return f, nil
}

func (c *lcfg) bool(key string, def bool) (bool, error) {
	v, ok := c.get(key)
	if !ok {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, c.bad(key, "true or false")
	}
	return b, nil
}

func (c *lcfg) str(key, def string) (string, error) {
	v, ok := c.get(key)
	if !ok {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", c.bad(key, "a string")
	}
	return s, nil
}

// oneOf reads a string option that must be one of allowed.
func (c *lcfg) oneOf(key, def string, allowed ...string) (string, error) {
	s, err := c.str(key, def)
	if err != nil {
		return "", err
	}
	if !slices.Contains(allowed, s) {
		return "", c.unsupported(key, strings.Join(allowed, ", "))
	}
	return s, nil
}

// mustBe fails unless a boolean option has the value seqcast supports.
func (c *lcfg) mustBe(key string, want bool) error {
	b, err := c.bool(key, want)
	if err != nil {
		return err
	}
	if b != want {
		return c.unsupported(key, strconv.FormatBool(want))
	}
	return nil
}

// mustBeNull fails unless an option is absent, null, 0 or false.
func (c *lcfg) mustBeNull(key string) error {
	v, ok := c.get(key)
	if !ok || v == false {
		return nil
	}
	if n, isNum := floatOf(v); isNum && n == 0 {
		return nil
	}
	return c.unsupported(key, "null")
}

// activation reads an activation option: a name, null (linear), or Keras
// 3's {"class_name": "function", "config": "relu"} form.
func (c *lcfg) activation(p *parser, key string, mandatory bool) (nn.Activation, error) {
	v, ok := c.get(key)
	if !ok {
		if mandatory {
			return nn.Activation{}, c.errf("missing option %s", key)
		}
		return nn.NewActivation("linear", p.keras3)
	}
	name, isStr := v.(string)
	if m, isMap := v.(map[string]any); isMap && stringOf(m["class_name"]) == "function" {
		name, isStr = m["config"].(string)
	}
	if !isStr {
		return nn.Activation{}, c.unsupported(key, "the name of a built-in activation")
	}
	a, err := nn.NewActivation(name, p.keras3)
	if err != nil {
		return nn.Activation{}, fmt.Errorf("layer %q (%s): option %s=%q: %w", c.name, c.class, key, name, err)
	}
	return a, nil
}

// dataFormat accepts only channels_last.
func (c *lcfg) dataFormat() error {
	_, err := c.oneOf("data_format", "channels_last", "channels_last")
	return err
}

// inputShape reads the per-sample input shape from batch_input_shape or
// batch_shape (batch dimension first) or input_shape (without it). With
// mandatory, a missing shape is an error; without, it returns nil.
func (c *lcfg) inputShape(mandatory bool) (nn.Shape, error) {
	for _, key := range []string{"batch_input_shape", "batch_shape"} {
		if v, ok := c.get(key); ok {
			s, err := batchShape(v)
			if err != nil {
				return nil, c.errf("option %s=%s: %w", key, jsonText(v), err)
			}
			return s, c.inputLayerOptions()
		}
	}
	if v, ok := c.get("input_shape"); ok {
		s, err := batchShape(append([]any{nil}, asList(v)...))
		if err != nil {
			return nil, c.errf("option input_shape=%s: %w", jsonText(v), err)
		}
		return s, c.inputLayerOptions()
	}
	if mandatory {
		return nil, c.errf("no batch_input_shape, batch_shape or input_shape")
	}
	return nil, nil
}

func (c *lcfg) inputLayerOptions() error {
	if c.class != "InputLayer" {
		return nil
	}
	for _, key := range []string{"sparse", "ragged"} {
		if err := c.mustBe(key, false); err != nil {
			return err
		}
	}
	return checkDType(c.name, c.class, c.m)
}

// batchShape turns [null, 60, 1] into Shape{60, 1}.
func batchShape(v any) (nn.Shape, error) {
	l, ok := v.([]any)
	if !ok || len(l) < 2 {
		return nil, errors.New("want [batch, dims...] with at least one per-sample dimension")
	}
	s := make(nn.Shape, 0, len(l)-1)
	for _, d := range l[1:] {
		n, ok := intOf(d)
		if d == nil {
			return nil, fmt.Errorf("a variable dimension (None) is %w: every per-sample dimension must be fixed", ErrUnsupported)
		}
		if !ok || n < 1 {
			return nil, fmt.Errorf("dimension %s: want a positive integer", jsonText(d))
		}
		s = append(s, n)
	}
	return s, nil
}

// checkDType accepts dtype absent, "float32", or a policy object named
// float32; mixed precision and other dtypes are unsupported.
func checkDType(name, class string, m map[string]any) error {
	if m == nil {
		return nil
	}
	v, ok := m["dtype"]
	if !ok || v == nil {
		return nil
	}
	dt := ""
	switch v := v.(type) {
	case string:
		dt = v
	case map[string]any:
		if c, ok := v["config"].(map[string]any); ok {
			dt = stringOf(c["name"])
		}
	}
	if dt != "float32" {
		return fmt.Errorf("layer %q (%s): option dtype=%s is %w (supported: float32; mixed precision and other dtypes are not)", name, class, jsonText(v), ErrUnsupported)
	}
	return nil
}

// checkRegistered refuses custom objects (registered_name set).
func checkRegistered(what string, spec map[string]any) error {
	if r := stringOf(spec["registered_name"]); r != "" && r != stringOf(spec["class_name"]) {
		return fmt.Errorf("%s %q is a custom object (registered_name %q) and is %w", what, stringOf(spec["class_name"]), r, ErrUnsupported)
	}
	return nil
}

// supportedClasses lists what layer() builds, for error messages.
const supportedClasses = "Activation, ActivityRegularization, Add, AlphaDropout, Average, AveragePooling1D, " +
	"BatchNormalization, Bidirectional, Concatenate, Conv1D, Dense, Dropout, ELU, Flatten, GRU, " +
	"GaussianDropout, GaussianNoise, GlobalAveragePooling1D, GlobalMaxPooling1D, InputLayer, LSTM, " +
	"LayerNormalization, LeakyReLU, MaxPooling1D, Multiply, PReLU, ReLU, RepeatVector, Reshape, " +
	"SpatialDropout1D, Subtract, TimeDistributed"

// layer builds the nn layer for one config (never an InputLayer).
func (p *parser) layer(c *lcfg) (nn.Layer, error) {
	if err := checkRegistered("layer class", c.spec); err != nil {
		return nil, fmt.Errorf("layer %q: %w", c.name, err)
	}
	if err := checkDType(c.name, c.class, c.m); err != nil {
		return nil, err
	}
	switch c.class {
	case "Conv1D", "Convolution1D":
		return p.conv1D(c)
	case "MaxPooling1D", "MaxPool1D", "AveragePooling1D", "AvgPool1D":
		return p.pooling1D(c)
	case "GlobalMaxPooling1D", "GlobalMaxPool1D", "GlobalAveragePooling1D", "GlobalAvgPool1D":
		if err := c.dataFormat(); err != nil {
			return nil, err
		}
		keep, err := c.bool("keepdims", false)
		if err != nil {
			return nil, err
		}
		kind := nn.MaxPool
		if strings.Contains(c.class, "Av") {
			kind = nn.AvgPool
		}
		return &nn.GlobalPooling1D{LayerName: c.name, Kind: kind, KeepDims: keep}, nil
	case "LSTM", "GRU":
		return p.recurrent(c)
	case "Bidirectional":
		return p.bidirectional(c)
	case "Dense":
		return p.dense(c)
	case "TimeDistributed":
		v, ok := c.get("layer")
		if !ok {
			return nil, c.errf("missing option layer")
		}
		spec, err := layerSpec(v)
		if err != nil {
			return nil, c.errf("option layer: %w", err)
		}
		ic := p.cfg(spec)
		if ic.class == "InputLayer" {
			return nil, c.errf("option layer: InputLayer cannot be wrapped")
		}
		inner, err := p.layer(ic)
		if err != nil {
			return nil, fmt.Errorf("layer %q (%s): %w", c.name, c.class, err)
		}
		return &nn.TimeDistributed{LayerName: c.name, Inner: inner}, nil
	case "Flatten":
		if err := c.dataFormat(); err != nil {
			return nil, err
		}
		return &nn.Flatten{LayerName: c.name}, nil
	case "Reshape":
		v, ok := c.get("target_shape")
		l, isList := v.([]any)
		if !ok || !isList || len(l) == 0 {
			return nil, c.bad("target_shape", "a list of dimensions")
		}
		target := make([]int, len(l))
		for i, d := range l {
			n, ok := intOf(d)
			if !ok || n == 0 || n < -1 {
				return nil, c.bad("target_shape", "positive dimensions and at most one -1")
			}
			target[i] = n
		}
		return &nn.Reshape{LayerName: c.name, Target: target}, nil
	case "RepeatVector":
		n, err := c.positive("n", required)
		if err != nil {
			return nil, err
		}
		return &nn.RepeatVector{LayerName: c.name, N: n}, nil
	case "BatchNormalization":
		return p.batchNorm(c)
	case "LayerNormalization":
		return p.layerNorm(c)
	case "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "ActivityRegularization", "AlphaDropout":
		return &nn.Identity{LayerName: c.name, ClassName: c.class}, nil
	case "Activation":
		a, err := c.activation(p, "activation", true)
		if err != nil {
			return nil, err
		}
		return &nn.ActivationLayer{LayerName: c.name, Activation: a}, nil
	case "ReLU":
		l := &nn.ReLU{LayerName: c.name}
		if v, ok := c.get("max_value"); ok {
			f, ok := floatOf(v)
			if !ok {
				return nil, c.bad("max_value", "a number or null")
			}
			l.MaxValue, l.HasMax = float32(f), true
		}
		ns, err := c.float("negative_slope", 0)
		if err != nil {
			return nil, err
		}
		th, err := c.float("threshold", 0)
		if err != nil {
			return nil, err
		}
		l.NegativeSlope, l.Threshold = float32(ns), float32(th)
		return l, nil
	case "LeakyReLU":
		key := "negative_slope"
		if _, ok := c.get(key); !ok {
			key = "alpha"
		}
		a, err := c.float(key, 0.3)
		if err != nil {
			return nil, err
		}
		return &nn.LeakyReLU{LayerName: c.name, Alpha: float32(a)}, nil
	case "ELU":
		a, err := c.float("alpha", 1)
		if err != nil {
			return nil, err
		}
		return &nn.ELU{LayerName: c.name, Alpha: float32(a)}, nil
	case "PReLU":
		var axes []int
		if v, ok := c.get("shared_axes"); ok {
			for _, a := range asList(v) {
				n, ok := intOf(a)
				if !ok || n < 1 {
					return nil, c.bad("shared_axes", "null or a list of axes >= 1")
				}
				axes = append(axes, n)
			}
		}
		return &nn.PReLU{LayerName: c.name, SharedAxes: axes}, nil
	case "Concatenate":
		axis, err := c.int("axis", -1)
		if err != nil {
			return nil, err
		}
		return &nn.Merge{LayerName: c.name, Op: nn.Concatenate, Axis: axis}, nil
	case "Add":
		return &nn.Merge{LayerName: c.name, Op: nn.Add}, nil
	case "Subtract":
		return &nn.Merge{LayerName: c.name, Op: nn.Subtract}, nil
	case "Multiply":
		return &nn.Merge{LayerName: c.name, Op: nn.Multiply}, nil
	case "Average":
		return &nn.Merge{LayerName: c.name, Op: nn.Average}, nil
	case "InputLayer":
		return nil, c.errf("InputLayer is only allowed as the model's input")
	}
	return nil, fmt.Errorf("layer %q: class %s is %w (supported: %s)", c.name, c.class, ErrUnsupported, supportedClasses)
}

func (p *parser) conv1D(c *lcfg) (nn.Layer, error) {
	l := &nn.Conv1D{LayerName: c.name}
	var err error
	if err = c.dataFormat(); err != nil {
		return nil, err
	}
	if g, err := c.int("groups", 1); err != nil {
		return nil, err
	} else if g != 1 {
		return nil, c.unsupported("groups", "1")
	}
	if l.Filters, err = c.positive("filters", required); err != nil {
		return nil, err
	}
	if l.KernelSize, err = c.positive("kernel_size", required); err != nil {
		return nil, err
	}
	if l.Strides, err = c.positive("strides", 1); err != nil {
		return nil, err
	}
	if l.DilationRate, err = c.positive("dilation_rate", 1); err != nil {
		return nil, err
	}
	if l.Padding, err = c.oneOf("padding", "valid", "valid", "same", "causal"); err != nil {
		return nil, err
	}
	if l.UseBias, err = c.bool("use_bias", true); err != nil {
		return nil, err
	}
	if err = c.mustBeNull("lora_rank"); err != nil {
		return nil, err
	}
	l.Activation, err = c.activation(p, "activation", false)
	return l, err
}

func (p *parser) pooling1D(c *lcfg) (nn.Layer, error) {
	l := &nn.Pooling1D{LayerName: c.name, Kind: nn.MaxPool}
	if strings.HasPrefix(c.class, "Av") {
		l.Kind = nn.AvgPool
	}
	var err error
	if err = c.dataFormat(); err != nil {
		return nil, err
	}
	if l.PoolSize, err = c.positive("pool_size", 2); err != nil {
		return nil, err
	}
	if l.Strides, err = c.positive("strides", l.PoolSize); err != nil {
		return nil, err
	}
	l.Padding, err = c.oneOf("padding", "valid", "valid", "same")
	return l, err
}

// rnnOptions are the LSTM/GRU options that change what the layer computes
// or returns, checked in this order.
func (p *parser) recurrent(c *lcfg) (nn.Layer, error) {
	for _, key := range []string{"stateful", "return_state", "time_major"} {
		if err := c.mustBe(key, false); err != nil {
			return nil, err
		}
	}
	units, err := c.positive("units", required)
	if err != nil {
		return nil, err
	}
	seq, err := c.bool("return_sequences", false)
	if err != nil {
		return nil, err
	}
	back, err := c.bool("go_backwards", false)
	if err != nil {
		return nil, err
	}
	bias, err := c.bool("use_bias", true)
	if err != nil {
		return nil, err
	}
	act, err := c.activation(p, "activation", false)
	if _, ok := c.get("activation"); !ok && err == nil {
		act, err = nn.NewActivation("tanh", p.keras3)
	}
	if err != nil {
		return nil, err
	}
	rec, err := c.activation(p, "recurrent_activation", false)
	if _, ok := c.get("recurrent_activation"); !ok && err == nil {
		rec, err = nn.NewActivation("sigmoid", p.keras3)
	}
	if err != nil {
		return nil, err
	}
	if c.class == "LSTM" {
		return &nn.LSTM{LayerName: c.name, Units: units, ReturnSequences: seq, GoBackwards: back,
			UseBias: bias, Activation: act, RecurrentActivation: rec}, nil
	}
	resetAfter, err := c.bool("reset_after", true)
	if err != nil {
		return nil, err
	}
	return &nn.GRU{LayerName: c.name, Units: units, ReturnSequences: seq, GoBackwards: back,
		UseBias: bias, ResetAfter: resetAfter, Activation: act, RecurrentActivation: rec}, nil
}

// bidirectional builds both directions. Keras 2 configs carry only "layer":
// the backward layer is a copy with go_backwards flipped, named as Keras
// names it ("forward_lstm", "backward_lstm"). Keras 3 configs carry an
// explicit backward_layer.
func (p *parser) bidirectional(c *lcfg) (nn.Layer, error) {
	if v, ok := c.m["merge_mode"]; ok && v == nil {
		return nil, c.unsupported("merge_mode", "concat, sum, ave, mul; null returns two tensors")
	}
	mode, err := c.oneOf("merge_mode", "concat", "concat", "sum", "ave", "mul")
	if err != nil {
		return nil, err
	}
	inner := func(key string) (*lcfg, error) {
		v, _ := c.get(key)
		spec, err := layerSpec(v)
		if err != nil {
			return nil, c.errf("option %s: %w", key, err)
		}
		ic := p.cfg(spec)
		if ic.class != "LSTM" && ic.class != "GRU" {
			return nil, fmt.Errorf("layer %q (%s): option %s: wrapping class %s is %w (supported: LSTM, GRU)", c.name, c.class, key, ic.class, ErrUnsupported)
		}
		if err := checkRegistered("layer class", spec); err != nil {
			return nil, fmt.Errorf("layer %q (%s): %w", c.name, c.class, err)
		}
		if err := checkDType(ic.name, ic.class, ic.m); err != nil {
			return nil, fmt.Errorf("layer %q (%s): %w", c.name, c.class, err)
		}
		return ic, nil
	}
	if _, ok := c.get("layer"); !ok {
		return nil, c.errf("missing option layer")
	}
	fc, err := inner("layer")
	if err != nil {
		return nil, err
	}
	var bc *lcfg
	if _, ok := c.get("backward_layer"); ok {
		if bc, err = inner("backward_layer"); err != nil {
			return nil, err
		}
	} else {
		bm := make(map[string]any, len(fc.m))
		for k, v := range fc.m {
			bm[k] = v
		}
		back, _ := fc.m["go_backwards"].(bool)
		bm["go_backwards"] = !back
		bm["name"] = "backward_" + fc.name
		bc = &lcfg{class: fc.class, name: "backward_" + fc.name, spec: fc.spec, m: bm}
		fm := make(map[string]any, len(fc.m))
		for k, v := range fc.m {
			fm[k] = v
		}
		fm["name"] = "forward_" + fc.name
		fc = &lcfg{class: fc.class, name: "forward_" + fc.name, spec: fc.spec, m: fm}
	}
	fwd, err := p.recurrent(fc)
	if err != nil {
		return nil, fmt.Errorf("layer %q (%s): %w", c.name, c.class, err)
	}
	bwd, err := p.recurrent(bc)
	if err != nil {
		return nil, fmt.Errorf("layer %q (%s): %w", c.name, c.class, err)
	}
	if fc.class != bc.class {
		return nil, c.errf("forward layer %s and backward layer %s differ in class", fc.class, bc.class)
	}
	fs, _ := fc.bool("return_sequences", false)
	bs, _ := bc.bool("return_sequences", false)
	if fs != bs {
		return nil, c.errf("forward and backward layers differ in return_sequences")
	}
	return &nn.Bidirectional{LayerName: c.name, ForwardLayer: fwd, BackwardLayer: bwd, MergeMode: mode}, nil
}

func (p *parser) dense(c *lcfg) (nn.Layer, error) {
	l := &nn.Dense{LayerName: c.name}
	var err error
	if l.Units, err = c.positive("units", required); err != nil {
		return nil, err
	}
	if l.UseBias, err = c.bool("use_bias", true); err != nil {
		return nil, err
	}
	for _, key := range []string{"lora_rank", "quantization_config"} {
		if err = c.mustBeNull(key); err != nil {
			return nil, err
		}
	}
	l.Activation, err = c.activation(p, "activation", false)
	return l, err
}

// axis reads a normalization axis: an int or a one-element list.
func (c *lcfg) axis() (int, error) {
	if _, ok := c.get("axis"); !ok {
		return -1, nil
	}
	if l, ok := c.m["axis"].([]any); ok && len(l) != 1 {
		return 0, c.unsupported("axis", "the last axis only")
	}
	return c.int("axis", -1)
}

// normOptions reads what BatchNormalization and LayerNormalization share:
// the axis (last only), epsilon (Keras default 1e-3), center and scale.
func (c *lcfg) normOptions() (axis int, eps float32, center, scale bool, err error) {
	if axis, err = c.axis(); err != nil {
		return
	}
	e, err := c.float("epsilon", 1e-3)
	if err != nil {
		return
	}
	eps = float32(e)
	if center, err = c.bool("center", true); err != nil {
		return
	}
	scale, err = c.bool("scale", true)
	return
}

func (p *parser) batchNorm(c *lcfg) (nn.Layer, error) {
	l := &nn.BatchNormalization{LayerName: c.name}
	var err error
	if l.Axis, l.Epsilon, l.Center, l.Scale, err = c.normOptions(); err != nil {
		return nil, err
	}
	return l, c.mustBe("renorm", false)
}

func (p *parser) layerNorm(c *lcfg) (nn.Layer, error) {
	l := &nn.LayerNormalization{LayerName: c.name}
	var err error
	if l.Axis, l.Epsilon, l.Center, l.Scale, err = c.normOptions(); err != nil {
		return nil, err
	}
	return l, c.mustBe("rms_scaling", false)
}

// --- JSON helpers ---

func decodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func decodeObject(data []byte) (map[string]any, error) {
	v, err := decodeAny(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func intOf(v any) (int, bool) {
	switch v := v.(type) {
	case json.Number:
		if n, err := strconv.Atoi(v.String()); err == nil {
			return n, true
		}
		f, err := v.Float64()
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<31 {
			return int(f), true
		}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<31 {
			return int(v), true
		}
	}
	return 0, false
}

func floatOf(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	}
	return 0, false
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// jsonText renders a config value for an error message.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}
