package kerasconfig

import (
	"fmt"
	"maps"
	"slices"

	"github.com/seqcast/seqcast/nn"
)

// A Builder makes the nn layer for one layer config. It reads the options
// it understands through c's accessors and refuses, with c.Unsupported,
// those whose values it cannot honour; options it does not read (initializers,
// regularizers, ...) are ignored.
//
// The layer it returns is not built yet: the model calls its Build with the
// layer's input shapes (one per inbound tensor), and its Weights then
// declares the arrays the layer expects, names and shapes in Keras's
// get_weights() order, which the caller (package weights) checks and binds.
type Builder func(c *LayerConfig) (nn.Layer, error)

// Builders maps a Keras class name (or, for a custom object, its
// registered_name, such as "Custom>PositionalEncoding") to its Builder.
// It is the one list of what seqcast supports: every error about an unknown
// class lists its Classes.
//
// A Builders is a value: Default returns a fresh one, which a program may
// extend or trim and pass to Parse in Options.Builders, without any state
// shared with other callers.
type Builders map[string]Builder

// Classes lists the classes b builds, sorted.
func (b Builders) Classes() []string {
	return slices.Sorted(maps.Keys(b))
}

// Default returns a new table of the Keras layers seqcast builds.
func Default() Builders {
	b := Builders{
		"InputLayer": func(c *LayerConfig) (nn.Layer, error) {
			return nil, c.Errorf("InputLayer is only allowed as the model's input")
		},
		"Conv1D":                 conv1D,
		"Convolution1D":          conv1D,
		"MaxPooling1D":           pooling1D(nn.MaxPool),
		"MaxPool1D":              pooling1D(nn.MaxPool),
		"AveragePooling1D":       pooling1D(nn.AvgPool),
		"AvgPool1D":              pooling1D(nn.AvgPool),
		"GlobalMaxPooling1D":     globalPooling1D(nn.MaxPool),
		"GlobalMaxPool1D":        globalPooling1D(nn.MaxPool),
		"GlobalAveragePooling1D": globalPooling1D(nn.AvgPool),
		"GlobalAvgPool1D":        globalPooling1D(nn.AvgPool),
		"Bidirectional":          bidirectional,
		"Dense":                  dense,
		"TimeDistributed":        timeDistributed,
		"Flatten":                flatten,
		"Reshape":                reshape,
		"RepeatVector":           repeatVector,
		"BatchNormalization":     batchNorm,
		"LayerNormalization":     layerNorm,
		"Activation":             activation,
		"ReLU":                   relu,
		"LeakyReLU":              leakyReLU,
		"ELU":                    elu,
		"PReLU":                  prelu,
		"Concatenate":            concatenate,
		"Add":                    merge(nn.Add),
		"Subtract":               merge(nn.Subtract),
		"Multiply":               merge(nn.Multiply),
		"Average":                merge(nn.Average),
	}
	for class, kind := range rnnKinds() {
		b[class] = recurrent(kind)
	}
	addSequenceBuilders(b) // builders_seq.go
	addAttention(b)        // builders_attention.go
	addTCN(b)              // builders_tcn.go
	addConvLSTM(b)         // builders_convlstm.go
	addMergeScaling(b)     // builders_merge.go
	addEmbedding(b)        // builders_embedding.go
	// Layers that only act in training are identities at inference.
	for _, class := range []string{"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"} {
		b[class] = identity
	}
	return b
}

// build makes the nn layer for one config through the table. A custom
// object (registered_name other than its class) is looked up by its
// registered name, so that only a builder meant for it builds it.
func (p *parser) build(c *LayerConfig) (nn.Layer, error) {
	key := c.class
	if r := registeredName(c.spec); r != "" {
		key = r
		if _, ok := p.builders[key]; !ok {
			return nil, c.refuseClass(fmt.Sprintf("custom object %q (registered_name)", r), p.builders.Classes())
		}
	}
	if err := checkDType(c.name, c.class, c.m); err != nil {
		return nil, err
	}
	b, ok := p.builders[key]
	if !ok {
		return nil, c.refuseClass("class "+c.class, p.builders.Classes())
	}
	return b(c)
}

// refuse reports that the layer itself (what) is unsupported.
func (c *LayerConfig) refuse(what string, supported []string) error {
	return &Error{Layer: c.name, Class: c.class, Supported: supported, Err: unsupported(what, supported)}
}

