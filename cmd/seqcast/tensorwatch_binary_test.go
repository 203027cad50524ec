package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqcast/seqcast/serving"
)

// The tensor routes (TF Serving :predict, OIP infer) watched like /predict:
// out-of-range samples warn or are refused, a canary takes its share of
// requests naming no version, a shadow version runs beside the default one,
// and every answer says its version in X-Model-Version.

// tensorScaler is a fitted minmax input and output scaler (scikit-learn's
// MinMaxScaler on [lo, hi]) as scaler.json.
func tensorScaler(lo, hi float64) string {
	scale := 1 / (hi - lo)
	p := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	mm := `{"kind":"minmax","feature_range":[0,1],"clip":false,"data_min":[` + p(lo) + `],"data_max":[` + p(hi) +
		`],"scale":[` + p(scale) + `],"min":[` + p(-lo*scale) + `]}`
	return `{"format":"seqcast-scaler/1","window":60,"input":` + mm + `,"output":` + mm + "}\n"
}

// tensorModelsDir is versionedModelsDir (gold/1, and gold/2 whose output
// bias is 0.5 higher) with, in both versions, a minmax scaler fitted on
// gold's training prices (to 2015-08-27) and those prices' raw-value
// training statistics; with scaler false, the statistics only (the tensor
// is then the raw window). It returns the scaler's (lo, hi).
func tensorModelsDir(t *testing.T, withScaler bool) (string, float64, float64) {
	t.Helper()
	dates, prices := goldPrices(t)
	var rows [][]float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, d := range dates {
		if d.After(time.Date(2015, 8, 27, 0, 0, 0, 0, time.UTC)) {
			break
		}
		rows = append(rows, []float64{prices[i]})
		lo, hi = min(lo, prices[i]), max(hi, prices[i])
	}
	ts, err := serving.ComputeTrainingStats(rows, 60, []string{"price"}, false)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := ts.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	root := versionedModelsDir(t)
	for _, v := range []string{"1", "2"} {
		dir := filepath.Join(root, "gold", v)
		if err := os.WriteFile(filepath.Join(dir, serving.TrainingStatsFile), stats, 0o644); err != nil {
			t.Fatal(err)
		}
		if withScaler {
			if err := os.WriteFile(filepath.Join(dir, serving.ScalerFile), []byte(tensorScaler(lo, hi)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root, lo, hi
}

// tfBody is a :predict body of univariate windows (instances).
func tfBody(windows ...[]float64) string {
	s := make([]string, len(windows))
	for i, w := range windows {
		s[i] = jsonArray(w)
	}
	return `{"instances":[` + strings.Join(s, ",") + `]}`
}

// oipBody is an OIP infer body of univariate windows, one FP32 tensor.
func oipBody(windows ...[]float64) string {
	var flat []float64
	for _, w := range windows {
		flat = append(flat, w...)
	}
	return fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,60,1],"datatype":"FP32","data":%s}]}`, len(windows), jsonArray(flat))
}

// scaled maps raw prices into the minmax scaler's [0, 1].
func scaled(w []float64, lo, hi float64) []float64 {
	out := make([]float64, len(w))
	for i, v := range w {
		out[i] = (v - lo) / (hi - lo)
	}
	return out
}

// headerVersion is an answer's X-Model-Version.
func headerVersion(t *testing.T, r reply) int {
	t.Helper()
	v, err := strconv.Atoi(r.header.Get("X-Model-Version"))
	if err != nil {
		t.Fatalf("X-Model-Version %q: %d %.300s", r.header.Get("X-Model-Version"), r.status, r.raw)
	}
	return v
}

// TestServeTensorOutOfRange: on :predict and OIP infer, a model input tensor
// is checked against the training statistics in raw units (through the
// fitted scaler's inverse, or as it is without a scaler): a sample of
// negative prices warns (TF Serving: top-level "warnings" naming
// instances[i]; OIP: parameters.warnings naming inputs[0][i]), is counted,
// and under --out-of-range reject refuses the request (422 on :predict, the
// protocol's 400 on OIP); 1,000 samples feed the drift gauge. Gold's tensors
// (z-scored windows) cannot be checked: never a warning.
func TestServeTensorOutOfRange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dates, prices := goldPrices(t)
	start := 0
	for !dates[start].After(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)) {
		start++
	}
	in := prices[start : start+60] // early 2010: inside training
	neg := make([]float64, 60)
	for i, v := range in {
		neg[i] = -v
	}
	for _, withScaler := range []bool{true, false} {
		t.Run("scaler="+strconv.FormatBool(withScaler), func(t *testing.T) {
			root, lo, hi := tensorModelsDir(t, withScaler)
			tensor := func(w []float64) []float64 {
				if withScaler {
					return scaled(w, lo, hi)
				}
				return w
			}
			p := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1")
			r := p.call(t, "POST", "/v1/models/gold:predict", tfBody(tensor(in)))
			if r.status != 200 || r.body["warnings"] != nil || headerVersion(t, r) != 1 {
				t.Fatalf("in range: %d %s", r.status, r.raw)
			}
			r = p.call(t, "POST", "/v1/models/gold:predict", tfBody(tensor(in), tensor(neg)))
			ws, _ := r.body["warnings"].([]any)
			if r.status != 200 || len(ws) != 1 || len(r.body["predictions"].([]any)) != 2 {
				t.Fatalf("negative sample: %d %s", r.status, r.raw)
			}
			w := ws[0].(map[string]any)
			if w["field"] != "instances[1]" || w["feature"] != "value" || w["reason"] == "" {
				t.Fatalf("warning %v", w)
			}
			if v, _ := w["value"].(float64); math.Abs(v+in[0]) > 1e-3*in[0] { // the raw price, not the scaled one
				t.Errorf("warning value %v, want %v", w["value"], -in[0])
			}
			r = p.call(t, "POST", "/v2/models/gold/infer", oipBody(tensor(neg), tensor(in)))
			if r.status != 200 || r.body["model_version"] != "1" || headerVersion(t, r) != 1 {
				t.Fatalf("OIP: %d %s", r.status, r.raw)
			}
			params, _ := r.body["parameters"].(map[string]any)
			ws, _ = params["warnings"].([]any)
			if len(ws) != 1 || ws[0].(map[string]any)["field"] != "inputs[0][0]" {
				t.Fatalf("OIP warnings: %s", r.raw)
			}
			if r = p.call(t, "POST", "/v2/models/gold/infer", oipBody(tensor(in))); r.status != 200 || r.body["parameters"] != nil {
				t.Fatalf("OIP in range: %d %s", r.status, r.raw)
			}
			// 1,000 distinct samples more: the drift statistic is due.
			for b := 0; b < 1000; b += 250 {
				batch := make([][]float64, 250)
				for i := range batch {
					batch[i] = tensor(prices[start+b+i+1 : start+b+i+61])
				}
				if r = p.call(t, "POST", "/v1/models/gold:predict", tfBody(batch...)); r.status != 200 || r.body["warnings"] != nil {
					t.Fatalf("batch: %d %.300s", r.status, r.raw)
				}
			}
			mf := p.metricFamilies(t)
			if n, _ := metricValue(mf, "seqcast_out_of_range_total", map[string]string{"model": "gold", "feature": "value"}); n != 2 {
				t.Errorf("seqcast_out_of_range_total{value} = %g, want 2", n)
			}
			if _, ok := metricValue(mf, "seqcast_input_drift_psi", map[string]string{"model": "gold", "version": "1", "feature": "value"}); !ok {
				t.Error("no seqcast_input_drift_psi after 1,000 tensor samples")
			}

			rej := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1", "--out-of-range", "reject")
			r = rej.call(t, "POST", "/v1/models/gold:predict", tfBody(tensor(in), tensor(neg)))
			if r.status != 422 || r.errField("field") != "instances[1]" || !strings.Contains(r.errField("message"), "out of range") {
				t.Fatalf("reject :predict: %d %s", r.status, r.raw)
			}
			r = rej.call(t, "POST", "/v2/models/gold/infer", oipBody(tensor(in), tensor(neg)))
			if msg, _ := r.body["error"].(string); r.status != 400 || !strings.HasPrefix(msg, "inputs[0][1]: out of range") {
				t.Fatalf("reject OIP: %d %s", r.status, r.raw)
			}
			if r = rej.call(t, "POST", "/v1/models/gold:predict", tfBody(tensor(in))); r.status != 200 {
				t.Fatalf("reject, in range: %d %s", r.status, r.raw)
			}
		})
	}
	// Gold: a z-scored model's tensor cannot be checked, nor warn.
	g := startBinary(t, nil, "--out-of-range", "reject")
	if r := g.call(t, "POST", "/v1/models/gold:predict", tfBody(neg)); r.status != 200 || r.body["warnings"] != nil {
		t.Fatalf("gold :predict: %d %s", r.status, r.raw)
	}
	if r := g.call(t, "POST", "/v2/models/gold/infer", oipBody(neg)); r.status != 200 || r.body["parameters"] != nil {
		t.Fatalf("gold OIP: %d %s", r.status, r.raw)
	}
}

// tensorWindow is a distinct 60-value tensor per i (windowJSON's values).
func tensorWindow(i int) []float64 {
	w := make([]float64, 60)
	for k := range w {
		w[k] = math.Round((0.3+0.2*math.Sin(float64(k+i)/5)+float64(i)*1e-4)*1e6) / 1e6
	}
	return w
}

// TestServeTensorCanary: --canary gold:2=10 sends about 10% of distinct
// tensors that name no version to version 2 on :predict and on OIP infer,
// the same tensor always to the same version (X-Model-Version; OIP's
// model_version too); /versions/N gets exactly N, a label its version.
func TestServeTensorCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	root := versionedModelsDir(t)
	if err := os.WriteFile(filepath.Join(root, "gold", "model.yaml"), []byte("version_labels: {stable: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1", "--canary", "gold:2=10")
	const n = 1500
	for _, route := range []string{"tf", "oip"} {
		t.Run(route, func(t *testing.T) {
			call := func(path string, i int) int {
				var r reply
				if route == "tf" {
					r = p.call(t, "POST", "/v1/models/gold"+path+":predict", tfBody(tensorWindow(i)))
				} else {
					r = p.call(t, "POST", "/v2/models/gold"+path+"/infer", oipBody(tensorWindow(i)))
				}
				v := headerVersion(t, r)
				if r.status != 200 || route == "oip" && r.body["model_version"] != strconv.Itoa(v) {
					t.Fatalf("%s %d: %d %s", path, i, r.status, r.raw)
				}
				return v
			}
			got := make([]int, n)
			canary := 0
			for i := range n {
				got[i] = call("", i)
				if got[i] == 2 {
					canary++
				}
			}
			if share := 100 * float64(canary) / n; math.Abs(share-10) > 3 {
				t.Errorf("canary share %.2f%% of %d tensors, want 10 ± 3", share, n)
			} else {
				t.Logf("canary share %.2f%% of %d tensors", share, n)
			}
			for i := range 150 {
				if v := call("", i); v != got[i] {
					t.Fatalf("tensor %d: version %d, first %d", i, v, got[i])
				}
			}
			for i := range 40 { // pinned, whichever version the tensor would get
				if v := call("/versions/1", i); v != 1 {
					t.Fatalf("/versions/1: version %d", v)
				}
				if v := call("/versions/2", i); v != 2 {
					t.Fatalf("/versions/2: version %d", v)
				}
			}
			if route == "tf" {
				for i := range 40 {
					if v := call("/labels/stable", i); v != 1 {
						t.Fatalf("/labels/stable: version %d", v)
					}
				}
			}
		})
	}
}

// TestServeTensorShadow: --shadow runs every :predict and OIP request that
// names no version on the shadow version too; the divergence of every
// output shows version 2's 0.5 difference, and is zero for an identical
// version 3; a request naming a version is not shadowed.
func TestServeTensorShadow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	root := versionedModelsDir(t)
	if err := os.CopyFS(filepath.Join(root, "gold", "3"), os.DirFS(filepath.Join(root, "gold", "1"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		shadow string
		zero   bool
	}{
		{"2", false},
		{"3", true},
	} {
		t.Run("shadow="+tc.shadow, func(t *testing.T) {
			p := startBinary(t, nil, "--models-dir", root, "--default-version", "gold:1", "--shadow", "gold:"+tc.shadow, "--shadow-rate", "1")
			var primary []float64
			for i := range 3 { // :predict, two samples each
				r := p.call(t, "POST", "/v1/models/gold:predict", tfBody(tensorWindow(2*i), tensorWindow(2*i+1)))
				if r.status != 200 || headerVersion(t, r) != 1 {
					t.Fatalf(":predict: %d %s", r.status, r.raw)
				}
				for _, y := range r.body["predictions"].([]any) {
					primary = append(primary, y.([]any)[0].(float64))
				}
			}
			for i := range 2 { // OIP, one sample each
				r := p.call(t, "POST", "/v2/models/gold/infer", oipBody(tensorWindow(10+i)))
				if r.status != 200 || headerVersion(t, r) != 1 {
					t.Fatalf("OIP: %d %s", r.status, r.raw)
				}
				primary = append(primary, r.body["outputs"].([]any)[0].(map[string]any)["data"].([]any)[0].(float64))
			}
			// Pinned: not shadowed.
			if r := p.call(t, "POST", "/v1/models/gold/versions/1:predict", tfBody(tensorWindow(99))); r.status != 200 {
				t.Fatalf("pinned: %d %s", r.status, r.raw)
			}
			if r := p.call(t, "POST", "/v2/models/gold/versions/1/infer", oipBody(tensorWindow(98))); r.status != 200 {
				t.Fatalf("pinned OIP: %d %s", r.status, r.raw)
			}
			fams := p.waitShadow(t, tc.shadow, 5)
			time.Sleep(200 * time.Millisecond) // a pinned request shadowed by mistake would show by now
			fams = p.scrapeFamilies(t)
			ok := metricWith(fams, "seqcast_shadow_requests_total", map[string]string{"model": "gold", "version": tc.shadow, "outcome": "ok"})
			if ok.GetCounter().GetValue() != 5 {
				t.Errorf("%v shadow requests ok, want 5 (pinned requests are not shadowed)", ok.GetCounter().GetValue())
			}
			h := metricWith(fams, "seqcast_shadow_divergence", map[string]string{"model": "gold", "version": tc.shadow}).GetHistogram()
			if h.GetSampleCount() != uint64(len(primary)) {
				t.Fatalf("divergence count %d, want %d (one per output)", h.GetSampleCount(), len(primary))
			}
			var want float64
			if !tc.zero {
				for _, v := range primary {
					want += 0.5 / math.Abs(v)
				}
			}
			if d := h.GetSampleSum(); math.Abs(d-want) > 1e-4*math.Max(1, want) {
				t.Errorf("divergence sum %v, want %v", d, want)
			}
			if tc.zero && h.GetSampleSum() != 0 {
				t.Errorf("identical shadow: divergence sum %v, want exactly 0", h.GetSampleSum())
			}
		})
	}
}
