package kerasconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// tcnLayer is a keras-tcn TCN layer config as Keras 3 saves it (registered
// "Custom>TCN", module tcn.tcn), its options merged with opts.
func tcnLayer(opts string) string {
	return `{"module":"tcn.tcn","class_name":"TCN","registered_name":"Custom>TCN","config":{"name":"tcn","trainable":true,
	"dtype":{"module":"keras","class_name":"DTypePolicy","config":{"name":"float32"},"registered_name":null},
	"nb_filters":8,"kernel_size":3,"nb_stacks":1,"dilations":[1,2,4],"padding":"causal","use_skip_connections":true,
	"dropout_rate":0.2,"return_sequences":false,"activation":"relu","use_batch_norm":false,"use_layer_norm":false,
	"kernel_initializer":"he_normal","go_backwards":false,"return_state":false` + opts + `}}`
}

// TestTCN builds keras-tcn's TCN from its config, Keras 3 ("Custom>TCN")
// and Keras 2 (class name only) spellings, and checks its options.
func TestTCN(t *testing.T) {
	for _, tc := range []struct {
		name, opts string
		shape      nn.Shape
		check      func(l *nn.TCN) bool
	}{
		{"fixture_like", "", nn.Shape{8}, func(l *nn.TCN) bool {
			return l.UseSkipConnections && !l.ReturnSequences && l.Padding == "causal" && slices.Equal(l.Dilations, []int{1, 2, 4}) && l.Norm == nn.TCNNoNorm
		}},
		{"seq_same_stacks", `,"return_sequences":true,"padding":"same","nb_stacks":2,"use_skip_connections":false`, nn.Shape{10, 8},
			func(l *nn.TCN) bool { return l.Stacks == 2 && l.Padding == "same" }},
		{"batch_norm", `,"use_batch_norm":true`, nn.Shape{8}, func(l *nn.TCN) bool { return l.Norm == nn.TCNBatchNorm }},
		{"layer_norm_tanh", `,"use_layer_norm":true,"activation":"tanh","use_weight_norm":false`, nn.Shape{8},
			func(l *nn.TCN) bool { return l.Norm == nn.TCNLayerNorm && l.Activation.Name == "tanh" }},
		{"filter_list", `,"nb_filters":[4,6,6],"use_skip_connections":false`, nn.Shape{6},
			func(l *nn.TCN) bool { return slices.Equal(l.Filters, []int{4, 6, 6}) }},
		{"backwards", `,"go_backwards":true`, nn.Shape{8}, func(l *nn.TCN) bool { return l.GoBackwards }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, spec := range []string{tcnLayer(tc.opts), strings.Replace(tcnLayer(tc.opts), `"registered_name":"Custom>TCN",`, "", 1)} {
				m := mustParse(t, seq(spec), "")
				if !m.OutputShape().Equal(tc.shape) {
					t.Errorf("output shape %v, want %v", m.OutputShape(), tc.shape)
				}
				if l := m.Nodes()[0].Layer.(*nn.TCN); !tc.check(l) {
					t.Errorf("options did not reach the layer: %+v", l)
				}
			}
		})
	}
}

// TestTCNRefusals: what seqcast cannot run is an *Error naming the layer
// and the option.
func TestTCNRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, opts, option, want string
	}{
		{"weight_norm", `,"use_weight_norm":true`, "use_weight_norm", "supported: false"},
		{"two_norms", `,"use_batch_norm":true,"use_layer_norm":true`, "use_layer_norm", "one normalization"},
		{"return_state", `,"return_state":true`, "return_state", "supported: false"},
		{"padding_valid", `,"padding":"valid"`, "padding", "causal, same"},
		{"filters_skip", `,"nb_filters":[4,6,6]`, "nb_filters", "one count"},
		{"filters_count", `,"nb_filters":[4,6],"use_skip_connections":false`, "nb_filters", "one count per dilation"},
		{"dilation_zero", `,"dilations":[1,0]`, "dilations", "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(seq(tcnLayer(tc.opts))), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Layer != "tcn" || e.Option != tc.option || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("layer %q option %q: %v", e.Layer, e.Option, err)
			}
		})
	}
}