// refuseClass reports a class the table lacks, and how a program adds it.
func (c *LayerConfig) refuseClass(what string, supported []string) error {
	return &Error{Layer: c.name, Class: c.class, Supported: supported,
		Err: fmt.Errorf("%w; %s", unsupported(what, supported), CustomLayers)}
}

func conv1D(c *LayerConfig) (nn.Layer, error) {
	l := &nn.Conv1D{LayerName: c.name}
	var err error
	if l.Filters, l.KernelSize, l.Strides, l.DilationRate, err = c.convOptions(); err != nil {
		return nil, err
	}
	if l.Padding, err = c.OneOf("padding", "valid", "valid", "same", "causal"); err != nil {
		return nil, err
	}
	if l.UseBias, err = c.Bool("use_bias", true); err != nil {
		return nil, err
	}
	if err = c.MustBeNull("lora_rank"); err != nil {
		return nil, err
	}
	l.Activation, err = c.Activation("activation", "", false)
	return l, err
}

func pooling1D(kind nn.PoolKind) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		l := &nn.Pooling1D{LayerName: c.name, Kind: kind}
		var err error
		if err = c.DataFormat(); err != nil {
			return nil, err
		}
		if l.PoolSize, err = c.Positive("pool_size", 2); err != nil {
			return nil, err
		}
		if l.Strides, err = c.Positive("strides", l.PoolSize); err != nil {
			return nil, err
		}
		l.Padding, err = c.OneOf("padding", "valid", "valid", "same")
		return l, err
	}
}

func globalPooling1D(kind nn.PoolKind) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		format, err := c.OneOf("data_format", "channels_last", "channels_last", "channels_first")
		if err != nil {
			return nil, err
		}
		keep, err := c.Bool("keepdims", false)
		if err != nil {
			return nil, err
		}
		return &nn.GlobalPooling1D{LayerName: c.name, Kind: kind, KeepDims: keep, ChannelsFirst: format == "channels_first"}, nil
	}
}

// rnnKind is a recurrent layer family Bidirectional can wrap.
type rnnKind int

const (
	lstmKind rnnKind = iota
	gruKind
	simpleRNNKind
)

// rnnKinds maps the recurrent classes to their kind.
func rnnKinds() map[string]rnnKind {
	return map[string]rnnKind{"LSTM": lstmKind, "GRU": gruKind, "SimpleRNN": simpleRNNKind}
}

// recurrent builds an LSTM, GRU or SimpleRNN. The options that change what the layer
// computes or returns are checked first, in this order.
func recurrent(kind rnnKind) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		for _, key := range []string{"return_state", "time_major"} {
			if err := c.MustBe(key, false); err != nil {
				return nil, err
			}
		}
		st, err := c.Bool("stateful", false) // computed from a zero state: see ModelInfo.Stateful
		if err != nil {
			return nil, err
		}
		units, err := c.Positive("units", Required)
		if err != nil {
			return nil, err
		}
		seq, err := c.Bool("return_sequences", false)
		if err != nil {
			return nil, err
		}
		back, err := c.Bool("go_backwards", false)
		if err != nil {
			return nil, err
		}
		bias, err := c.Bool("use_bias", true)
		if err != nil {
			return nil, err
		}
		act, err := c.Activation("activation", "tanh", false)
		if err != nil {
			return nil, err
		}
		rec, err := c.Activation("recurrent_activation", "sigmoid", false)
		if err != nil {
			return nil, err
		}
		zero, err := c.Bool("zero_output_for_mask", false)
		if err != nil {
			return nil, err
		}
		switch kind {
		case lstmKind:
			return &nn.LSTM{LayerName: c.name, Units: units, ReturnSequences: seq, GoBackwards: back,
				UseBias: bias, Activation: act, RecurrentActivation: rec, ZeroOutputForMask: zero, Stateful: st}, nil
		case simpleRNNKind:
			return &nn.SimpleRNN{LayerName: c.name, Units: units, ReturnSequences: seq, GoBackwards: back,
				UseBias: bias, Activation: act, ZeroOutputForMask: zero, Stateful: st}, nil
		}
		resetAfter, err := c.Bool("reset_after", true)
		if err != nil {
			return nil, err
		}
		return &nn.GRU{LayerName: c.name, Units: units, ReturnSequences: seq, GoBackwards: back,
			UseBias: bias, ResetAfter: resetAfter, Activation: act, RecurrentActivation: rec, ZeroOutputForMask: zero, Stateful: st}, nil
	}
}

