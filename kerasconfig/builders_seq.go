package kerasconfig

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

// The sequence layers: Masking, Permute, ZeroPadding1D, Cropping1D,
// UpSampling1D and Conv1DTranspose (SimpleRNN is a recurrent kind, see
// rnnKinds), and the checks of where a mask goes.

// addSequenceBuilders adds the sequence layers' builders to b.
func addSequenceBuilders(b Builders) {
	b["Masking"] = masking
	b["Permute"] = permute
	b["ZeroPadding1D"] = padding1D(false)
	b["Cropping1D"] = padding1D(true)
	b["UpSampling1D"] = upSampling1D
	b["Conv1DTranspose"] = conv1DTranspose
	b["Convolution1DTranspose"] = conv1DTranspose
}

func masking(c *LayerConfig) (nn.Layer, error) {
	v, err := c.Float("mask_value", 0)
	if err != nil {
		return nil, err
	}
	return &nn.Masking{LayerName: c.name, MaskValue: float32(v)}, nil
}

func permute(c *LayerConfig) (nn.Layer, error) {
	v, ok := c.Value("dims")
	l, isList := v.([]any)
	if !ok || !isList || len(l) == 0 {
		return nil, c.Invalid("dims", "a list of axes")
	}
	dims := make([]int, len(l))
	for i, d := range l {
		n, ok := intOf(d)
		if !ok || n < 1 {
			return nil, c.Invalid("dims", "a permutation of 1..rank")
		}
		dims[i] = n
	}
	return &nn.Permute{LayerName: c.name, Dims: dims}, nil
}

// pair reads an option that is one non-negative integer (both sides) or a
// list of two (left, right); Keras's default is 1 on each side.
func (c *LayerConfig) pair(key string) (int, int, error) {
	v, ok := c.Value(key)
	if !ok {
		return 1, 1, nil
	}
	if l, isList := v.([]any); isList {
		if len(l) != 2 {
			return 0, 0, c.Invalid(key, "an integer or a list of two (left, right)")
		}
		a, okA := intOf(l[0])
		b, okB := intOf(l[1])
		if !okA || !okB || a < 0 || b < 0 {
			return 0, 0, c.Invalid(key, "non-negative integers")
		}
		return a, b, nil
	}
	n, isInt := intOf(v)
	if !isInt || n < 0 {
		return 0, 0, c.Invalid(key, "a non-negative integer or a list of two")
	}
	return n, n, nil
}

func padding1D(crop bool) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		if crop {
			a, b, err := c.pair("cropping")
			if err != nil {
				return nil, err
			}
			return &nn.Cropping1D{LayerName: c.name, Left: a, Right: b}, nil
		}
		a, b, err := c.pair("padding")
		if err != nil {
			return nil, err
		}
		return &nn.ZeroPadding1D{LayerName: c.name, Left: a, Right: b}, nil
	}
}

func upSampling1D(c *LayerConfig) (nn.Layer, error) {
	n, err := c.Positive("size", 2)
	if err != nil {
		return nil, err
	}
	return &nn.UpSampling1D{LayerName: c.name, Size: n}, nil
}

// convOptions reads what Conv1D and Conv1DTranspose share: channels_last,
// groups 1, filters, kernel_size, strides and dilation_rate.
func (c *LayerConfig) convOptions() (filters, kernel, strides, dilation int, err error) {
	if err = c.DataFormat(); err != nil {
		return
	}
	g, err := c.Int("groups", 1)
	if err != nil {
		return
	}
	if g != 1 {
		err = c.Unsupported("groups", "1")
		return
	}
	if filters, err = c.Positive("filters", Required); err != nil {
		return
	}
	if kernel, err = c.Positive("kernel_size", Required); err != nil {
		return
	}
	if strides, err = c.Positive("strides", 1); err != nil {
		return
	}
	dilation, err = c.Positive("dilation_rate", 1)
	return
}

func conv1DTranspose(c *LayerConfig) (nn.Layer, error) {
	l := &nn.Conv1DTranspose{LayerName: c.name, OutputPadding: -1}
	var err error
	if l.Filters, l.KernelSize, l.Strides, l.DilationRate, err = c.convOptions(); err != nil {
		return nil, err
	}
	if l.Padding, err = c.OneOf("padding", "valid", "valid", "same"); err != nil {
		return nil, err
	}
	if _, ok := c.Value("output_padding"); ok {
		if l.OutputPadding, err = c.Int("output_padding", 0); err != nil {
			return nil, err
		}
		if l.OutputPadding < 0 {
			return nil, c.Invalid("output_padding", "null or a non-negative integer")
		}
	}
	if l.UseBias, err = c.Bool("use_bias", true); err != nil {
		return nil, err
	}
	l.Activation, err = c.Activation("activation", "", false)
	return l, err
}

// StatefulLayers lists the recurrent layers of m saved with stateful=True
// (inside a Bidirectional too), by name; ModelInfo.Stateful holds the same
// list for a parsed config. seqcast runs them from a zero state at every
// call.
func StatefulLayers(m *nn.Model) []string {
	var out []string
	var visit func(l nn.Layer)
	visit = func(l nn.Layer) {
		switch l := l.(type) {
		case *nn.LSTM:
			if l.Stateful {
				out = append(out, l.Name())
			}
		case *nn.GRU:
			if l.Stateful {
				out = append(out, l.Name())
			}
		case *nn.SimpleRNN:
			if l.Stateful {
				out = append(out, l.Name())
			}
		case *nn.Bidirectional:
			visit(l.ForwardLayer)
			visit(l.BackwardLayer)
		}
	}
	for _, nd := range m.Nodes() {
		visit(nd.Layer)
	}
	return out
}

// checkMaskDrops refuses a mask reaching a layer that does not support
// masking when the Keras that saved the model raised there: Keras before
// 2.4 (and TF.js) raise "does not support masking" when the model is built,
// while Keras 2.4+ drops the mask silently and Keras 3 with a warning. An
// unknown version counts as old unless the config is in a dialect only
// Keras 2.13+ writes.
func checkMaskDrops(m *nn.Model, info ModelInfo) error {
	drops := m.MaskDrops()
	if len(drops) == 0 || info.Keras3 || info.Dialect != DialectKeras2 || !maskRaises(info.KerasVersion) {
		return nil
	}
	d := drops[0]
	l := m.Nodes()[d.Node].Layer
	v := info.KerasVersion
	if v == "" {
		v = "unknown"
	}
	return &Error{Layer: l.Name(), Class: l.Class(), Err: fmt.Errorf(
		"receives the mask of Masking layer %q but does not support masking: Keras before 2.4 refuses this model (keras_version %s), "+
			"and so does seqcast (a mask may pass through Dropout-like, Activation, Dense, normalization and merge layers into LSTM, GRU, "+
			"SimpleRNN and Bidirectional; Keras 2.4+ and 3 drop it at other layers)", d.Source, v)}
}

// maskRaises reports whether a keras_version raised when a mask reached a
// layer without mask support: before 2.4, TF.js, or unknown.
func maskRaises(version string) bool {
	if version == "" || strings.HasPrefix(version, "tfjs") {
		return true
	}
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return true
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return true
	}
	return major < 2 || (major == 2 && minor < 4)
}
