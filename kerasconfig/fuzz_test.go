package kerasconfig

import (
	"strings"
	"testing"

	"github.com/seqcast/seqcast/internal/allocbound"
)

// FuzzParseConfig runs its seeds (f.Add and testdata/fuzz/FuzzParseConfig/)
// under `go test` and mutates them under `make fuzz`: a hostile config
// yields an error, never a panic, and never an allocation out of proportion
// to its size.

// fuzzDenseConfig is a small Keras 2 Sequential model: (None, 3) -> Dense(2).
const fuzzDenseConfig = `{"class_name":"Sequential","config":{"name":"s","layers":[` +
	`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3],"dtype":"float32","name":"in"}},` +
	`{"class_name":"Dense","config":{"name":"d","units":2,"activation":"linear","use_bias":true}}]},"keras_version":"2.12.0"}`

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(fuzzDenseConfig), "")
	f.Add([]byte(fuzzDenseConfig), "3.1.0")
	f.Add([]byte(seq(`{"class_name":"Conv1D","config":{"name":"c","filters":4,"kernel_size":[3],"padding":"same","activation":"relu"}}`,
		`{"class_name":"Bidirectional","config":{"name":"b","merge_mode":"concat","layer":{"class_name":"LSTM","config":{"name":"l","units":3,"return_sequences":true}}}}`,
		`{"class_name":"GlobalAveragePooling1D","config":{"name":"g"}}`,
		`{"class_name":"Dense","config":{"name":"o","units":1}}`)), "")
	f.Add([]byte(seq(`{"class_name":"Reshape","config":{"name":"r","target_shape":[-1,1]}}`,
		`{"class_name":"RepeatVector","config":{"name":"rv","n":2}}`)), "")
	f.Add([]byte(seq(`{"class_name":"Dense","config":{"name":"d","units":1000000000}}`)), "")
	f.Add([]byte(seq(`{"class_name":"Masking","config":{"name":"m","mask_value":0.0}}`,
		`{"class_name":"Permute","config":{"name":"p","dims":[2,1]}}`,
		`{"class_name":"Permute","config":{"name":"q","dims":[2,1]}}`,
		`{"class_name":"SimpleRNN","config":{"name":"r","units":2,"return_sequences":true,"stateful":true}}`,
		`{"class_name":"ZeroPadding1D","config":{"name":"z","padding":[1,2]}}`,
		`{"class_name":"Cropping1D","config":{"name":"c","cropping":1}}`,
		`{"class_name":"UpSampling1D","config":{"name":"u","size":2}}`,
		`{"class_name":"Conv1DTranspose","config":{"name":"t","filters":2,"kernel_size":[3],"strides":[2],"padding":"same","output_padding":1}}`)), "2.10.0")
	f.Add([]byte(`{"modelTopology":"{\"class_name\":\"Sequential\"}"}`), "")
	f.Add([]byte(`{"model_config":{"class_name":"Functional","config":{"layers":[],"input_layers":[],"output_layers":[]}}}`), "")
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`), "")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		allocbound.Check(t, len(data), func() {
			m, info, err := Parse(data, Options{KerasVersion: version})
			if err != nil {
				if m != nil {
					t.Fatalf("Parse returned a model with error %v", err)
				}
				return
			}
			if m == nil {
				t.Fatalf("Parse returned neither a model nor an error (info %+v)", info)
			}
			_ = m.ParamCount()
			for _, w := range m.Weights() {
				for _, d := range w.Shape {
					if d < 0 {
						t.Fatalf("layer %q %s has shape %v", w.Layer, w.Name, w.Shape)
					}
				}
			}
		})
	})
}

// TestHostileSizes pins the fuzzing findings fixed in parse.go: sizes a
// config announces are checked before a model that big is built.
func TestHostileSizes(t *testing.T) {
	for _, tt := range []struct{ layers, want string }{
		{`{"class_name":"RepeatVector","config":{"name":"r","n":4611686018427387904}}`, `layer "r" (RepeatVector): output shape [4611686018427387904 3] is too large`},
		{`{"class_name":"RepeatVector","config":{"name":"r","n":100000000}}`, `layer "r" (RepeatVector): output shape [100000000 3] is too large`},
		{`{"class_name":"Dense","config":{"name":"d","units":3000000}},{"class_name":"Dense","config":{"name":"e","units":3000000}},` +
			`{"class_name":"Dense","config":{"name":"f","units":3000000}}`, `layer "f" (Dense): the layer outputs add up to more than`},
	} {
		cfg := `{"class_name":"Sequential","config":{"name":"s","layers":[` +
			`{"class_name":"InputLayer","config":{"batch_input_shape":[null,3],"dtype":"float32","name":"in"}},` + tt.layers + `]}}`
		_, _, err := Parse([]byte(cfg), Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse: err = %v, want %q", err, tt.want)
		}
	}
}