// bidirectional builds both directions. Keras 2 configs carry only "layer":
// the backward layer is a copy with go_backwards flipped, named as Keras
// names it ("forward_lstm", "backward_lstm"). Keras 3 configs carry an
// explicit backward_layer.
func bidirectional(c *LayerConfig) (nn.Layer, error) {
	modes := []string{"concat", "sum", "ave", "mul"}
	if v, ok := c.m["merge_mode"]; ok && v == nil {
		return nil, c.Unsupported("merge_mode", modes...) // null returns two tensors
	}
	mode, err := c.OneOf("merge_mode", "concat", modes...)
	if err != nil {
		return nil, err
	}
	kinds := rnnKinds()
	inner := func(key string) (*LayerConfig, error) {
		ic, err := c.Wrapped(key)
		if err != nil {
			return nil, err
		}
		if r := registeredName(ic.spec); r != "" {
			return nil, c.within(ic.refuse(fmt.Sprintf("custom object %q (registered_name)", r), slices.Sorted(maps.Keys(kinds))))
		}
		if _, ok := kinds[ic.class]; !ok {
			supported := slices.Sorted(maps.Keys(kinds))
			return nil, &Error{Layer: c.name, Class: c.class, Option: key, Value: ic.class, Supported: supported,
				Err: unsupported(fmt.Sprintf("option %s: wrapping class %s", key, ic.class), supported)}
		}
		return ic, c.within(checkDType(ic.name, ic.class, ic.m))
	}
	fc, err := inner("layer")
	if err != nil {
		return nil, err
	}
	var bc *LayerConfig
	if _, ok := c.Value("backward_layer"); ok {
		if bc, err = inner("backward_layer"); err != nil {
			return nil, err
		}
	} else {
		back, _ := fc.m["go_backwards"].(bool)
		bc = fc.renamed("backward_"+fc.name, map[string]any{"go_backwards": !back})
		fc = fc.renamed("forward_"+fc.name, nil)
	}
	if fc.class != bc.class {
		return nil, c.Errorf("forward layer %s and backward layer %s differ in class", fc.class, bc.class)
	}
	fwd, err := recurrent(kinds[fc.class])(fc)
	if err != nil {
		return nil, c.within(err)
	}
	bwd, err := recurrent(kinds[bc.class])(bc)
	if err != nil {
		return nil, c.within(err)
	}
	fs, _ := fc.Bool("return_sequences", false)
	bs, _ := bc.Bool("return_sequences", false)
	if fs != bs {
		return nil, c.Errorf("forward and backward layers differ in return_sequences")
	}
	return &nn.Bidirectional{LayerName: c.name, ForwardLayer: fwd, BackwardLayer: bwd, MergeMode: mode}, nil
}

// renamed is a copy of c named name, with the options in set replaced.
func (c *LayerConfig) renamed(name string, set map[string]any) *LayerConfig {
	m := maps.Clone(c.m)
	maps.Copy(m, set)
	m["name"] = name
	return &LayerConfig{p: c.p, class: c.class, name: name, spec: c.spec, m: m}
}

func timeDistributed(c *LayerConfig) (nn.Layer, error) {
	ic, err := c.Wrapped("layer")
	if err != nil {
		return nil, err
	}
	inner, err := c.Build(ic)
	if err != nil {
		return nil, err
	}
	if isEmbedding(inner) { // its ids must come from a model input (nn/embedding.go)
		return nil, c.Errorf("TimeDistributed(Embedding) is %w: apply the Embedding to the model input directly (it embeds every step)", ErrUnsupported)
	}
	return &nn.TimeDistributed{LayerName: c.name, Inner: inner}, nil
}

func dense(c *LayerConfig) (nn.Layer, error) {
	l := &nn.Dense{LayerName: c.name}
	var err error
	if l.Units, err = c.Positive("units", Required); err != nil {
		return nil, err
	}
	if l.UseBias, err = c.Bool("use_bias", true); err != nil {
		return nil, err
	}
	for _, key := range []string{"lora_rank", "quantization_config"} {
		if err = c.MustBeNull(key); err != nil {
			return nil, err
		}
	}
	l.Activation, err = c.Activation("activation", "", false)
	return l, err
}

