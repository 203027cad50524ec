package kerasconfig

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/seqcast/seqcast/nn"
)

// LayerConfig is one layer's config as a Builder sees it: its name, class,
// and typed accessors for its options whose errors are *Error values
// naming the layer, the option, its value and what is supported.
//
// A JSON null counts as absent, so an option's default applies. Accessors
// read integer options also in Keras 3's one-element-list form ([3] for 3).
type LayerConfig struct {
	p           *parser
	class, name string
	spec        map[string]any // {"class_name", "config", ...}
	m           map[string]any // spec["config"]
	call        map[string]any // the call's keyword arguments (functional models; see CallArg)
}

func (p *parser) cfg(spec map[string]any) *LayerConfig {
	m := spec["config"].(map[string]any)
	return &LayerConfig{p: p, class: stringOf(spec["class_name"]), name: stringOf(m["name"]), spec: spec, m: m}
}

// Name is the layer's Keras name ("lstm_1").
func (c *LayerConfig) Name() string { return c.name }

// Class is the layer's Keras class name ("LSTM").
func (c *LayerConfig) Class() string { return c.class }

// Keras3 reports whether Keras 3 semantics apply to the model (they differ
// for hard_sigmoid); nn.NewActivation takes it.
func (c *LayerConfig) Keras3() bool { return c.p.keras3 }

// Value returns an option's raw JSON value (numbers are json.Number), and
// whether it is present and not null.
func (c *LayerConfig) Value(key string) (any, bool) {
	v, ok := c.m[key]
	return v, ok && v != nil
}

// Errorf reports a problem with the layer.
func (c *LayerConfig) Errorf(format string, args ...any) error {
	return &Error{Layer: c.name, Class: c.class, Err: fmt.Errorf(format, args...)}
}

// Unsupported reports an option value seqcast cannot run, with what it
// supports instead; the error wraps ErrUnsupported.
func (c *LayerConfig) Unsupported(key string, supported ...string) error {
	v := jsonText(c.m[key])
	return &Error{Layer: c.name, Class: c.class, Option: key, Value: v, Supported: supported,
		Err: unsupported(fmt.Sprintf("option %s=%s", key, v), supported)}
}

// Invalid reports an option whose value is malformed, saying what it wants.
func (c *LayerConfig) Invalid(key, want string) error {
	v := jsonText(c.m[key])
	return &Error{Layer: c.name, Class: c.class, Option: key, Value: v,
		Err: fmt.Errorf("option %s=%s: want %s", key, v, want)}
}

// optionError wraps err, from interpreting option key, in an *Error.
func (c *LayerConfig) optionError(key string, err error) error {
	v := jsonText(c.m[key])
	return &Error{Layer: c.name, Class: c.class, Option: key, Value: v,
		Err: fmt.Errorf("option %s=%s: %w", key, v, err)}
}

// Required as an integer option's default makes the option mandatory.
const Required = math.MinInt

// Int reads an integer option.
func (c *LayerConfig) Int(key string, def int) (int, error) {
	v, ok := c.Value(key)
	if !ok {
		if def == Required {
			return 0, c.Errorf("missing option %s", key)
		}
		return def, nil
	}
	if l, isList := v.([]any); isList {
		if len(l) != 1 {
			return 0, c.Invalid(key, "one integer (1-D layers)")
		}
		v = l[0]
	}
	n, ok := intOf(v)
	if !ok {
		return 0, c.Invalid(key, "an integer")
	}
	return n, nil
}

// Positive reads an integer option that must be >= 1.
func (c *LayerConfig) Positive(key string, def int) (int, error) {
	n, err := c.Int(key, def)
	if err == nil && n < 1 {
		err = c.Invalid(key, "a positive integer")
	}
	return n, err
}

// Float reads a finite number.
func (c *LayerConfig) Float(key string, def float64) (float64, error) {
	v, ok := c.Value(key)
	if !ok {
		return def, nil
	}
	f, ok := floatOf(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, c.Invalid(key, "a finite number")
	}
	return f, nil
}

// Bool reads true or false.
func (c *LayerConfig) Bool(key string, def bool) (bool, error) {
	v, ok := c.Value(key)
	if !ok {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, c.Invalid(key, "true or false")
	}
	return b, nil
}

// Str reads a string option.
func (c *LayerConfig) Str(key, def string) (string, error) {
	v, ok := c.Value(key)
	if !ok {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", c.Invalid(key, "a string")
	}
	return s, nil
}

// OneOf reads a string option that must be one of allowed.
func (c *LayerConfig) OneOf(key, def string, allowed ...string) (string, error) {
	s, err := c.Str(key, def)
	if err != nil {
		return "", err
	}
	if !slices.Contains(allowed, s) {
		return "", c.Unsupported(key, allowed...)
	}
	return s, nil
}

// MustBe fails unless a boolean option has the value seqcast supports.
func (c *LayerConfig) MustBe(key string, want bool) error {
	b, err := c.Bool(key, want)
	if err != nil {
		return err
	}
	if b != want {
		return c.Unsupported(key, strconv.FormatBool(want))
	}
	return nil
}

// MustBeNull fails unless an option is absent, null, 0 or false.
func (c *LayerConfig) MustBeNull(key string) error {
	v, ok := c.Value(key)
	if !ok || v == false {
		return nil
	}
	if n, isNum := floatOf(v); isNum && n == 0 {
		return nil
	}
	return c.Unsupported(key, "null")
}

