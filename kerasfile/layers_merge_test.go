package kerasfile_test

import (
	"encoding/json"
	"slices"
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
// int64 scalar in Keras files (testdata/normalization, written by make.py);
// the reader keeps it as float32 (inference never reads it), as the Python
// exporter does, and reads mean and variance as they are.
func TestAdaptedNormalizationFiles(t *testing.T) {
	for _, file := range []string{"norm_keras2.h5", "norm_keras3.keras"} {
		t.Run(file, func(t *testing.T) {
			m, err := kerasfile.ReadFile("testdata/normalization/"+file, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]float32
			for _, w := range m.Weights {
				if w.Class == "Normalization" {
					got = append(got, w.Data)
				}
			}
			want := [][]float32{{0.5, -1, 2}, {4, 0.25, 1}, {1000}}
			if len(got) != len(want) {
				t.Fatalf("Normalization weights %v, want %v", got, want)
			}
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("Normalization weight %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}
