package kerasconfig

import (
	"errors"
	"slices"
	"testing"
)

// TestErrorFields checks that the typed error says, in its fields, which
// file, layer, class and option a refusal is about, and what is supported.
func TestErrorFields(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		want      Error // Err is not compared
		supported []string
	}{
		{"option", seq(`{"class_name":"LSTM","config":{"name":"lstm_7","units":4,"return_state":true}}`),
			Error{File: "m/model.json", Layer: "lstm_7", Class: "LSTM", Option: "return_state", Value: "true"}, []string{"false"}},
		{"unknown class", seq(`{"class_name":"Lambda","config":{"name":"lambda_1","function":"f"}}`),
			Error{File: "m/model.json", Layer: "lambda_1", Class: "Lambda"}, Default().Classes()},
		{"inside Bidirectional", seq(`{"class_name":"Bidirectional","config":{"name":"bi","layer":{"class_name":"GRU","config":{"name":"g","units":2,"go_backwards":"yes"}}}}`),
			Error{File: "m/model.json", Within: []LayerID{{"bi", "Bidirectional"}}, Layer: "forward_g", Class: "GRU", Option: "go_backwards", Value: `"yes"`}, nil},
		{"inside TimeDistributed", seq(`{"class_name":"TimeDistributed","config":{"name":"td","layer":{"class_name":"Lambda","config":{"name":"m"}}}}`),
			Error{File: "m/model.json", Within: []LayerID{{"td", "TimeDistributed"}}, Layer: "m", Class: "Lambda"}, Default().Classes()},
		{"dtype", seq(`{"class_name":"Dense","config":{"name":"d","units":1,"dtype":"float16"}}`),
			Error{File: "m/model.json", Layer: "d", Class: "Dense", Option: "dtype", Value: `"float16"`}, []string{"float32"}},
		{"activation size", `{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"InputLayer","config":{"batch_input_shape":[null,3],"name":"in"}},` +
			`{"class_name":"RepeatVector","config":{"name":"r","n":100000000}}]}}`,
			Error{File: "m/model.json", Layer: "r", Class: "RepeatVector"}, nil},
		{"model", `{"class_name":"Dense","config":{}}`,
			Error{File: "m/model.json"}, []string{"Functional", "Model", "Sequential"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.json), Options{File: "m/model.json"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want an *Error", err, err)
			}
			t.Log(e)
			if e.File != tt.want.File || e.Layer != tt.want.Layer || e.Class != tt.want.Class ||
				e.Option != tt.want.Option || e.Value != tt.want.Value || !slices.Equal(e.Within, tt.want.Within) {
				t.Errorf("got %+v\nwant %+v", *e, tt.want)
			}
			if !slices.Equal(e.Supported, tt.supported) {
				t.Errorf("Supported = %v, want %v", e.Supported, tt.supported)
			}
			if (tt.supported != nil) != errors.Is(err, ErrUnsupported) {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v", errors.Is(err, ErrUnsupported))
			}
		})
	}
}
