package kerasconfig

import (
	"fmt"
	"strings"

	"github.com/seqcast/seqcast/nn"
)

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
