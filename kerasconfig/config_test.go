package kerasconfig

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// TestParseDialects parses one config of each dialect. The Keras 3
// ones and the gold model are real files (see testdata/README.md); the
// Keras <= 2.12 ones are written after that format.
func TestParseDialects(t *testing.T) {
	tests := []struct {
		file             string
		dialect          Dialect
		keras3           bool
		version          string
		params           int
		in, out          nn.Shape
		classes          string
		concatNodeInputs []int // for the functional models: inputs of the Concatenate node
	}{
		{"../testdata/bench/gold/model.json", DialectKeras213, false, "2.15.0", 108577, nn.Shape{60, 1}, nn.Shape{1},
			"Conv1D MaxPooling1D Bidirectional Bidirectional Dropout Dense Dense", nil},
		{"testdata/configs/keras212_sequential_gold.json", DialectKeras2, false, "2.12.0", 108577, nn.Shape{60, 1}, nn.Shape{1},
			"Conv1D MaxPooling1D Bidirectional Bidirectional Dropout Dense Dense", nil},
		{"testdata/configs/keras212_functional.json", DialectKeras2, false, "2.12.0", 1697, nn.Shape{60, 1}, nn.Shape{1},
			"Conv1D Bidirectional GlobalAveragePooling1D Concatenate Dense", []int{1, 2}},
		{"testdata/configs/keras3_functional.json", DialectKeras3, true, "", 1697, nn.Shape{60, 1}, nn.Shape{1},
			"Conv1D Bidirectional GlobalAveragePooling1D Concatenate Dense", []int{1, 2}},
		{"testdata/configs/keras3_airquality_cnn_bilstm.json", DialectKeras3, true, "", 37169, nn.Shape{24, 7}, nn.Shape{1},
			"Conv1D MaxPooling1D Dropout Bidirectional Dropout Dense Dense", nil},
		{"../weights/testdata/keras3-sales-bilstm/model.json", DialectKeras3, true, "", 9761, nn.Shape{8, 1}, nn.Shape{1},
			"Bidirectional Dense Dropout Dense", nil},
		{"../weights/testdata/keras3-sales-cnn/model.json", DialectKeras3, true, "", 353, nn.Shape{8, 1}, nn.Shape{1},
			"Conv1D GlobalAveragePooling1D Dense Dropout Dense", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			m, info, err := Parse(data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Dialect != tt.dialect || info.Keras3 != tt.keras3 || info.KerasVersion != tt.version {
				t.Errorf("info = %+v, want dialect %s, keras3 %v, version %q", info, tt.dialect, tt.keras3, tt.version)
			}
			if got := m.ParamCount(); got != tt.params {
				t.Errorf("ParamCount = %d, want %d", got, tt.params)
			}
			if !m.InputShape().Equal(tt.in) || !m.OutputShape().Equal(tt.out) {
				t.Errorf("shapes %v -> %v, want %v -> %v", m.InputShape(), m.OutputShape(), tt.in, tt.out)
			}
			var classes []string
			for i, nd := range m.Nodes() {
				classes = append(classes, nd.Layer.Class())
				if nd.Layer.Class() == "Concatenate" && !slices.Equal(nd.Inputs, tt.concatNodeInputs) {
					t.Errorf("node %d (%s) inputs = %v, want %v", i, nd.Layer.Name(), nd.Inputs, tt.concatNodeInputs)
				}
			}
			if got := strings.Join(classes, " "); got != tt.classes {
				t.Errorf("classes = %s, want %s", got, tt.classes)
			}
		})
	}
}

// TestBidirectionalKeras2Backward checks that a Keras 2 Bidirectional gets a
// backward copy with go_backwards flipped and Keras's forward_/backward_ names.
func TestBidirectionalKeras2Backward(t *testing.T) {
	for _, back := range []bool{false, true} {
		gb := "false"
		if back {
			gb = "true"
		}
		m := mustParse(t, seq(`{"class_name":"Bidirectional","config":{"name":"bi","merge_mode":"sum","layer":
			{"class_name":"GRU","config":{"name":"gru","units":4,"go_backwards":`+gb+`,"reset_after":false}}}}`), "")
		bi := m.Nodes()[0].Layer.(*nn.Bidirectional)
		f, b := bi.ForwardLayer.(*nn.GRU), bi.BackwardLayer.(*nn.GRU)
		if f.GoBackwards != back || b.GoBackwards == back || f.LayerName != "forward_gru" || b.LayerName != "backward_gru" {
			t.Errorf("go_backwards=%v: forward %s %v, backward %s %v", back, f.LayerName, f.GoBackwards, b.LayerName, b.GoBackwards)
		}
		if bi.MergeMode != "sum" || f.ResetAfter || f.Units != 4 {
			t.Errorf("bidirectional %+v, forward %+v", bi, f)
		}
	}
}

