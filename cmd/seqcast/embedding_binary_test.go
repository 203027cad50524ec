package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The retail two-input forecaster (a (6, 2) window into an LSTM, a (1,)
// store id of 7 stores into Embedding -> Flatten, Concatenate, Dense(2)),
// TF.js goldens in Keras 2.12 and Keras 3 (whose store input is int32).
const (
	embStoreK2Dir = "../../parity/testdata/golden/embedding_store_k2_12"
	embStoreK3Dir = "../../parity/testdata/golden/embedding_store_k3"
	embSeqDir     = "../../parity/testdata/golden/embedding_sequence_k2_15" // (8,) item ids -> (1)
)

// embInputs reads a store golden's inputs and expected output.
func embInputs(t *testing.T, dir string) (win []float32, ws []int, ids []float32, is []int, want []float32, yw []int) {
	t.Helper()
	win, ws = readNPY(t, filepath.Join(dir, "input_0.npy"))
	ids, is = readNPY(t, filepath.Join(dir, "input_1.npy"))
	want, yw = readNPY(t, filepath.Join(dir, "expected_0.npy"))
	return
}

// TestServeEmbedding serves the store goldens through the built binary:
// TF Serving :predict with named inputs (columnar and row) and OIP infer
// answer the golden's outputs; a store id out of [0, 7) is a 422 (:predict)
// or 400 (infer) naming the input, the sample and the value, never a 500; a
// fractional id is truncated as Keras's int32 cast does.
func TestServeEmbedding(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{"store2": embStoreK2Dir, "store3": embStoreK3Dir}
	for name, dir := range dirs {
		if err := os.CopyFS(filepath.Join(root, name, "1"), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	p := startBinary(t, nil, "--models-dir", root)
	const ct = "application/json"
	for _, name := range []string{"store2", "store3"} {
		t.Run(name, func(t *testing.T) {
			win, ws, ids, is, want, yw := embInputs(t, dirs[name])
			n := ws[0]
			if fmt.Sprint(ws, is, yw) != fmt.Sprintf("[%d 6 2] [%d 1] [%d 2]", n, n, n) {
				t.Fatalf("golden shapes %v %v %v", ws, is, yw)
			}
			predict := func(windows, stores []float32) reply {
				cols := `{"inputs":{"window":` + nestJSON(windows, ws) + `,"store":` + nestJSON(stores, is) + `}}`
				return p.call(t, "POST", "/v1/models/"+name+":predict", cols, "Content-Type", ct)
			}
			outputs := func(r reply) []float32 {
				t.Helper()
				var b struct{ Outputs [][]float32 }
				if r.status != 200 || json.Unmarshal([]byte(r.raw), &b) != nil || len(b.Outputs) != n {
					t.Fatalf(":predict: %d %s", r.status, r.raw)
				}
				return slices.Concat(b.Outputs...)
			}
			closeTo(t, ":predict columnar", outputs(predict(win, ids)), yw, want, yw)

			// Row format: one object per sample.
			var rows []string
			for i := 0; i < n; i++ {
				rows = append(rows, `{"window":`+nestJSON(win[i*12:(i+1)*12], []int{6, 2})+`,"store":[`+fmt.Sprint(ids[i])+`]}`)
			}
			r := p.call(t, "POST", "/v1/models/"+name+":predict", `{"instances":[`+strings.Join(rows, ",")+`]}`, "Content-Type", ct)
			var rb struct{ Predictions [][]float32 }
			if r.status != 200 || json.Unmarshal([]byte(r.raw), &rb) != nil {
				t.Fatalf(":predict rows: %d %s", r.status, r.raw)
			}
			closeTo(t, ":predict rows", slices.Concat(rb.Predictions...), yw, want, yw)

			// A fractional id reads the row of its truncation: every id + 0.75
			// answers the golden's outputs.
			frac := slices.Clone(ids)
			for i := range frac {
				frac[i] += 0.75
			}
			closeTo(t, ":predict ids+0.75", outputs(predict(win, frac)), yw, want, yw)

			// Out of range at either end: 422 naming the input, the sample and
			// the value.
			for _, bad := range []float32{7, -1, 1e6} {
				b := slices.Clone(ids)
				b[2] = bad
				r := predict(win, b)
				msg := r.errField("message")
				if r.status != 422 || r.errField("code") != "invalid_input" || r.errField("field") != "store" ||
					!strings.Contains(msg, "sample 2:") || !strings.Contains(msg, "value "+fmt.Sprint(bad)+" ") || !strings.Contains(msg, "[0, 7)") {
					t.Errorf(":predict store id %g: %d %s, want 422 naming store, sample 2 and the value", bad, r.status, r.raw)
				}
			}

			// OIP infer: the golden's outputs, and 400 for an id out of range.
			tensor := func(nm string, x []float32, shape []int) string {
				b, _ := json.Marshal(map[string]any{"name": nm, "shape": shape, "datatype": "FP32", "data": x})
				return string(b)
			}
			r = p.call(t, "POST", "/v2/models/"+name+"/infer", `{"inputs":[`+tensor("store", ids, is)+`,`+tensor("window", win, ws)+`]}`, "Content-Type", ct)
			var ob struct {
				Outputs []struct {
					Name  string
					Shape []int
					Data  []float32
				}
			}
			if r.status != 200 || json.Unmarshal([]byte(r.raw), &ob) != nil || len(ob.Outputs) != 1 || ob.Outputs[0].Name != "forecast" {
				t.Fatalf("infer: %d %s", r.status, r.raw)
			}
			closeTo(t, "infer", ob.Outputs[0].Data, ob.Outputs[0].Shape, want, yw)
			b := slices.Clone(ids)
			b[n-1] = 7
			r = p.call(t, "POST", "/v2/models/"+name+"/infer", `{"inputs":[`+tensor("store", b, is)+`,`+tensor("window", win, ws)+`]}`, "Content-Type", ct)
			oipErr(t, "infer store id 7", r, 400, "store")
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, fmt.Sprintf("sample %d:", n-1)) || !strings.Contains(msg, "value 7 ") || !strings.Contains(msg, "[0, 7)") {
				t.Errorf("infer store id 7: %s, want the sample, the value and the range", r.raw)
			}
		})
	}
}

// TestPredictEmbeddingBinary: seqcast predict runs the store goldens and the
// id-sequence golden, and refuses an id out of range naming the layer, the
// sample and the value.
func TestPredictEmbeddingBinary(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{embStoreK2Dir, embStoreK3Dir} {
		y := filepath.Join(dir, "y.npy")
		mustRun(t, "predict", "--model", src, "--input", filepath.Join(src, "input_0.npy"), "--input", filepath.Join(src, "input_1.npy"), "--output", y)
		got, gs := readNPY(t, y)
		want, ws := readNPY(t, filepath.Join(src, "expected_0.npy"))
		closeTo(t, src, got, gs, want, ws)
	}
	y := filepath.Join(dir, "seq.npy")
	mustRun(t, "predict", "--model", embSeqDir, "--input", filepath.Join(embSeqDir, "input.npy"), "--output", y)
	got, gs := readNPY(t, y)
	want, ws := readNPY(t, filepath.Join(embSeqDir, "expected.npy"))
	closeTo(t, "id sequence", got, gs, want, ws)

	ids, is := readNPY(t, filepath.Join(embStoreK3Dir, "input_1.npy"))
	ids[3] = 9
	bad := filepath.Join(dir, "bad.npy")
	writeNPY32(t, bad, ids, is)
	code, stdout, stderr := runCmd("predict", "--model", embStoreK3Dir, "--input", filepath.Join(embStoreK3Dir, "input_0.npy"), "--input", bad, "--output", filepath.Join(dir, "z.npy"))
	if code != 1 || stdout != "" || !strings.Contains(stderr, "store_emb") || !strings.Contains(stderr, "sample 3") || !strings.Contains(stderr, "value 9") {
		t.Errorf("predict with store id 9: exit %d, stderr %q", code, stderr)
	}
}

// TestPredictEmbeddingKerasH5: the Keras 2.12 store golden as the legacy .h5
// Keras 2 writes (the Embedding's weight store_emb/embeddings:0), read
// directly by seqcast predict, answers expected.npy.
func TestPredictEmbeddingKerasH5(t *testing.T) {
	dir := t.TempDir()
	h5 := filepath.Join(dir, "store.h5")
	script := strings.Replace(multiIOH5, `"Dense": ["kernel", "bias"]}`, `"Dense": ["kernel", "bias"], "Embedding": ["embeddings"]}`, 1)
	if script == multiIOH5 {
		t.Fatal("the .h5 writer's weight-name table changed")
	}
	if out, err := exec.Command(python, "-c", script, embStoreK2Dir, h5).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	y := filepath.Join(dir, "y.npy")
	mustRun(t, "predict", "--model", h5, "--input", filepath.Join(embStoreK2Dir, "input_0.npy"), "--input", filepath.Join(embStoreK2Dir, "input_1.npy"), "--output", y)
	got, gs := readNPY(t, y)
	want, ws := readNPY(t, filepath.Join(embStoreK2Dir, "expected_0.npy"))
	closeTo(t, "store.h5", got, gs, want, ws)
}
