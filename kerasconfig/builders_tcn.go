package kerasconfig

import "github.com/seqcast/seqcast/nn"

// addTCN adds keras-tcn's TCN layer (philipperemy/keras-tcn) to a builder
// table (Default calls it): under its class name, which Keras 2 files
// carry, and under "Custom>TCN", the registered_name Keras 3 writes
// (keras-tcn registers it with register_keras_serializable()).
func addTCN(b Builders) {
	b["TCN"] = tcn
	b["Custom>TCN"] = tcn
}

// tcn reads keras-tcn's get_config(): nb_filters (an integer or one per
// dilation), kernel_size, nb_stacks, dilations, padding, use_skip_connections,
// return_sequences, activation, use_batch_norm, use_layer_norm and
// go_backwards. dropout_rate (SpatialDropout1D) is the identity at inference
// and kernel_initializer does not matter once trained. use_weight_norm
// (keras-tcn 3.2 to 3.4 wraps each Conv1D in tensorflow_addons'
// WeightNormalization) and return_state=true are refused.
func tcn(c *LayerConfig) (nn.Layer, error) {
	l := &nn.TCN{LayerName: c.name}
	var err error
	if l.KernelSize, err = c.Positive("kernel_size", 3); err != nil {
		return nil, err
	}
	if l.Stacks, err = c.Positive("nb_stacks", 1); err != nil {
		return nil, err
	}
	if l.Dilations, err = c.intList("dilations", []int{1, 2, 4, 8, 16, 32}); err != nil {
		return nil, err
	}
	if l.Filters, err = c.intList("nb_filters", []int{64}); err != nil {
		return nil, err
	}
	if l.Padding, err = c.OneOf("padding", "causal", "causal", "same"); err != nil {
		return nil, err
	}
	if l.UseSkipConnections, err = c.Bool("use_skip_connections", true); err != nil {
		return nil, err
	}
	if l.ReturnSequences, err = c.Bool("return_sequences", false); err != nil {
		return nil, err
	}
	if l.GoBackwards, err = c.Bool("go_backwards", false); err != nil {
		return nil, err
	}
	if err = c.MustBe("return_state", false); err != nil {
		return nil, err
	}
	if err = c.MustBe("use_weight_norm", false); err != nil {
		return nil, err
	}
	if _, err = c.Float("dropout_rate", 0); err != nil {
		return nil, err
	}
	bn, err := c.Bool("use_batch_norm", false)
	if err != nil {
		return nil, err
	}
	ln, err := c.Bool("use_layer_norm", false)
	if err != nil {
		return nil, err
	}
	switch {
	case bn && ln:
		return nil, c.Unsupported("use_layer_norm", "false when use_batch_norm is true (keras-tcn allows one normalization)")
	case bn:
		l.Norm = nn.TCNBatchNorm
	case ln:
		l.Norm = nn.TCNLayerNorm
	}
	if len(l.Filters) > 1 {
		if len(l.Filters) != len(l.Dilations) {
			return nil, c.Invalid("nb_filters", "an integer or a list with one count per dilation")
		}
		for _, f := range l.Filters {
			if f != l.Filters[0] && l.UseSkipConnections {
				return nil, c.Unsupported("nb_filters", "one count for every block with use_skip_connections (keras-tcn refuses a list of different counts there)")
			}
		}
	}
	l.Activation, err = c.Activation("activation", "relu", false)
	return l, err
}

// intList reads an option that is a positive integer or a non-empty list
// of them (returned as a list).
func (c *LayerConfig) intList(key string, def []int) ([]int, error) {
	v, ok := c.Value(key)
	if !ok {
		return def, nil
	}
	l := asList(v)
	if len(l) == 0 || len(l) > 1024 {
		return nil, c.Invalid(key, "a positive integer or a list of 1 to 1024 of them")
	}
	out := make([]int, len(l))
	for i, e := range l {
		n, ok := intOf(e)
		if !ok || n < 1 {
			return nil, c.Invalid(key, "a positive integer or a list of them")
		}
		out[i] = n
	}
	return out, nil
}
