package kerasconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/nn"
)

// TestSequenceLayers builds each sequence layer from its config (Keras 2 and
// Keras 3 spellings) and checks the options reach the nn layer.
func TestSequenceLayers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		layer string
		shape nn.Shape
		check func(l nn.Layer) bool
	}{
		{"permute", `{"class_name":"Permute","config":{"name":"p","dims":[2,1]}}`, nn.Shape{3, 10},
			func(l nn.Layer) bool { return slices.Equal(l.(*nn.Permute).Dims, []int{2, 1}) }},
		{"masking", `{"class_name":"Masking","config":{"name":"m","mask_value":-10000.0}}`, nn.Shape{10, 3},
			func(l nn.Layer) bool { return l.(*nn.Masking).MaskValue == -10000 }},
		{"masking_default", `{"class_name":"Masking","config":{"name":"m"}}`, nn.Shape{10, 3},
			func(l nn.Layer) bool { return l.(*nn.Masking).MaskValue == 0 }},
		{"zeropad_int", `{"class_name":"ZeroPadding1D","config":{"name":"z","padding":2}}`, nn.Shape{14, 3}, nil},
		{"zeropad_pair", `{"class_name":"ZeroPadding1D","config":{"name":"z","padding":[1,3]}}`, nn.Shape{14, 3},
			func(l nn.Layer) bool { z := l.(*nn.ZeroPadding1D); return z.Left == 1 && z.Right == 3 }},
		{"zeropad_default", `{"class_name":"ZeroPadding1D","config":{"name":"z"}}`, nn.Shape{12, 3}, nil},
		{"crop", `{"class_name":"Cropping1D","config":{"name":"c","cropping":[2,1]}}`, nn.Shape{7, 3}, nil},
		{"upsample", `{"class_name":"UpSampling1D","config":{"name":"u","size":3}}`, nn.Shape{30, 3}, nil},
		{"conv1d_transpose", `{"class_name":"Conv1DTranspose","config":{"name":"ct","filters":4,"kernel_size":[3],"strides":[2],"padding":"same","output_padding":null,"data_format":"channels_last","dilation_rate":[1],"activation":"relu","use_bias":true}}`,
			nn.Shape{20, 4}, nil},
		{"conv1d_transpose_outpad", `{"class_name":"Conv1DTranspose","config":{"name":"ct","filters":2,"kernel_size":3,"strides":2,"padding":"valid","output_padding":[1]}}`,
			nn.Shape{22, 2}, func(l nn.Layer) bool { return l.(*nn.Conv1DTranspose).OutputPadding == 1 }},
		{"simplernn", `{"class_name":"SimpleRNN","config":{"name":"r","units":4,"activation":"relu","return_sequences":true,"go_backwards":true,"use_bias":false,"unroll":false}}`,
			nn.Shape{10, 4}, func(l nn.Layer) bool {
				r := l.(*nn.SimpleRNN)
				return r.GoBackwards && !r.UseBias && r.Activation.Name == "relu"
			}},
		{"bidirectional_simplernn", `{"class_name":"Bidirectional","config":{"name":"bi","merge_mode":"sum","layer":{"class_name":"SimpleRNN","config":{"name":"r","units":4}}}}`,
			nn.Shape{4}, nil},
		{"zero_output_for_mask", `{"class_name":"LSTM","config":{"name":"l","units":2,"zero_output_for_mask":true,"return_sequences":true}}`,
			nn.Shape{10, 2}, func(l nn.Layer) bool { return l.(*nn.LSTM).ZeroOutputForMask }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, seq(tc.layer), "")
			if !m.OutputShape().Equal(tc.shape) {
				t.Errorf("output shape %v, want %v", m.OutputShape(), tc.shape)
			}
			if tc.check != nil && !tc.check(m.Nodes()[0].Layer) {
				t.Errorf("options did not reach the layer: %+v", m.Nodes()[0].Layer)
			}
		})
	}
}

