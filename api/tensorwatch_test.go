package api

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqcast/seqcast/serving"
)

// Two multi-IO models with the same named tensors in the same order
// (prices (8, 2), weather (5, 3) -> mean (1), quantiles (3)) and different
// weights; twoLSTMDir's outputs come in the other order.
const (
	twoLSTMMeanFirst  = "../parity/testdata/golden/multi_io_two_lstm_k2_0"
	twoLSTMMeanFirst3 = "../parity/testdata/golden/multi_io_two_lstm_k3"
)

// multiIOVersions loads a model "twolstm" with version 1 from dir1 and 2
// from dir2.
func multiIOVersions(t *testing.T, dir1, dir2 string, o serving.ModelOptions) (*serving.Registry, error) {
	t.Helper()
	root := t.TempDir()
	for v, dir := range map[string]string{"1": dir1, "2": dir2} {
		if err := os.CopyFS(filepath.Join(root, "twolstm", v), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	o.DefaultVersion = 1
	reg := serving.NewRegistry(serving.Options{Models: map[string]serving.ModelOptions{"twolstm": o}}, serving.ModelsDir(root))
	return reg, reg.Load(context.Background())
}

// TestTensorRoutesMultiIO: a multi-IO model's :predict and infer requests
// naming no version go to the canary (X-Model-Version, OIP's
// model_version), a path naming one is pinned; the shadow version runs the
// same tensors (divergence per output element), never a pinned request. A
// canary whose outputs come in another order is refused: the requests'
// tensors and asked-for outputs are positions in the default version's.
func TestTensorRoutesMultiIO(t *testing.T) {
	if _, err := multiIOVersions(t, twoLSTMMeanFirst, twoLSTMDir, serving.ModelOptions{Canary: 2, CanaryPercent: 10}); err == nil ||
		!strings.Contains(err.Error(), "a canary must take and give the same shapes") {
		t.Fatalf("a canary with its outputs in another order: %v", err)
	}
	p, ps := readNPYFile(t, filepath.Join(twoLSTMMeanFirst, "input_0.npy"))
	w, wsh := readNPYFile(t, filepath.Join(twoLSTMMeanFirst, "input_1.npy"))
	n := ps[0]
	tf := `{"inputs":` + jsonOf(map[string]any{"prices": nested(p, ps), "weather": nested(w, wsh)}) + `}`
	oip := `{"inputs":[{"name":"prices","shape":` + jsonOf(ps) + `,"datatype":"FP32","data":` + jsonOf(p) +
		`},{"name":"weather","shape":` + jsonOf(wsh) + `,"datatype":"FP32","data":` + jsonOf(w) + `}]}`

	reg, err := multiIOVersions(t, twoLSTMMeanFirst, twoLSTMMeanFirst3, serving.ModelOptions{Canary: 2, CanaryPercent: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, reg, nil)
	for _, tc := range []struct {
		path, body, want string
	}{
		{"/v1/models/twolstm:predict", tf, "2"},
		{"/v1/models/twolstm/versions/1:predict", tf, "1"},
		{"/v2/models/twolstm/infer", oip, "2"},
		{"/v2/models/twolstm/versions/1/infer", oip, "1"},
	} {
		r := ts.do("POST", tc.path, tc.body)
		if r.Code != 200 || r.Header().Get("X-Model-Version") != tc.want {
			t.Errorf("%s: %d, X-Model-Version %q, want %s: %.300s", tc.path, r.Code, r.Header().Get("X-Model-Version"), tc.want, r.Body)
		}
		if v, ok := r.body["model_version"]; ok && v != tc.want {
			t.Errorf("%s: model_version %v, want %s", tc.path, v, tc.want)
		}
	}

	if reg, err = multiIOVersions(t, twoLSTMMeanFirst, twoLSTMMeanFirst3, serving.ModelOptions{Shadow: 2, ShadowRate: 1}); err != nil {
		t.Fatal(err)
	}
	ts = newServer(t, reg, nil)
	for _, path := range []string{"/v1/models/twolstm:predict", "/v1/models/twolstm/versions/1:predict", "/v2/models/twolstm/infer"} {
		body := tf
		if strings.HasPrefix(path, "/v2") {
			body = oip
		}
		if r := ts.do("POST", path, body); r.Code != 200 || r.Header().Get("X-Model-Version") != "1" {
			t.Fatalf("%s: %d %.300s", path, r.Code, r.Body)
		}
	}
	labels := map[string]string{"model": "twolstm", "version": "2", "outcome": "ok"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, _ := sample(ts.families(), "seqcast_shadow_requests_total", labels); v >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a pinned request shadowed by mistake would show by now
	fams := ts.families()
	if v, _ := sample(fams, "seqcast_shadow_requests_total", labels); v != 2 {
		t.Errorf("%v shadow requests ok, want 2 (the pinned one is not shadowed)", v)
	}
	h := series(fams, "seqcast_shadow_divergence", map[string]string{"model": "twolstm", "version": "2"})
	if len(h) != 1 || h[0].GetHistogram().GetSampleCount() != uint64(2*n*(3+1)) || h[0].GetHistogram().GetSampleSum() <= 0 {
		t.Errorf("divergence %v: want %d outputs compared, versions that differ", h, 2*n*4)
	}
}

// TestTensorHash: the canary hash of a tensor route covers every input's
// values and lengths; routeHash is what it was before tensorHash shared its
// code (a changed hash would move clients between versions on an upgrade).
func TestTensorHash(t *testing.T) {
	a := [][]float32{{1, 2, 3}, {4}}
	if tensorHash(a) != tensorHash([][]float32{{1, 2, 3}, {4}}) {
		t.Fatal("not deterministic")
	}
	for _, b := range [][][]float32{{{1, 2, 3}, {5}}, {{1, 2}, {3, 4}}, {{1, 2, 3}}} {
		if tensorHash(b) == tensorHash(a) {
			t.Errorf("%v hashes as %v", b, a)
		}
	}
	if got := routeHash([][]float64{{1900, 1901.5}}); got != 0x86fb662bf987c2c5 {
		t.Errorf("routeHash %#x", got)
	}
}
