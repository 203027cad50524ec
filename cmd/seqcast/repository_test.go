package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seqcast/seqcast/weights"
)

// The model repository cases of issue 11, through the real binary: what a
// models dir is made of (links, Keras files, model.yaml) and how reloads
// treat it (never a mixture, removed models unloaded).

// benchBundle writes the bench gold model to dst (model.json, weights/, no
// manifest) with every weight multiplied by scale, so that scales other
// than 1 give other answers, and a mixture of two scales a third.
func benchBundle(t testing.TB, dst string, scale float32) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	b, err := os.ReadFile(filepath.Join(gold, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	files["model.json"] = b
	ents, err := os.ReadDir(filepath.Join(gold, "weights"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(gold, "weights", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data, shape, err := weights.ReadNPY(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		for i := range data {
			data[i] *= scale
		}
		var out bytes.Buffer
		if err := weights.WriteNPY(&out, data, shape); err != nil {
			t.Fatal(err)
		}
		files["weights/"+e.Name()] = out.Bytes()
	}
	if dst != "" {
		for p, b := range files {
			writeFile(t, filepath.Join(dst, p), b)
		}
	}
	return files
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until the log holds more than n lines containing s, and
// returns how many it holds.
func (p *proc) waitLog(t *testing.T, s string, n int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c := strings.Count(p.log.String(), s); c > n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new %q in the log after 20 s:\n%s", s, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hup sends SIGHUP and waits for the reload it starts to end ("reload
// finished", or "reload failed" when nothing could be scanned).
func (p *proc) hup(t *testing.T) {
	t.Helper()
	done := func() int {
		l := p.log.String()
		return strings.Count(l, `"msg":"reload finished"`) + strings.Count(l, `"msg":"reload failed`)
	}
	n := done()
	mustDo(t, p.cmd.Process.Signal(syscall.SIGHUP))
	deadline := time.Now().Add(20 * time.Second)
	for done() == n {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP: the reload did not end in 20 s:\n%s", p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) price(t *testing.T, model string) (float64, bool) {
	t.Helper()
	r := p.call(t, "POST", "/predict", `{"model":"`+model+`","historical_prices":`+series()+`}`)
	v, ok := r.body["predicted_price"].(float64)
	if r.status != 200 || !ok {
		t.Fatalf("predict %s: %d %s", model, r.status, r.raw)
	}
	return v, r.body["cached"] == true
}

// TestRepositoryConfigMapSwap: a bundle made of links, as a Kubernetes
// ConfigMap mounts it (files -> ..data/FILE, ..data -> ..v1), whose
// ..data link is swapped to a new version: after SIGHUP the answer is the
// new model's, computed (not cached: true from the old model's
// fingerprint).
func TestRepositoryConfigMapSwap(t *testing.T) {
	root := t.TempDir()
	v := filepath.Join(root, "gold", "1")
	benchBundle(t, filepath.Join(v, "..v1"), 1)
	benchBundle(t, filepath.Join(root, "ref", "1"), 0.97) // what the new model answers
	mustDo(t, os.Symlink("..v1", filepath.Join(v, "..data")))
	for _, f := range []string{"model.json", "weights"} {
		mustDo(t, os.Symlink(filepath.Join("..data", f), filepath.Join(v, f)))
	}
	p := startBinary(t, nil, "--models-dir", root)
	old, _ := p.price(t, "gold")
	if again, cached := p.price(t, "gold"); again != old || !cached {
		t.Fatalf("second ask: %v cached %v, want %v from the cache", again, cached, old)
	}
	want, _ := p.price(t, "ref")
	if want == old {
		t.Fatal("the two models answer alike")
	}

	benchBundle(t, filepath.Join(v, "..v2"), 0.97)
	mustDo(t, os.Symlink("..v2", filepath.Join(v, "..data_tmp")))
	mustDo(t, os.Rename(filepath.Join(v, "..data_tmp"), filepath.Join(v, "..data")))
	p.hup(t)
	got, cached := p.price(t, "gold")
	if got != want || cached {
		t.Fatalf("after the swap and SIGHUP: %v (cached %v), want the new model's %v computed; the old one answered %v", got, cached, want, old)
	}
}

// TestRepositorySlowRewrite: another model's files are copied slowly, file
// by file, over a version without a manifest, again and again (with a pause
// after each copy, when a reload may take the whole new model), while
// SIGHUP arrives every 50 ms and /predict is asked continuously. Every
// answer is one of the two models' (computed first), never a mixture's.
func TestRepositorySlowRewrite(t *testing.T) {
	root := t.TempDir()
	v := filepath.Join(root, "gold", "1")
	a := benchBundle(t, v, 1)
	b := benchBundle(t, filepath.Join(root, "ref", "1"), 0.97)
	p := startBinary(t, nil, "--models-dir", root, "--cache-ttl", "0")
	wantA, _ := p.price(t, "gold")
	wantB, _ := p.price(t, "ref")
	if wantA == wantB {
		t.Fatal("the two models answer alike")
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var copies atomic.Int64
	wg.Add(3)
	go func() { // the slow writer: B over A, then A over B, ...
		defer wg.Done()
		src := []map[string][]byte{b, a}
		for i := 0; ctx.Err() == nil; i++ {
			for name, data := range src[i%2] {
				f, err := os.OpenFile(filepath.Join(v, name), os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Error(err)
					return
				}
				half := len(data) / 2
				f.Write(data[:half])
				time.Sleep(5 * time.Millisecond)
				f.Write(data[half:])
				f.Close()
				time.Sleep(15 * time.Millisecond)
			}
			copies.Add(1)
			// A pause, long enough for a reload to read the model whole.
			select {
			case <-ctx.Done():
			case <-time.After(900 * time.Millisecond):
			}
		}
	}()
	go func() { // SIGHUP every 50 ms
		defer wg.Done()
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				_ = p.cmd.Process.Signal(syscall.SIGHUP)
			}
		}
	}()
	seen := map[float64]int{}
	var mu sync.Mutex
	go func() { // /predict, continuously
		defer wg.Done()
		for ctx.Err() == nil {
			r := p.call(t, "POST", "/predict", `{"model":"gold","historical_prices":`+series()+`}`)
			price, _ := r.body["predicted_price"].(float64)
			mu.Lock()
			if r.status != 200 {
				t.Errorf("predict during the rewrite: %d %s", r.status, r.raw)
			} else {
				seen[price]++
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	time.Sleep(6 * time.Second)
	cancel()
	wg.Wait()

	l := p.log.String()
	loaded := map[string]bool{}
	for _, line := range strings.Split(l, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "model loaded" && m["model"] == "gold" {
			loaded[m["fingerprint"].(string)] = true
		}
	}
	t.Logf("%d copies; answers %v (A %v, B %v); %d reloads accepted, %d refused as changed, %d failed otherwise; %d distinct fingerprints loaded",
		copies.Load(), seen, wantA, wantB, strings.Count(l, `"msg":"model reloaded","model":"gold"`),
		strings.Count(l, "its files changed while they were read"), strings.Count(l, "model reload failed"), len(loaded))
	for price, n := range seen {
		if price != wantA && price != wantB {
			t.Errorf("%d answers of %v: neither model's (%v, %v): a mixture was served", n, price, wantA, wantB)
		}
	}
	if len(loaded) > 2 {
		t.Errorf("%d distinct fingerprints loaded for gold, want at most 2 (A and B)", len(loaded))
	}
	if copies.Load() < 3 || seen[wantA] == 0 || seen[wantB] == 0 {
		t.Errorf("%d copies in 6 s; answers %v: want both models served between the copies", copies.Load(), seen)
	}
}

// TestRepositoryLinksRemovalNames: symlinked model and version folders are
// served; folders with a non-UTF-8 or otherwise invalid name and version
// folders 01, +3 and 0 are refused with a log line naming them while the
// rest is served and /metrics works; a model and a version removed from the
// dir are unloaded on SIGHUP (logged; 404 naming the model; state END).
func TestRepositoryLinksRemovalNames(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	benchBundle(t, filepath.Join(root, "gold", "1"), 1)
	benchBundle(t, filepath.Join(elsewhere, "v2"), 0.97)
	mustDo(t, os.Symlink(filepath.Join(elsewhere, "v2"), filepath.Join(root, "gold", "2")))
	benchBundle(t, filepath.Join(elsewhere, "model", ".real3"), 1)
	mustDo(t, os.Symlink(".real3", filepath.Join(elsewhere, "model", "3")))
	mustDo(t, os.Symlink(filepath.Join(elsewhere, "model"), filepath.Join(root, "linked")))
	for _, d := range []string{"gold/01", "gold/+3", "gold/0", "bad\xffname/1", "has space/1"} {
		benchBundle(t, filepath.Join(root, d), 1)
	}
	benchBundle(t, filepath.Join(root, "other", "1"), 1)

	p := startBinary(t, nil, "--models-dir", root)
	l := p.log.String()
	for _, want := range []string{
		`"msg":"models dir: version folder refused","folder":"\"` + filepath.Join(root, "gold", "01") + `\""`,
		`"msg":"models dir: version folder refused","folder":"\"` + filepath.Join(root, "gold", "+3") + `\""`,
		`"msg":"models dir: version folder refused","folder":"\"` + filepath.Join(root, "gold", "0") + `\""`,
		`"msg":"models dir: model folder refused","folder":"\"` + filepath.Join(root, `bad\\xffname`) + `\""`,
		`"msg":"models dir: model folder refused","folder":"\"` + filepath.Join(root, "has space") + `\""`,
	} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if info := p.scrapeFamilies(t)["seqcast_model_info"]; len(info.GetMetric()) == 0 {
		t.Errorf("/metrics: no seqcast_model_info series")
	}
	gold2, _ := p.price(t, "gold") // the linked version 2 is the default
	if r := p.call(t, "POST", "/predict?model=linked", `{"historical_prices":`+series()+`}`); r.status != 200 || r.body["model_version"] != 3.0 {
		t.Errorf("linked model folder: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "POST", "/predict?model=gold&model_version=1", `{"historical_prices":`+series()+`}`); r.status != 200 || r.body["predicted_price"] == gold2 {
		t.Errorf("gold version 1: %d %s (version 2 answers %v)", r.status, r.raw, gold2)
	}
	if h := p.call(t, "GET", "/health", ""); !strings.Contains(h.raw, `{"name":"gold","version":2,"versions":[1,2]`) ||
		!strings.Contains(h.raw, `{"name":"linked","version":3,"versions":[3]`) || !strings.Contains(h.raw, `{"name":"other","version":1`) {
		t.Errorf("health: %s", h.raw)
	}

	// Remove a model and a version; SIGHUP.
	mustDo(t, os.RemoveAll(filepath.Join(root, "other")))
	mustDo(t, os.Remove(filepath.Join(root, "gold", "2")))
	p.hup(t)
	l = p.log.String()
	for _, want := range []string{
		`"msg":"model unloaded: its source no longer offers it; requests in flight finish on it","model":"other"`,
		`"msg":"model version unloaded: its folder is no longer offered; requests in flight finish on it","model":"gold","version":2`,
	} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if r := p.call(t, "POST", "/predict?model=other", `{"historical_prices":`+series()+`}`); r.status != 404 || r.errField("field") != "model" {
		t.Errorf("removed model: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "POST", "/predict?model=gold&model_version=2", `{"historical_prices":`+series()+`}`); r.status != 404 || r.errField("field") != "model_version" {
		t.Errorf("removed version: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "GET", "/v1/models/other", ""); r.status != 200 || !strings.Contains(r.raw, `"model_version_status":[{"state":"END","status":{"error_code":"OK","error_message":""},"version":"1"}]`) {
		t.Errorf("status of the removed model: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "GET", "/v1/models/gold", ""); r.status != 200 ||
		!strings.Contains(r.raw, `[{"version":"2","state":"END"`) || !strings.Contains(r.raw, `{"version":"1","state":"AVAILABLE"`) {
		t.Errorf("status of gold: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "GET", "/v1/models/gold/versions/2", ""); r.status != 200 || !strings.Contains(r.raw, `"state":"END"`) {
		t.Errorf("status of gold version 2: %d %s", r.status, r.raw)
	}
	if r := p.call(t, "GET", "/v1/models/nothing", ""); r.status != 404 {
		t.Errorf("status of a model never served: %d %s", r.status, r.raw)
	}
	if h := p.call(t, "GET", "/health", ""); strings.Contains(h.raw, `"other"`) || !strings.Contains(h.raw, `{"name":"gold","version":1,"versions":[1]`) {
		t.Errorf("health after the removal: %s\n%s", h.raw, p.log)
	}
	if r := p.call(t, "GET", "/metrics", ""); r.status != 200 {
		t.Errorf("/metrics after the removal: %d", r.status)
	}
}

// airWindows reads the air-quality fixture's raw windows and what Keras
// printed for them.
func airWindows(t *testing.T) ([]string, []float64) {
	t.Helper()
	raw, _ := readNPY64(t, filepath.Join(aqDir, "x_printed_raw.npy"))
	want, _ := readNPY64(t, filepath.Join(aqDir, "keras_printed_predictions.npy"))
	const T, F = 24, 7
	var out []string
	for i := range want {
		rows := make([][]float64, T)
		for r := range T {
			rows[r] = raw[(i*T+r)*F : (i*T+r+1)*F]
		}
		b, _ := json.Marshal(rows)
		out = append(out, string(b))
	}
	return out, want
}

// checkAir asks model for the printed windows and compares with Keras.
func (p *proc) checkAir(t *testing.T, model string) {
	t.Helper()
	windows, want := airWindows(t)
	for i, w := range windows {
		r := p.call(t, "POST", "/predict", `{"model":"`+model+`","window":`+w+`}`)
		got, _ := r.body["predicted_price"].(float64)
		if r.status != 200 || math.Abs(got-want[i]) > 1e-6*math.Abs(want[i]) {
			t.Errorf("%s window %d: %d %s, Keras printed %v", model, i, r.status, r.raw, want[i])
		}
	}
}

// TestServeKerasFile: serve --model FILE.keras with --scaler-x/--scaler-y
// answers what Keras printed on raw sensor windows; SIGHUP reads the file
// again; a models dir NAME/1/model.keras with NAME/model.yaml does the
// same; preprocessing flags that would be ignored are refused.
func TestServeKerasFile(t *testing.T) {
	keras := filepath.Join(aqDir, "cnn_bilstm_model.keras")
	sx, sy := filepath.Join(aqDir, "scaler_X.pkl"), filepath.Join(aqDir, "scaler_y.pkl")
	p := startBinary(t, nil, "--model", keras, "--scaler-x", sx, "--scaler-y", sy)
	if !strings.Contains(p.log.String(), `"model":"cnn_bilstm_model","version":1,"origin":"`+keras+`","kind":"keras"`) {
		t.Errorf("load line:\n%s", p.log)
	}
	p.checkAir(t, "cnn_bilstm_model")
	p.hup(t)
	p.checkAir(t, "cnn_bilstm_model")

	root := t.TempDir()
	for src, dst := range map[string]string{keras: "air/1/model.keras", sx: "air/scalers/x.pkl", sy: "air/1/y.pkl"} {
		b, err := os.ReadFile(src)
		mustDo(t, err)
		writeFile(t, filepath.Join(root, dst), b)
	}
	writeFile(t, filepath.Join(root, "air", "model.yaml"), []byte("# preprocessing for air's Keras files\nkeras:\n  scaler_x: ../scalers/x.pkl\n  scaler_y: y.pkl\n"))
	d := startBinary(t, nil, "--models-dir", root)
	d.checkAir(t, "air")

	for _, args := range [][]string{
		{"--scaler-x", sx},
		{"--model", gold, "--scaler-x", sx},
		{"--model", keras, "--window-zscore", "--scaler-x", sx},
		{"--model", keras, "--epsilon", "1e-6"},
	} {
		e := launchBinary(t, nil, args...)
		if code := e.exitCode(t); code != 2 {
			t.Errorf("%v: exit %d:\n%s", args, code, e.log)
		}
	}
	bad := launchBinary(t, nil, "--model", keras, "--model-name", "air quality")
	if code := bad.exitCode(t); code != 1 || !strings.Contains(bad.log.String(), `character \" \" is not allowed`) {
		t.Errorf("a model name with a space: exit %d:\n%s", code, bad.log)
	}
	e := launchBinary(t, []string{"SEQCAST_SCALER_X=" + sx}, "--models-dir", root)
	if code := e.exitCode(t); code != 2 || !strings.Contains(e.log.String(), "--scaler-x apply to --model FILE.h5|FILE.keras only") {
		t.Errorf("env scaler with --models-dir: exit %d:\n%s", code, e.log)
	}
}
