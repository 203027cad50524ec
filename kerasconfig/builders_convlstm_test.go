package kerasconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// convLSTMModel is the tutorial's ConvLSTM model (ConvLSTM layer, Flatten,
// Dense(1)) over per-sample input shape in, the ConvLSTM's options opts.
func convLSTMModel(in, class, opts string) string {
	return `{"class_name":"Sequential","config":{"name":"s","layers":[
	{"class_name":"InputLayer","config":{"batch_input_shape":[null,` + in + `],"dtype":"float32","name":"in"}},
	{"class_name":"` + class + `","config":{"name":"conv_lstm","trainable":true,"dtype":"float32","filters":64,` + opts + `,
	"padding":"valid","data_format":"channels_last","activation":"relu","recurrent_activation":"hard_sigmoid","use_bias":true,
	"kernel_initializer":"glorot_uniform","unit_forget_bias":true,"return_sequences":false,"return_state":false,
	"go_backwards":false,"stateful":false,"dropout":0.0,"recurrent_dropout":0.0}},
	{"class_name":"Flatten","config":{"name":"flatten","data_format":"channels_last"}},
	{"class_name":"Dense","config":{"name":"dense","units":1,"activation":"linear","use_bias":true}}]}}`
}

func TestConvLSTM(t *testing.T) {
	for _, tc := range []struct {
		name, in, class, opts, version string
		conv                           nn.Shape // the ConvLSTM's output
		kernel                         [2]int
		ra                             string
	}{
		{"k2_lists", "2,1,3,1", "ConvLSTM2D", `"kernel_size":[1,2],"strides":[1,1],"dilation_rate":[1,1]`, "2.12.0", nn.Shape{1, 2, 64}, [2]int{1, 2}, "hard_sigmoid"},
		{"k3_ints", "2,4,4,2", "ConvLSTM2D", `"kernel_size":2,"strides":1,"dilation_rate":1,"seed":null`, "", nn.Shape{3, 3, 64}, [2]int{2, 2}, "hard_sigmoid"},
		{"conv1d", "4,5,2", "ConvLSTM1D", `"kernel_size":[3],"strides":[1],"dilation_rate":[1]`, "2.15.0", nn.Shape{3, 64}, [2]int{1, 3}, "hard_sigmoid"},
		{"conv1d_int", "4,5,2", "ConvLSTM1D", `"kernel_size":2`, "", nn.Shape{4, 64}, [2]int{1, 2}, "hard_sigmoid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, convLSTMModel(tc.in, tc.class, tc.opts), tc.version)
			if !m.OutputShape().Equal(nn.Shape{1}) {
				t.Errorf("output shape %v, want (1)", m.OutputShape())
			}
			l := m.Nodes()[0].Layer.(*nn.ConvLSTM2D)
			if l.Class() != tc.class || l.KernelSize != tc.kernel || l.Activation.Name != "relu" || l.RecurrentActivation.Name != tc.ra || !l.UseBias {
				t.Errorf("options did not reach the layer: %+v", l)
			}
			if !m.NodeShape(0).Equal(tc.conv) {
				t.Errorf("ConvLSTM output %v, want %v", m.NodeShape(0), tc.conv)
			}
		})
	}
}

// TestConvLSTMRefusals: what seqcast does not run is an *Error naming the
// layer and the option.
func TestConvLSTMRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, option, want string
	}{
		{"stateful", `"stateful":false`, `"stateful":true`, "stateful", "supported: false"},
		{"return_state", `"return_state":false`, `"return_state":true`, "return_state", "supported: false"},
		{"time_major", `"stateful":false`, `"stateful":false,"time_major":true`, "time_major", "supported: false"},
		{"channels_first", `"data_format":"channels_last","activation"`, `"data_format":"channels_first","activation"`, "data_format", "channels_last"},
		{"causal", `"padding":"valid"`, `"padding":"causal"`, "padding", "valid, same"},
		{"kernel_3d", `"kernel_size":[1,2]`, `"kernel_size":[1,2,2]`, "kernel_size", "list of 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := convLSTMModel("2,1,3,1", "ConvLSTM2D", `"kernel_size":[1,2]`)
			if !strings.Contains(js, tc.from) {
				t.Fatalf("no %s in the config", tc.from)
			}
			_, _, err := Parse([]byte(strings.Replace(js, tc.from, tc.to, 1)), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Layer != "conv_lstm" || e.Option != tc.option || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("layer %q option %q: %v", e.Layer, e.Option, err)
			}
		})
	}
	// ConvLSTM3D stays refused by class.
	_, _, err := Parse([]byte(convLSTMModel("2,1,3,3,1", "ConvLSTM3D", `"kernel_size":[1,1,2]`)), Options{})
	var e *Error
	if !errors.As(err, &e) || e.Class != "ConvLSTM3D" || !strings.Contains(err.Error(), "ConvLSTM2D") {
		t.Fatalf("ConvLSTM3D: %v", err)
	}
}