// TestParseLayerOptions checks option parsing and Keras defaults, both
// scalar and Keras 3 list forms.
func TestParseLayerOptions(t *testing.T) {
	tests := []struct {
		name  string
		layer string
		check func(l nn.Layer) bool
	}{
		{"conv defaults", `{"class_name":"Conv1D","config":{"name":"c","filters":4,"kernel_size":2}}`, func(l nn.Layer) bool {
			c := l.(*nn.Conv1D)
			return c.Filters == 4 && c.KernelSize == 2 && c.Strides == 1 && c.DilationRate == 1 && c.Padding == "valid" && c.UseBias && c.Activation.Name == "linear"
		}},
		{"conv lists", `{"class_name":"Conv1D","config":{"name":"c","filters":4,"kernel_size":[3],"strides":[1],"dilation_rate":[2],"padding":"causal","use_bias":false,"activation":"tanh"}}`, func(l nn.Layer) bool {
			c := l.(*nn.Conv1D)
			return c.KernelSize == 3 && c.DilationRate == 2 && c.Padding == "causal" && !c.UseBias && c.Activation.Name == "tanh"
		}},
		{"pool strides null", `{"class_name":"MaxPooling1D","config":{"name":"p","pool_size":[3],"strides":null,"padding":"same"}}`, func(l nn.Layer) bool {
			p := l.(*nn.Pooling1D)
			return p.Kind == nn.MaxPool && p.PoolSize == 3 && p.Strides == 3 && p.Padding == "same"
		}},
		{"avg pool defaults", `{"class_name":"AveragePooling1D","config":{"name":"p"}}`, func(l nn.Layer) bool {
			p := l.(*nn.Pooling1D)
			return p.Kind == nn.AvgPool && p.PoolSize == 2 && p.Strides == 2 && p.Padding == "valid"
		}},
		{"global max keepdims", `{"class_name":"GlobalMaxPooling1D","config":{"name":"g","keepdims":true}}`, func(l nn.Layer) bool {
			g := l.(*nn.GlobalPooling1D)
			return g.Kind == nn.MaxPool && g.KeepDims
		}},
		{"lstm defaults", `{"class_name":"LSTM","config":{"name":"l","units":5}}`, func(l nn.Layer) bool {
			r := l.(*nn.LSTM)
			return r.Units == 5 && !r.ReturnSequences && r.UseBias && r.Activation.Name == "tanh" && r.RecurrentActivation.Name == "sigmoid"
		}},
		{"gru reset_after default", `{"class_name":"GRU","config":{"name":"g","units":5,"return_sequences":true,"unroll":true}}`, func(l nn.Layer) bool {
			r := l.(*nn.GRU)
			return r.ResetAfter && r.ReturnSequences
		}},
		{"leaky alpha", `{"class_name":"LeakyReLU","config":{"name":"a","alpha":0.1}}`, func(l nn.Layer) bool {
			return l.(*nn.LeakyReLU).Alpha == 0.1
		}},
		{"leaky negative_slope", `{"class_name":"LeakyReLU","config":{"name":"a","negative_slope":0.2}}`, func(l nn.Layer) bool {
			return l.(*nn.LeakyReLU).Alpha == 0.2
		}},
		{"leaky default", `{"class_name":"LeakyReLU","config":{"name":"a"}}`, func(l nn.Layer) bool {
			return l.(*nn.LeakyReLU).Alpha == 0.3
		}},
		{"relu max", `{"class_name":"ReLU","config":{"name":"r","max_value":6.0,"negative_slope":0.0,"threshold":0.0}}`, func(l nn.Layer) bool {
			r := l.(*nn.ReLU)
			return r.HasMax && r.MaxValue == 6
		}},
		{"elu default", `{"class_name":"ELU","config":{"name":"e"}}`, func(l nn.Layer) bool { return l.(*nn.ELU).Alpha == 1 }},
		{"prelu shared", `{"class_name":"PReLU","config":{"name":"p","shared_axes":[1]}}`, func(l nn.Layer) bool {
			return slices.Equal(l.(*nn.PReLU).SharedAxes, []int{1})
		}},
		{"batchnorm keras2 axis list", `{"class_name":"BatchNormalization","config":{"name":"b","axis":[2],"epsilon":0.001,"center":true,"scale":false,"momentum":0.99}}`, func(l nn.Layer) bool {
			b := l.(*nn.BatchNormalization)
			return b.Axis == 2 && b.Center && !b.Scale && b.Epsilon == 0.001
		}},
		{"layernorm", `{"class_name":"LayerNormalization","config":{"name":"n","axis":-1,"epsilon":1e-6}}`, func(l nn.Layer) bool {
			n := l.(*nn.LayerNormalization)
			return n.Axis == -1 && n.Epsilon == 1e-6 && n.Center && n.Scale
		}},
		{"dropout identity", `{"class_name":"SpatialDropout1D","config":{"name":"d","rate":0.5}}`, func(l nn.Layer) bool {
			return l.(*nn.Identity).Class() == "SpatialDropout1D"
		}},
		{"activation fn object", `{"class_name":"Activation","config":{"name":"a","activation":{"module":"keras.activations","class_name":"function","config":"relu","registered_name":"function"}}}`, func(l nn.Layer) bool {
			return l.(*nn.ActivationLayer).Activation.Name == "relu"
		}},
		{"time distributed dense", `{"class_name":"TimeDistributed","config":{"name":"td","layer":{"class_name":"Dense","config":{"name":"d","units":2}}}}`, func(l nn.Layer) bool {
			return l.(*nn.TimeDistributed).Inner.(*nn.Dense).Units == 2
		}},
		{"dense keras3 dtype policy", `{"class_name":"Dense","config":{"name":"d","units":2,"dtype":{"module":"keras","class_name":"DTypePolicy","config":{"name":"float32"}},"quantization_config":null,"lora_rank":null}}`, func(l nn.Layer) bool {
			return l.(*nn.Dense).Units == 2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, seq(tt.layer), "")
			if l := m.Nodes()[0].Layer; !tt.check(l) {
				t.Errorf("parsed %#v", l)
			}
		})
	}
}