func TestSequenceLayerErrors(t *testing.T) {
	for _, tc := range []struct {
		name, layer string
		want        []string
		unsupported bool
	}{
		{"permute_not_a_permutation", `{"class_name":"Permute","config":{"name":"p","dims":[1,1]}}`, []string{`"p"`, "permutation"}, false},
		{"permute_missing", `{"class_name":"Permute","config":{"name":"p"}}`, []string{"dims", "a list of axes"}, false},
		{"zeropad_bad", `{"class_name":"ZeroPadding1D","config":{"name":"z","padding":[1,2,3]}}`, []string{"padding", "list of two"}, false},
		{"crop_all", `{"class_name":"Cropping1D","config":{"name":"c","cropping":[5,5]}}`, []string{"cropping (5, 5)"}, false},
		{"convt_causal", `{"class_name":"Conv1DTranspose","config":{"name":"ct","filters":2,"kernel_size":3,"padding":"causal"}}`, []string{`"ct"`, "padding", "valid, same"}, true},
		{"convt_channels_first", `{"class_name":"Conv1DTranspose","config":{"name":"ct","filters":2,"kernel_size":3,"data_format":"channels_first"}}`, []string{"data_format", "channels_last"}, true},
		{"simplernn_return_state", `{"class_name":"SimpleRNN","config":{"name":"r","units":2,"return_state":true}}`, []string{`"r"`, "return_state=true"}, true},
		{"mask_into_global_average", `{"class_name":"Masking","config":{"name":"m"}},{"class_name":"GlobalAveragePooling1D","config":{"name":"gap"}}`,
			[]string{`"gap"`, "GlobalAveragePooling1D", `Masking layer "m"`, "unmasked steps", "LSTM, GRU, SimpleRNN and Bidirectional"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(seq(tc.layer)), Options{File: "m.json"})
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not an *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, tc.unsupported)
			}
		})
	}
}

// TestStateful: stateful RNNs load, compute from a zero state and are
// listed in ModelInfo.Stateful; a fixed batch size in batch_input_shape is
// no limit.
func TestStateful(t *testing.T) {
	js := `{"class_name":"Sequential","config":{"name":"s","layers":[` +
		`{"class_name":"LSTM","config":{"name":"lstm","units":3,"stateful":true,"return_sequences":true,"batch_input_shape":[1,4,2]}},` +
		`{"class_name":"Bidirectional","config":{"name":"bi","layer":{"class_name":"GRU","config":{"name":"gru","units":2,"stateful":true}}}},` +
		`{"class_name":"Dense","config":{"name":"d","units":1}}]}}`
	m, info, err := Parse([]byte(js), Options{KerasVersion: "2.3.1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"lstm", "forward_gru", "backward_gru"}; !slices.Equal(info.Stateful, want) {
		t.Errorf("Stateful = %v, want %v", info.Stateful, want)
	}
	var ws [][]float32
	for _, r := range m.Weights() {
		ws = append(ws, make([]float32, r.Shape.Size()))
	}
	if err := m.SetWeights(ws); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Predict(make([]float32, 5*8), 5); err != nil {
		t.Errorf("batch of 5 for batch_input_shape (1, 4, 2): %v", err)
	}
	if _, info, err := Parse([]byte(seq(`{"class_name":"LSTM","config":{"name":"l","units":2}}`)), Options{}); err != nil || info.Stateful != nil {
		t.Errorf("non-stateful model: Stateful = %v, err %v", info.Stateful, err)
	}
}

// TestMaskDropsByVersion: a mask reaching a layer without mask support is
// dropped as Keras 2.4+ and Keras 3 drop it, and refused for the versions
// that raised.
func TestMaskDropsByVersion(t *testing.T) {
	js := seq(`{"class_name":"Masking","config":{"name":"m"}}`,
		`{"class_name":"Conv1D","config":{"name":"conv","filters":2,"kernel_size":2}}`,
		`{"class_name":"LSTM","config":{"name":"l","units":2}}`)
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"2.10.0", true}, {"2.4.0", true}, {"2.15.1", true},
		{"2.3.1", false}, {"2.2.4-tf", false}, {"2.0.5", false}, {"", false}, {"tfjs-layers 4.22.0", false},
	} {
		_, _, err := Parse([]byte(js), Options{KerasVersion: tc.version})
		if (err == nil) != tc.ok {
			t.Errorf("keras_version %q: err = %v, want ok %v", tc.version, err, tc.ok)
			continue
		}
		if err != nil {
			for _, w := range []string{`"conv"`, "Conv1D", `Masking layer "m"`, "does not support masking", "before 2.4"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q: error %q does not mention %q", tc.version, err, w)
				}
			}
		}
	}
	// Keras 3 drops the mask (with a warning): the Keras 3 dialect loads.
	k3 := strings.Replace(js, `"batch_input_shape"`, `"batch_shape"`, 1)
	if _, _, err := Parse([]byte(k3), Options{}); err != nil {
		t.Errorf("Keras 3 dialect: %v", err)
	}
}