func flatten(c *LayerConfig) (nn.Layer, error) {
	if err := c.DataFormat(); err != nil {
		return nil, err
	}
	return &nn.Flatten{LayerName: c.name}, nil
}

func reshape(c *LayerConfig) (nn.Layer, error) {
	v, ok := c.Value("target_shape")
	l, isList := v.([]any)
	if !ok || !isList || len(l) == 0 {
		return nil, c.Invalid("target_shape", "a list of dimensions")
	}
	target := make([]int, len(l))
	for i, d := range l {
		n, ok := intOf(d)
		if !ok || n == 0 || n < -1 {
			return nil, c.Invalid("target_shape", "positive dimensions and at most one -1")
		}
		target[i] = n
	}
	return &nn.Reshape{LayerName: c.name, Target: target}, nil
}

func repeatVector(c *LayerConfig) (nn.Layer, error) {
	n, err := c.Positive("n", Required)
	if err != nil {
		return nil, err
	}
	return &nn.RepeatVector{LayerName: c.name, N: n}, nil
}

func batchNorm(c *LayerConfig) (nn.Layer, error) {
	l := &nn.BatchNormalization{LayerName: c.name}
	var err error
	if l.Axis, l.Epsilon, l.Center, l.Scale, err = c.normOptions(); err != nil {
		return nil, err
	}
	return l, c.MustBe("renorm", false)
}

func layerNorm(c *LayerConfig) (nn.Layer, error) {
	l := &nn.LayerNormalization{LayerName: c.name}
	var err error
	if l.Axis, l.Epsilon, l.Center, l.Scale, err = c.normOptions(); err != nil {
		return nil, err
	}
	return l, c.MustBe("rms_scaling", false)
}

func identity(c *LayerConfig) (nn.Layer, error) {
	return &nn.Identity{LayerName: c.name, ClassName: c.class}, nil
}

func activation(c *LayerConfig) (nn.Layer, error) {
	a, err := c.Activation("activation", "", true)
	if err != nil {
		return nil, err
	}
	return &nn.ActivationLayer{LayerName: c.name, Activation: a}, nil
}

func relu(c *LayerConfig) (nn.Layer, error) {
	l := &nn.ReLU{LayerName: c.name}
	if v, ok := c.Value("max_value"); ok {
		f, ok := floatOf(v)
		if !ok {
			return nil, c.Invalid("max_value", "a number or null")
		}
		l.MaxValue, l.HasMax = float32(f), true
	}
	ns, err := c.Float("negative_slope", 0)
	if err != nil {
		return nil, err
	}
	th, err := c.Float("threshold", 0)
	if err != nil {
		return nil, err
	}
	l.NegativeSlope, l.Threshold = float32(ns), float32(th)
	return l, nil
}

// leakyReLU reads Keras 3's negative_slope, or Keras 2's alpha.
func leakyReLU(c *LayerConfig) (nn.Layer, error) {
	key := "negative_slope"
	if _, ok := c.Value(key); !ok {
		key = "alpha"
	}
	a, err := c.Float(key, 0.3)
	if err != nil {
		return nil, err
	}
	return &nn.LeakyReLU{LayerName: c.name, Alpha: float32(a)}, nil
}

func elu(c *LayerConfig) (nn.Layer, error) {
	a, err := c.Float("alpha", 1)
	if err != nil {
		return nil, err
	}
	return &nn.ELU{LayerName: c.name, Alpha: float32(a)}, nil
}

func prelu(c *LayerConfig) (nn.Layer, error) {
	var axes []int
	if v, ok := c.Value("shared_axes"); ok {
		for _, a := range asList(v) {
			n, ok := intOf(a)
			if !ok || n < 1 {
				return nil, c.Invalid("shared_axes", "null or a list of axes >= 1")
			}
			axes = append(axes, n)
		}
	}
	return &nn.PReLU{LayerName: c.name, SharedAxes: axes}, nil
}

func concatenate(c *LayerConfig) (nn.Layer, error) {
	axis, err := c.Int("axis", -1)
	if err != nil {
		return nil, err
	}
	return &nn.Merge{LayerName: c.name, Op: nn.Concatenate, Axis: axis}, nil
}

func merge(op nn.MergeOp) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		return &nn.Merge{LayerName: c.name, Op: op}, nil
	}
}
