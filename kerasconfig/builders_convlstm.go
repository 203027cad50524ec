package kerasconfig

import (
	"github.com/seqcast/seqcast/nn"
)

// addConvLSTM adds ConvLSTM2D and ConvLSTM1D (Keras >= 2.6). ConvLSTM3D
// stays refused.
func addConvLSTM(b Builders) {
	b["ConvLSTM2D"] = convLSTM(2)
	b["ConvLSTM1D"] = convLSTM(1)
}

// convLSTM builds a ConvLSTM of the given rank. The options that change
// what the layer computes or returns are checked first: return_state,
// stateful (a ConvLSTM is not run from a kept state), unroll and time_major must be
// false, data_format channels_last. kernel_size, strides and dilation_rate
// are an integer or a list of rank integers (Keras 2 writes lists, Keras 3
// too; an integer applies to every axis). dropout and recurrent_dropout
// act only in training and are ignored, as for LSTM.
func convLSTM(rank int) Builder {
	return func(c *LayerConfig) (nn.Layer, error) {
		for _, key := range []string{"return_state", "stateful", "unroll", "time_major"} {
			if err := c.MustBe(key, false); err != nil {
				return nil, err
			}
		}
		if err := c.DataFormat(); err != nil {
			return nil, err
		}
		l := &nn.ConvLSTM2D{LayerName: c.name, OneD: rank == 1}
		var err error
		if l.Filters, err = c.Positive("filters", Required); err != nil {
			return nil, err
		}
		if _, ok := c.Value("kernel_size"); !ok {
			return nil, c.Errorf("missing option kernel_size")
		}
		for _, o := range []struct {
			key string
			dst *[2]int
		}{{"kernel_size", &l.KernelSize}, {"strides", &l.Strides}, {"dilation_rate", &l.DilationRate}} {
			v, err := c.intList(o.key, []int{1})
			if err != nil {
				return nil, err
			}
			switch {
			case len(v) == 1:
				v = []int{v[0], v[0]}[:rank]
			case len(v) != rank:
				if rank == 1 {
					return nil, c.Invalid(o.key, "a positive integer or a list of 1")
				}
				return nil, c.Invalid(o.key, "a positive integer or a list of 2")
			}
			if rank == 1 {
				*o.dst = [2]int{1, v[0]}
			} else {
				*o.dst = [2]int{v[0], v[1]}
			}
		}
		if l.Padding, err = c.OneOf("padding", "valid", "valid", "same"); err != nil {
			return nil, err
		}
		if l.UseBias, err = c.Bool("use_bias", true); err != nil {
			return nil, err
		}
		if l.ReturnSequences, err = c.Bool("return_sequences", false); err != nil {
			return nil, err
		}
		if l.GoBackwards, err = c.Bool("go_backwards", false); err != nil {
			return nil, err
		}
		if l.Activation, err = c.Activation("activation", "tanh", false); err != nil {
			return nil, err
		}
		defRA := "hard_sigmoid" // Keras 2's default; Keras 3's is sigmoid
		if c.Keras3() {
			defRA = "sigmoid"
		}
		l.RecurrentActivation, err = c.Activation("recurrent_activation", defRA, false)
		return l, err
	}
}
