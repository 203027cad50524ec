package kerasfile_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/kerasfile"
)

// seqLayerNames are the weight names of the sequence layers in
// get_weights() order: DefaultLayers must give them, and so must the Python
// exporter's expected_names (TestSequenceLayerNamesPython), so that both
// readers agree on each config.
var seqLayerNames = []struct {
	layer string
	want  []string
}{
	{`{"class_name":"SimpleRNN","config":{"name":"r","units":3}}`, []string{"kernel", "recurrent_kernel", "bias"}},
	{`{"class_name":"SimpleRNN","config":{"name":"r","units":3,"use_bias":false}}`, []string{"kernel", "recurrent_kernel"}},
	{`{"class_name":"Bidirectional","config":{"name":"b","layer":{"class_name":"SimpleRNN","config":{"name":"r","units":3}}}}`,
		[]string{"forward/kernel", "forward/recurrent_kernel", "forward/bias", "backward/kernel", "backward/recurrent_kernel", "backward/bias"}},
	{`{"class_name":"Conv1DTranspose","config":{"name":"ct","filters":2,"kernel_size":[3]}}`, []string{"kernel", "bias"}},
	{`{"class_name":"Conv1DTranspose","config":{"name":"ct","filters":2,"kernel_size":[3],"use_bias":false}}`, []string{"kernel"}},
	{`{"class_name":"Masking","config":{"name":"m","mask_value":0.0}}`, []string{}},
	{`{"class_name":"Permute","config":{"name":"p","dims":[2,1]}}`, []string{}},
	{`{"class_name":"ZeroPadding1D","config":{"name":"z","padding":[1,1]}}`, []string{}},
	{`{"class_name":"Cropping1D","config":{"name":"c","cropping":[1,1]}}`, []string{}},
	{`{"class_name":"UpSampling1D","config":{"name":"u","size":2}}`, []string{}},
}

func TestSequenceLayerNames(t *testing.T) {
	table := kerasfile.DefaultLayers()
	for _, tc := range seqLayerNames {
		var layer map[string]any
		if err := json.Unmarshal([]byte(tc.layer), &layer); err != nil {
			t.Fatal(err)
		}
		got, ok, err := table.WeightNames(layer)
		if err != nil || !ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: WeightNames = %v, %v, %v; want %v", tc.layer, got, ok, err, tc.want)
		}
	}
}

// TestSequenceLayerNamesPython asks the exporter's expected_names for the
// same configs.
func TestSequenceLayerNamesPython(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs /usr/bin/python3")
	}
	var layers []string
	for _, tc := range seqLayerNames {
		layers = append(layers, tc.layer)
	}
	script := `import json, sys
sys.path.insert(0, "../tools")
from seqcast_export.keras_reader import expected_names
for line in sys.stdin:
    print(json.dumps(expected_names(json.loads(line))))
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(layers, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(seqLayerNames) {
		t.Fatalf("python printed %d lines for %d layers:\n%s", len(lines), len(seqLayerNames), out)
	}
	for i, tc := range seqLayerNames {
		var got []string
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatalf("%s: %v", lines[i], err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: expected_names = %v, want %v", tc.layer, got, tc.want)
		}
	}
}
