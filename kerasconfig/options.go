package kerasconfig

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

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