// Activation reads an activation option: a name, null (linear, or def when
// def is not ""), or Keras 3's {"class_name": "function", "config": "relu"}
// form. With def "" and mandatory, a missing option is an error.
func (c *LayerConfig) Activation(key, def string, mandatory bool) (nn.Activation, error) {
	v, ok := c.Value(key)
	if !ok {
		if mandatory {
			return nn.Activation{}, c.Errorf("missing option %s", key)
		}
		if def == "" {
			def = "linear"
		}
		return nn.NewActivation(def, c.p.keras3)
	}
	name, isStr := v.(string)
	if m, isMap := v.(map[string]any); isMap && stringOf(m["class_name"]) == "function" {
		name, isStr = m["config"].(string)
	}
	if !isStr {
		return nn.Activation{}, c.Unsupported(key, "the name of a built-in activation")
	}
	a, err := nn.NewActivation(name, c.p.keras3)
	if err != nil {
		return nn.Activation{}, c.optionError(key, err)
	}
	return a, nil
}

// DataFormat accepts only channels_last.
func (c *LayerConfig) DataFormat() error {
	_, err := c.OneOf("data_format", "channels_last", "channels_last")
	return err
}

// Wrapped reads the layer config held in option key (the layer a
// Bidirectional or TimeDistributed wraps); Build builds it.
func (c *LayerConfig) Wrapped(key string) (*LayerConfig, error) {
	v, ok := c.Value(key)
	if !ok {
		return nil, c.Errorf("missing option %s", key)
	}
	spec, err := layerSpec(v)
	if err != nil {
		return nil, c.optionError(key, err)
	}
	ic := c.p.cfg(spec)
	if ic.class == "InputLayer" {
		return nil, c.Errorf("option %s: InputLayer cannot be wrapped", key)
	}
	return ic, nil
}

// Build builds a wrapped layer's config (from Wrapped) through the
// parser's builder table; an error names c as the wrapping layer.
func (c *LayerConfig) Build(inner *LayerConfig) (nn.Layer, error) {
	l, err := c.p.build(inner)
	return l, c.within(err)
}

// within records c as wrapping the layer err is about.
func (c *LayerConfig) within(err error) error {
	if err == nil {
		return nil
	}
	e := asError(err)
	e.Within = append([]LayerID{{c.name, c.class}}, e.Within...)
	return e
}

// inputShape reads the per-sample input shape from batch_input_shape or
// batch_shape (batch dimension first) or input_shape (without it). With
// mandatory, a missing shape is an error; without, it returns nil.
func (c *LayerConfig) inputShape(mandatory bool) (nn.Shape, error) {
	for _, key := range []string{"batch_input_shape", "batch_shape"} {
		if v, ok := c.Value(key); ok {
			s, err := batchShape(v)
			if err != nil {
				return nil, c.optionError(key, err)
			}
			return s, c.inputLayerOptions()
		}
	}
	if v, ok := c.Value("input_shape"); ok {
		s, err := batchShape(append([]any{nil}, asList(v)...))
		if err != nil {
			return nil, c.optionError("input_shape", err)
		}
		return s, c.inputLayerOptions()
	}
	if mandatory {
		return nil, c.Errorf("no batch_input_shape, batch_shape or input_shape")
	}
	return nil, nil
}

func (c *LayerConfig) inputLayerOptions() error {
	if c.class != "InputLayer" {
		return nil
	}
	for _, key := range []string{"sparse", "ragged"} {
		if err := c.MustBe(key, false); err != nil {
			return err
		}
	}
	if intDType(c.m) && c.p != nil { // ids for an Embedding: checkIntInputs
		if c.p.ints == nil {
			c.p.ints = map[string]bool{}
		}
		c.p.ints[c.name] = true
		return nil
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
// float32; mixed precision and other dtypes are unsupported. name and class
// are the layer's, or the model's for a model-level dtype.
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
		c := &LayerConfig{class: class, name: name, m: m}
		return c.Unsupported("dtype", "float32")
	}
	return nil
}

// registeredName is a custom object's registered_name ("Custom>MyLayer"),
// or "" when spec is a built-in Keras class.
func registeredName(spec map[string]any) string {
	if r := stringOf(spec["registered_name"]); r != stringOf(spec["class_name"]) {
		return r
	}
	return ""
}

// normOptions reads what BatchNormalization and LayerNormalization share:
// the axis (an int or a one-element list, the last axis only), epsilon
// (Keras default 1e-3), center and scale.
func (c *LayerConfig) normOptions() (axis int, eps float32, center, scale bool, err error) {
	axis = -1
	if _, ok := c.Value("axis"); ok {
		if l, ok := c.m["axis"].([]any); ok && len(l) != 1 {
			return 0, 0, false, false, c.Unsupported("axis", "the last axis only")
		}
		if axis, err = c.Int("axis", -1); err != nil {
			return
		}
	}
	e, err := c.Float("epsilon", 1e-3)
	if err != nil {
		return
	}
	eps = float32(e)
	if center, err = c.Bool("center", true); err != nil {
		return
	}
	scale, err = c.Bool("scale", true)
	return
}
