package kerasfile_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasfile"
)

// TestPreprocessingLayerNames: Normalization holds adapt()'s mean, variance
// and count unless its config gives mean and variance; Rescaling, Dot,
// Maximum, Minimum and Softmax hold nothing.
func TestPreprocessingLayerNames(t *testing.T) {
	table := kerasfile.DefaultLayers()
	for _, tc := range []struct {
		layer string
		want  []string
	}{
		{`{"class_name":"Normalization","config":{"name":"n","axis":[-1],"mean":null,"variance":null,"invert":false}}`, []string{"mean", "variance", "count"}},
		{`{"class_name":"Normalization","config":{"name":"n","axis":[-1]}}`, []string{"mean", "variance", "count"}},
		{`{"class_name":"Normalization","config":{"name":"n","axis":[-1],"mean":[1,2],"variance":[1,1]}}`, nil},
		{`{"class_name":"Normalization","config":{"name":"n","axis":[],"mean":0.0,"variance":1.0}}`, nil},
		{`{"class_name":"Rescaling","config":{"name":"r","scale":0.5,"offset":0}}`, nil},
		{`{"class_name":"Dot","config":{"name":"d","axes":[2,2],"normalize":true}}`, nil},
		{`{"class_name":"Softmax","config":{"name":"s","axis":1}}`, nil},
	} {
		var layer map[string]any
		if err := json.Unmarshal([]byte(tc.layer), &layer); err != nil {
			t.Fatal(err)
		}
		got, ok, err := table.WeightNames(layer)
		if err != nil || !ok || len(got) != len(tc.want) || (len(got) > 0 && !slices.Equal(got, tc.want)) {
			t.Errorf("%s: WeightNames = %v, %v, %v; want %v", tc.layer, got, ok, err, tc.want)
		}
	}
}

// TestAdaptedNormalizationFiles: an adapted Normalization's count is an
// int64 scalar in Keras files (testdata/normalization, written by make.py),
// which the reader refuses, as the Python exporter does, with an *Error
// naming the layer and the array: a clean refusal, not a misread. (A bundle
// whose weights/ hold count as float32 loads.)
func TestAdaptedNormalizationFiles(t *testing.T) {
	for _, tc := range []struct{ file, path string }{
		{"norm_keras2.h5", "model_weights/normalization/normalization/count:0"},
		{"norm_keras3.keras", "layers/normalization/vars/2"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := kerasfile.ReadFile("testdata/normalization/"+tc.file, nil)
			var e *kerasfile.Error
			if !errors.As(err, &e) || e.Layer != "normalization" || e.Class != "Normalization" || e.Path != tc.path {
				t.Fatalf("want an *Error for %s of layer normalization, got %v", tc.path, err)
			}
			if !strings.Contains(err.Error(), "not a float type") {
				t.Errorf("error does not say why: %v", err)
			}
		})
	}
}
