package kerasfile_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/weights"
)

// testdata/gold/gold.h5 and gold.keras hold the gold forecaster of
// ../testdata/bench/gold (a bundle) as Keras 2.15 would save it; they are
// written by testdata/gold/make_gold.py.
const goldBundle = "../testdata/bench/gold"

// TestGoldMatchesBundle: both Keras files of the gold model give the
// bundle's config and its arrays, bit for bit, in its order.
func TestGoldMatchesBundle(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldBundle, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	delete(want, "keras_version")
	delete(want, "backend")
	files, err := filepath.Glob(filepath.Join(goldBundle, "weights", "*.npy"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no gold weights: %v", err)
	}
	for _, name := range []string{"gold.h5", "gold.keras"} {
		t.Run(name, func(t *testing.T) {
			m, err := kerasfile.ReadFile("testdata/gold/"+name, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(m.Config, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || m.KerasVersion != "2.15.0" {
				t.Fatalf("config or keras_version (%q) differ from the bundle's", m.KerasVersion)
			}
			if len(m.Weights) != len(files) {
				t.Fatalf("%d weights, the bundle has %d", len(m.Weights), len(files))
			}
			for i, f := range files {
				fh, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				data, shape, err := weights.ReadNPY(fh)
				fh.Close()
				if err != nil {
					t.Fatal(err)
				}
				w := m.Weights[i]
				if !slices.Equal(w.Shape, shape) || len(w.Data) != len(data) {
					t.Fatalf("weight %d (%s): shape %v, bundle %v", i, w.Name, w.Shape, shape)
				}
				for j := range data {
					if math.Float32bits(data[j]) != math.Float32bits(w.Data[j]) {
						t.Fatalf("weight %d (%s) differs at %d", i, w.Name, j)
					}
				}
			}
		})
	}
}

// BenchmarkLoad compares reading a model from a Keras file with loading the
// same model from a bundle directory (weights.Load, which also checks the
// manifest and builds the network). Run:
//
//	go test -run '^$' -bench Load -benchmem ./kerasfile/
func BenchmarkLoad(b *testing.B) {
	air := "../parity/testdata/fixtures/airquality-cnn-bilstm/"
	cases := []struct {
		name string
		load func() error
	}{
		{"gold/bundle", func() error { _, err := weights.Load(goldBundle); return err }},
		{"gold/h5", func() error { _, err := kerasfile.ReadFile("testdata/gold/gold.h5", nil); return err }},
		{"gold/keras", func() error { _, err := kerasfile.ReadFile("testdata/gold/gold.keras", nil); return err }},
		{"airquality/bundle", func() error { _, err := weights.Load(air + "bundles/cnn_bilstm_model"); return err }},
		{"airquality/keras", func() error { _, err := kerasfile.ReadFile(air+"cnn_bilstm_model.keras", nil); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.load(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
