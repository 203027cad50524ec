package kerasconfig

import (
	"slices"

	"github.com/seqcast/seqcast/nn"
)

// addMergeScaling adds Dot, Maximum, Minimum, the Softmax layer and the
// preprocessing layers Rescaling and Normalization to a builder table
// (Default calls it). Their configs read the same in Keras 2 (<= 2.12 and
// 2.13-2.15) and Keras 3, except that Dot's normalize floors the L2 norm at
// 1e-6 in Keras 2 (tf.linalg.l2_normalize) and at 1e-7 in Keras 3.
func addMergeScaling(b Builders) {
	b["Dot"] = dot
	b["Maximum"] = merge(nn.Maximum)
	b["Minimum"] = merge(nn.Minimum)
	b["Softmax"] = softmaxLayer
	b["Rescaling"] = rescaling
	b["Normalization"] = normalization
}

// dot reads axes (an integer for both inputs, or a pair) and normalize.
func dot(c *LayerConfig) (nn.Layer, error) {
	l := &nn.Dot{LayerName: c.name, NormEpsilon: 1e-6}
	if c.Keras3() {
		l.NormEpsilon = 1e-7
	}
	v, ok := c.Value("axes")
	if !ok {
		return nil, c.Invalid("axes", "an axis or a pair of axes")
	}
	axes := asList(v)
	if len(axes) == 1 {
		axes = []any{axes[0], axes[0]}
	}
	if len(axes) != 2 {
		return nil, c.Invalid("axes", "an axis or a pair of axes")
	}
	for i, a := range axes {
		n, ok := intOf(a)
		if !ok {
			return nil, c.Invalid("axes", "an axis or a pair of axes")
		}
		l.Axes[i] = n
	}
	var err error
	l.Normalize, err = c.Bool("normalize", false)
	return l, err
}

// softmaxLayer reads axis: an integer or a list of them. A mask on its input
// is refused by the model (Keras 3 would add -1e9 at masked positions).
func softmaxLayer(c *LayerConfig) (nn.Layer, error) {
	axes, err := c.axes("axis", []int{-1})
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return nil, c.Invalid("axis", "an axis or a list of axes")
	}
	return &nn.Softmax{LayerName: c.name, Axes: axes}, nil
}

// axes reads an option that is an integer or a list of integers (def when
// absent or null).
func (c *LayerConfig) axes(key string, def []int) ([]int, error) {
	v, ok := c.Value(key)
	if !ok {
		return def, nil
	}
	var out []int
	for _, a := range asList(v) {
		n, ok := intOf(a)
		if !ok {
			return nil, c.Invalid(key, "an axis or a list of axes")
		}
		out = append(out, n)
	}
	return out, nil
}

// rescaling reads scale and offset; a scale or offset given per channel (an
// array, which Keras 3 accepts) is refused.
func rescaling(c *LayerConfig) (nn.Layer, error) {
	l := &nn.Rescaling{LayerName: c.name}
	for _, o := range []struct {
		key string
		def float64
		dst *float32
	}{{"scale", 1, &l.Scale}, {"offset", 0, &l.Offset}} {
		if v, ok := c.Value(o.key); ok {
			if _, isNum := floatOf(v); !isNum {
				return nil, c.Unsupported(o.key, "a number")
			}
		} else if o.key == "scale" {
			return nil, c.Invalid("scale", "a number")
		}
		f, err := c.Float(o.key, o.def)
		if err != nil {
			return nil, err
		}
		*o.dst = float32(f)
	}
	return l, nil
}

// normalization reads axis (an integer, a list, or null for one mean and
// variance over everything), invert, and mean and variance: numbers or
// nested lists, or null when adapt() computed them (they are then the
// layer's weights mean, variance and count).
func normalization(c *LayerConfig) (nn.Layer, error) {
	l := &nn.Normalization{LayerName: c.name}
	var err error
	if _, present := c.m["axis"]; present {
		l.Axes, err = c.axes("axis", nil) // null: axis=None
	} else {
		l.Axes = []int{-1}
	}
	if err != nil {
		return nil, err
	}
	if l.Invert, err = c.Bool("invert", false); err != nil {
		return nil, err
	}
	mv, hasMean := c.Value("mean")
	vv, hasVar := c.Value("variance")
	if hasMean != hasVar {
		return nil, c.Errorf("mean and variance: give both or neither")
	}
	if !hasMean {
		return l, nil
	}
	var ms, vs []int
	var okM, okV bool
	ms, l.Mean, okM = nestedArray(mv)
	vs, l.Variance, okV = nestedArray(vv)
	if !okM {
		return nil, c.Invalid("mean", "a number or a nested list of numbers")
	}
	if !okV {
		return nil, c.Invalid("variance", "a number or a nested list of numbers")
	}
	if !slices.Equal(ms, vs) {
		return nil, c.Invalid("variance", "the shape of mean")
	}
	l.StatsShape = ms
	return l, nil
}

// nestedArray reads a number or a rectangular nested list of numbers into
// its shape and row-major values.
func nestedArray(v any) (shape []int, vals []float64, ok bool) {
	if f, isNum := floatOf(v); isNum {
		return []int{}, []float64{f}, true
	}
	l, isList := v.([]any)
	if !isList || len(l) == 0 {
		return nil, nil, false
	}
	var inner []int
	for i, e := range l {
		s, vs, ok := nestedArray(e)
		if !ok || (i > 0 && !slices.Equal(s, inner)) {
			return nil, nil, false
		}
		inner = s
		vals = append(vals, vs...)
	}
	return append([]int{len(l)}, inner...), vals, true
}