// TestSequentialInputForms reads the input shape from each place Keras
// versions have put it.
func TestSequentialInputForms(t *testing.T) {
	dense := `{"class_name":"Dense","config":{"name":"d","units":2%s}}`
	tests := []struct {
		name, json string
	}{
		{"first layer batch_input_shape", `{"class_name":"Sequential","config":{"name":"s","layers":[` +
			strings.Replace(dense, "%s", `,"batch_input_shape":[null,5,3]`, 1) + `]}}`},
		{"first layer batch_shape", `{"class_name":"Sequential","config":{"name":"s","layers":[` +
			strings.Replace(dense, "%s", `,"batch_shape":[null,5,3]`, 1) + `]}}`},
		{"first layer input_shape", `{"class_name":"Sequential","config":{"name":"s","layers":[` +
			strings.Replace(dense, "%s", `,"input_shape":[5,3]`, 1) + `]}}`},
		{"build_input_shape", `{"class_name":"Sequential","config":{"name":"s","build_input_shape":[null,5,3],"layers":[` +
			strings.Replace(dense, "%s", "", 1) + `]}}`},
		{"keras 2.0 bare list", `{"class_name":"Sequential","config":[` +
			strings.Replace(dense, "%s", `,"batch_input_shape":[null,5,3]`, 1) + `]}`},
		{"h5 model_config wrapper", `{"keras_version":"2.4.0","backend":"tensorflow","model_config":{"class_name":"Sequential","config":{"name":"s","layers":[` +
			strings.Replace(dense, "%s", `,"batch_input_shape":[null,5,3]`, 1) + `]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.json, "")
			if !m.InputShape().Equal(nn.Shape{5, 3}) || !m.OutputShape().Equal(nn.Shape{5, 2}) {
				t.Errorf("shapes %v -> %v", m.InputShape(), m.OutputShape())
			}
		})
	}
}

// TestKerasVersionRule checks which Keras semantics a config gets.
func TestKerasVersionRule(t *testing.T) {
	k2 := `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"InputLayer","config":{"batch_input_shape":[null,4,1],"name":"i"}},{"class_name":"Dense","config":{"name":"d","units":1}}]}%s}`
	k3 := `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"InputLayer","config":{"batch_shape":[null,4,1],"name":"i"}},{"class_name":"Dense","config":{"name":"d","units":1}}]}%s}`
	tests := []struct {
		name, json, given string
		keras3            bool
		err               string
	}{
		{"keras2 dialect, no version", k2, "", false, ""},
		{"keras3 dialect, no version", k3, "", true, ""},
		{"keras2 json version", strings.Replace(k2, "%s", `,"keras_version":"2.15.0"`, 1), "", false, ""},
		{"keras3 json version", strings.Replace(k3, "%s", `,"keras_version":"3.4.1"`, 1), "", true, ""},
		{"manifest version", k3, "3.10.0", true, ""},
		{"tfjs", strings.Replace(k2, "%s", `,"keras_version":"tfjs-layers 4.22.0"`, 1), "", false, ""},
		{"manifest contradicts json", strings.Replace(k2, "%s", `,"keras_version":"2.15.0"`, 1), "3.1.0", false, "contradicts"},
		{"version contradicts dialect", k3, "2.15.0", false, "contradicts the JSON"},
		{"bad version", k2, "latest", false, "not a version number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := strings.Replace(tt.json, "%s", "", 1)
			_, info, err := Parse([]byte(js), Options{KerasVersion: tt.given})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Keras3 != tt.keras3 {
				t.Errorf("Keras3 = %v, want %v (%+v)", info.Keras3, tt.keras3, info)
			}
		})
	}
}

// TestParseErrors checks that what seqcast cannot run fails at load,
// naming the layer, the option and the value.
func TestParseErrors(t *testing.T) {
	lstm := func(opts string) string {
		return seq(`{"class_name":"LSTM","config":{"name":"lstm_7","units":4` + opts + `}}`)
	}
	tests := []struct {
		name        string
		json        string
		unsupported bool
		want        []string
	}{
		{"return_state", lstm(`,"return_state":true`), true, []string{`"lstm_7"`, "return_state=true", "supported: false"}},
		{"return_state", lstm(`,"return_state":true`), true, []string{`"lstm_7"`, "return_state=true"}},
		{"time_major", lstm(`,"time_major":true`), true, []string{`"lstm_7"`, "time_major=true"}},
		{"unknown activation", lstm(`,"activation":"nosuchact"`), false, []string{`"lstm_7"`, `activation="nosuchact"`, "supported"}},
		{"lstm missing units", seq(`{"class_name":"LSTM","config":{"name":"lstm_7"}}`), false, []string{`"lstm_7"`, "missing option units"}},
		{"conv groups", seq(`{"class_name":"Conv1D","config":{"name":"c1","filters":4,"kernel_size":3,"groups":2}}`), true, []string{`"c1"`, "groups=2", "supported: 1"}},
		{"conv channels_first", seq(`{"class_name":"Conv1D","config":{"name":"c1","filters":4,"kernel_size":3,"data_format":"channels_first"}}`), true, []string{`"c1"`, `data_format="channels_first"`, "channels_last"}},
		{"conv padding", seq(`{"class_name":"Conv1D","config":{"name":"c1","filters":4,"kernel_size":3,"padding":"full"}}`), true, []string{`"c1"`, `padding="full"`, "valid, same, causal"}},
		{"pool channels_first", seq(`{"class_name":"MaxPooling1D","config":{"name":"p","data_format":"channels_first"}}`), true, []string{`"p"`, "data_format"}},
		{"batchnorm axis", seq(`{"class_name":"BatchNormalization","config":{"name":"bn","axis":1}}`), false, []string{`"bn"`, "axis"}},
		{"unknown class", seq(`{"class_name":"Lambda","config":{"name":"lambda_1","function":"f"}}`), true, []string{`"lambda_1"`, "Lambda", "supported: Activation"}},
		{"custom layer", seq(`{"module":"my.layers","class_name":"Dense","config":{"name":"d","units":1},"registered_name":"Custom>Dense"}`), true, []string{`"d"`, "Custom>Dense"}},
		{"merge_mode null", seq(`{"class_name":"Bidirectional","config":{"name":"bi","merge_mode":null,"layer":{"class_name":"LSTM","config":{"name":"l","units":2}}}}`), true, []string{`"bi"`, "merge_mode=null"}},
		{"bidirectional dense", seq(`{"class_name":"Bidirectional","config":{"name":"bi","layer":{"class_name":"Dense","config":{"name":"l","units":2}}}}`), true, []string{`"bi"`, "Dense", "supported: GRU, LSTM"}},
		{"bidirectional return_state", seq(`{"class_name":"Bidirectional","config":{"name":"bi","layer":{"class_name":"LSTM","config":{"name":"l","units":2,"return_state":true}}}}`), true, []string{`"bi"`, `"forward_l"`, "return_state=true"}},
		{"mixed precision", seq(`{"class_name":"Dense","config":{"name":"d","units":1,"dtype":{"class_name":"Policy","config":{"name":"mixed_float16"}}}}`), true, []string{`"d"`, "dtype=", "mixed_float16", "float32"}},
		{"float64 dtype", seq(`{"class_name":"Dense","config":{"name":"d","units":1,"dtype":"float64"}}`), true, []string{`"d"`, `dtype="float64"`}},
		{"lora", seq(`{"class_name":"Dense","config":{"name":"d","units":1,"lora_rank":4}}`), true, []string{`"d"`, "lora_rank=4"}},
		{"variable time", `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"InputLayer","config":{"batch_input_shape":[null,null,3],"name":"in"}},{"class_name":"Dense","config":{"name":"d","units":1}}]}}`, true, []string{`"in"`, "batch_input_shape=[null,null,3]", "fixed"}},
		{"no input shape", `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"Dense","config":{"name":"d","units":1}}]}}`, false, []string{"no input shape"}},
		{"not a model", `{"class_name":"Dense","config":{"name":"d"}}`, true, []string{`"Dense"`, "supported: Functional, Model, Sequential"}},
		{"bad json", `{"class_name":`, false, []string{"model config"}},
		{"input not found", `{"class_name":"Functional","config":{"name":"f","layers":[],"input_layers":[["a",0,0],["b",0,0]],"output_layers":[["d",0,0]]}}`, false, []string{`input layer "a" not found`}},
		{"output is an input", `{"class_name":"Functional","config":{"name":"f","layers":[
			{"class_name":"InputLayer","name":"in","config":{"name":"in","batch_input_shape":[null,4,2]},"inbound_nodes":[]},
			{"class_name":"Dense","name":"d","config":{"name":"d","units":2},"inbound_nodes":[[["in",0,0,{}]]]}],
			"input_layers":[["in",0,0]],"output_layers":[["d",0,0],["in",0,0]]}}`, true, []string{`"in"`, "is an input layer"}},
		{"stray input layer", `{"class_name":"Functional","config":{"name":"f","layers":[
			{"class_name":"InputLayer","name":"in","config":{"name":"in","batch_input_shape":[null,4,2]},"inbound_nodes":[]},
			{"class_name":"InputLayer","name":"in2","config":{"name":"in2","batch_input_shape":[null,4,2]},"inbound_nodes":[]},
			{"class_name":"Dense","name":"d","config":{"name":"d","units":2},"inbound_nodes":[[["in",0,0,{}]]]}],
			"input_layers":[["in",0,0]],"output_layers":[["d",0,0]]}}`, true, []string{`"in2"`, "not in the model's input_layers"}},
		{"shared layer", `{"class_name":"Functional","config":{"name":"f","layers":[
			{"class_name":"InputLayer","name":"in","config":{"name":"in","batch_input_shape":[null,4,2]},"inbound_nodes":[]},
			{"class_name":"Dense","name":"d","config":{"name":"d","units":2},"inbound_nodes":[[["in",0,0,{}]],[["d",0,0,{}]]]}],
			"input_layers":[["in",0,0]],"output_layers":[["d",1,0]]}}`, true, []string{`"d"`, "called 2 times"}},
		{"unknown inbound", `{"class_name":"Functional","config":{"name":"f","layers":[
			{"class_name":"InputLayer","name":"in","config":{"name":"in","batch_input_shape":[null,4,2]},"inbound_nodes":[]},
			{"class_name":"Dense","name":"d","config":{"name":"d","units":2},"inbound_nodes":[[["zz",0,0,{}]]]}],
			"input_layers":[["in",0,0]],"output_layers":[["d",0,0]]}}`, false, []string{`"d"`, `"zz"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.json), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %v is a %T, not an *Error", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v (%v)", got, tt.unsupported, err)
			}
		})
	}
}

// seq wraps layer configs in a Keras 2 Sequential with input (None, 10, 3).
func seq(layers ...string) string {
	return `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"InputLayer","config":{"batch_input_shape":[null,10,3],"dtype":"float32","name":"in"}},` +
		strings.Join(layers, ",") + `]}}`
}

func mustParse(t testing.TB, js, version string) *nn.Model {
	t.Helper()
	m, _, err := Parse([]byte(js), Options{KerasVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func BenchmarkParseGold(b *testing.B) {
	data, err := os.ReadFile("../testdata/bench/gold/model.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Parse(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
