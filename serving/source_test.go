package serving

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqcast/seqcast/bundle"
)

// airQuality is a real Keras 3 .keras file with its scaler pickles.
const airQuality = "../parity/testdata/fixtures/airquality-cnn-bilstm"

// syncLog is a goroutine-safe log buffer.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func newLog() (*slog.Logger, *syncLog) {
	l := &syncLog{}
	return slog.New(slog.NewJSONHandler(l, nil)), l
}

func write(t testing.TB, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckNames(t *testing.T) {
	for _, ok := range []string{"gold", "a", "Gold-2.v1_x", strings.Repeat("a", 128)} {
		if err := CheckModelName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".gold", "go ld", "gold\xff", "gölد", "a/b", strings.Repeat("a", 129), "x:y"} {
		if err := CheckModelName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for s, want := range map[string]int64{"1": 1, "20": 20, "9223372036854775807": 1<<63 - 1} {
		if v, err := ParseVersionDir(s); err != nil || v != want {
			t.Errorf("%q: %d %v", s, v, err)
		}
	}
	for _, bad := range []string{"", "0", "01", "+3", "-1", "1.0", "1e3", " 1", "9223372036854775808", "v1"} {
		if _, err := ParseVersionDir(bad); err == nil {
			t.Errorf("version folder %q accepted", bad)
		}
	}
}

// TestModelsDirScan: symlinked NAME and VERSION folders are followed;
// invalid names and non-canonical versions are refused with a log line
// naming the folder; the rest is served.
func TestModelsDirScan(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	copyDir(t, benchGold, filepath.Join(root, "gold", "1"), nil)
	copyDir(t, benchGold, filepath.Join(elsewhere, "v2"), nil)
	copyDir(t, benchGold, filepath.Join(elsewhere, "model"), nil)
	for _, v := range []string{"01", "+3", "0"} {
		copyDir(t, benchGold, filepath.Join(root, "gold", v), nil)
	}
	must(t, os.Symlink(filepath.Join(elsewhere, "v2"), filepath.Join(root, "gold", "2")))
	must(t, os.MkdirAll(filepath.Join(elsewhere, "linked"), 0o755))
	must(t, os.Symlink(filepath.Join(elsewhere, "model"), filepath.Join(elsewhere, "linked", "7")))
	must(t, os.Symlink(filepath.Join(elsewhere, "linked"), filepath.Join(root, "linked")))
	copyDir(t, benchGold, filepath.Join(root, "bad\xffname", "1"), nil)
	copyDir(t, benchGold, filepath.Join(root, "has space", "1"), nil)
	copyDir(t, benchGold, filepath.Join(root, ".hidden", "1"), nil)
	must(t, os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	write(t, filepath.Join(root, "README.txt"), "not a model")
	must(t, os.Symlink(filepath.Join(elsewhere, "nowhere"), filepath.Join(root, "dangling")))

	log, buf := newLog()
	found, err := ModelsDir(root).Scan(log)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.Name+"/"+itoa(f.Version))
	}
	if strings.Join(got, " ") != "gold/1 gold/2 linked/7" {
		t.Errorf("found %v", got)
	}
	for _, want := range []string{
		`"msg":"models dir: version folder refused","folder":"\"` + filepath.Join(root, "gold", "01"),
		`"msg":"models dir: version folder refused","folder":"\"` + filepath.Join(root, "gold", "+3"),
		`"msg":"models dir: version folder refused","folder":"\"` + filepath.Join(root, "gold", "0"),
		`"msg":"models dir: model folder refused","folder":"\"` + filepath.Join(root, `bad\\xffname`),
		`is not valid UTF-8`,
		`"msg":"models dir: model folder refused","folder":"\"` + filepath.Join(root, "has space"),
		`"msg":"models dir: model folder has no version folder; not served","folder":"\"` + filepath.Join(root, "empty"),
		`"folder":"\"` + filepath.Join(root, "dangling"),
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s\n%s", want, buf)
		}
	}
	if strings.Contains(buf.String(), ".hidden") || strings.Contains(buf.String(), "README") {
		t.Errorf("dot-entries and files are skipped silently:\n%s", buf)
	}

	// Nothing valid at all: an error saying how many were refused.
	bad := t.TempDir()
	copyDir(t, benchGold, filepath.Join(bad, "gold", "01"), nil)
	if _, err := ModelsDir(bad).Scan(nil); err == nil || !strings.Contains(err.Error(), "no NAME/VERSION/ folders") {
		t.Errorf("empty dir: %v", err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseModelConfig(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"version_labels: {stable: 1, canary: 2}\ndefault_version: stable\n", ""},
		{`{"version_labels": {"stable": 1}, "default_version": 1, "keras": {"scaler_x": "x.pkl"}}`, ""},
		{"keras:\n  window_zscore: true\n  epsilon: 1e-6\n  target_feature: 2\n", ""},
		{"version_label: {stable: 1}\n", `unknown field "version_label"`},
		{"keras:\n  scaler: x.pkl\n", `unknown field "scaler"`},
		{"keras:\n  window_zscore: true\n  scaler_x: x.pkl\n", "exclusive"},
		{"keras:\n  epsilon: 1e-6\n", "need window_zscore"},
		{"keras:\n  window: -1\n", "window -1"},
		{"version_labels: {stable: 1}\nversion_labels: {canary: 1}\n", `mapping key "version_labels" already defined`},
		{"version_labels: {stable: x}\n", "cannot unmarshal string"},
		{"default_version: [1]\n", "DefaultVersion of type string"},
		{"a: &a [1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n", `unknown field "`}, // which of a, b, c the decoder names first varies
		{"default_version: &a x\nversion_labels: *a\n", "where mapping is expected"},
	} {
		_, err := ParseModelConfig([]byte(tc.in))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"default_version: 2\n", "{map[] 2 }"},
		{"default_version: \"3\"\n", "{map[] 3 }"},
		{"version_labels: {stable: 1}\ndefault_version: stable\n", "{map[stable:1] 0 stable}"},
		{"default_version: 0\n", "want a positive integer"},
		{"default_version: beta\n", `default version label "beta" is not one of its labels`},
		{"version_labels: {\"1x\": 1}\n", "want a letter first"},
		{"default_version: -2\n", "want a positive integer"},
		{"default_version: 1.5\n", "want a positive integer"},
	} {
		c, err := ParseModelConfig([]byte(tc.in))
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		o, err := c.modelOptions("m")
		got := sprint(o)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%q: %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestMergeOptions(t *testing.T) {
	flags := ModelOptions{Labels: map[string]int64{"stable": 1}}
	file := &ModelOptions{DefaultVersion: 2}
	got, err := mergeOptions("m", flags, true, file, "m/model.yaml")
	if err != nil || got.DefaultVersion != 2 || got.Labels["stable"] != 1 {
		t.Errorf("disjoint settings: %v %v", got, err)
	}
	_, err = mergeOptions("m", flags, true, &ModelOptions{Labels: map[string]int64{"canary": 2}}, "m/model.yaml")
	if err == nil || !strings.Contains(err.Error(), "version labels set both by flags") || !strings.Contains(err.Error(), "m/model.yaml") {
		t.Errorf("conflict: %v", err)
	}
	_, err = mergeOptions("m", ModelOptions{DefaultVersion: 1}, true, &ModelOptions{DefaultLabel: "x", Labels: map[string]int64{"x": 1}}, "m/model.yaml")
	if err == nil || !strings.Contains(err.Error(), "the default version set both") {
		t.Errorf("default conflict: %v", err)
	}
	if got, err := mergeOptions("m", ModelOptions{}, false, nil, ""); err != nil || got.Labels != nil {
		t.Errorf("nothing: %v %v", got, err)
	}
}

func sprint(o ModelOptions) string {
	var b strings.Builder
	b.WriteString("{map[")
	first := true
	for _, k := range sortedKeys(o.Labels) {
		if !first {
			b.WriteString(" ")
		}
		first = false
		b.WriteString(k + ":" + itoa(o.Labels[k]))
	}
	b.WriteString("] " + itoa(o.DefaultVersion) + " " + o.DefaultLabel + "}")
	return b.String()
}

// TestKerasVersionFolder: a version folder holding one .keras file and its
// scaler pickles, configured by NAME/model.yaml, is served with the
// preprocessing; two Keras files in one folder are refused naming them.
func TestKerasVersionFolder(t *testing.T) {
	root, v1 := airKerasFolder(t)
	reg := NewRegistry(Options{}, ModelsDir(root))
	must(t, reg.Load(context.Background()))
	m, err := reg.Get("air", 0)
	must(t, err)
	if m.Window() != 24 || m.Features() != 7 || !strings.HasSuffix(m.Origin(), "cnn_bilstm_model.keras") {
		t.Errorf("window %d features %d origin %s", m.Window(), m.Features(), m.Origin())
	}
	if _, ok := m.pipe.(scalerPipeline); !ok {
		t.Errorf("no scaler pipeline: %T", m.pipe)
	}

	// A model.yaml with an unknown key fails the model, naming the key.
	write(t, filepath.Join(root, "air", "model.yaml"), "keras:\n  scalerx: scaler_X.pkl\n")
	err = reg.Reload(context.Background(), "")
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `unknown field "scalerx"`) || !strings.Contains(err.Error(), "model.yaml") {
		t.Errorf("unknown key: %v", err)
	}
	if m2, _ := reg.Get("air", 0); m2 != m {
		t.Error("a failed reload replaced the model")
	}
	must(t, os.Remove(filepath.Join(root, "air", "model.yaml")))
	b, err := os.ReadFile(filepath.Join(v1, "cnn_bilstm_model.keras"))
	must(t, err)
	write(t, filepath.Join(v1, "other.h5"), string(b))
	err = reg.Reload(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "holds 2 Keras files (cnn_bilstm_model.keras, other.h5)") {
		t.Errorf("two Keras files: %v", err)
	}
}

// TestReloadUnloads: a model removed from the models dir is unloaded on
// reload (logged; Status says END), a removed version too; a model put
// back is served again; requests holding the old model still finish, and
// no goroutine of the removed models' batch queues stays behind.
func TestReloadUnloads(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"gold/1", "gold/2", "other/1"} {
		copyDir(t, benchGold, filepath.Join(root, p), nil)
	}
	log, buf := newLog()
	reg := NewRegistry(Options{Logger: log, Batch: BatchOptions{Enabled: true, Window: time.Millisecond, MaxBatch: 8}}, ModelsDir(root))
	ctx := context.Background()
	must(t, reg.Load(ctx))
	other, err := reg.Get("other", 0)
	must(t, err)
	x := make([]float32, other.Window())
	// Exercise the batch queue so its collector runs.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = other.Raw(ctx, x, 1) }()
	}
	wg.Wait()
	base := runtime.NumGoroutine()

	must(t, os.RemoveAll(filepath.Join(root, "other")))
	must(t, os.RemoveAll(filepath.Join(root, "gold", "2")))
	must(t, reg.Reload(ctx, ""))
	var nf *NotFoundError
	if _, err := reg.Get("other", 0); !errors.As(err, &nf) || nf.Model != "other" {
		t.Errorf("removed model: %v", err)
	}
	if _, err := reg.Get("gold", 2); !errors.As(err, &nf) || nf.Version != 2 {
		t.Errorf("removed version: %v", err)
	}
	if _, err := other.Raw(ctx, x, 1); err != nil { // a request that held it
		t.Errorf("in-flight request on the removed model: %v", err)
	}
	st, err := reg.Status("other")
	if err != nil || len(st.Versions) != 1 || st.Versions[0].State != StateEnd || st.DefaultVer != 0 {
		t.Errorf("status of the removed model: %+v %v", st, err)
	}
	st, _ = reg.Status("gold")
	if len(st.Versions) != 2 || st.Versions[0] != (VersionStatus{Version: 2, State: StateEnd}) || st.Versions[1].State != StateAvailable {
		t.Errorf("status of gold: %+v", st.Versions)
	}
	for _, want := range []string{`"msg":"model unloaded: its source no longer offers it; requests in flight finish on it","model":"other"`,
		`"msg":"model version unloaded: its folder is no longer offered; requests in flight finish on it","model":"gold","version":2`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if names := reg.Names(); len(names) != 1 || names[0] != "gold" {
		t.Errorf("names %v", names)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after the unload, %d before", n, base)
	}

	// Put back: served again, no longer END.
	copyDir(t, benchGold, filepath.Join(root, "other", "1"), nil)
	must(t, reg.Reload(ctx, ""))
	st, err = reg.Status("other")
	if err != nil || len(st.Versions) != 1 || st.Versions[0].State != StateAvailable {
		t.Errorf("status after putting back: %+v %v", st, err)
	}

	// Everything gone (an unmounted volume): the reload is refused and
	// nothing is unloaded.
	must(t, os.RemoveAll(filepath.Join(root, "gold")))
	must(t, os.RemoveAll(filepath.Join(root, "other")))
	if err := reg.Reload(ctx, ""); err == nil {
		t.Error("a reload finding nothing succeeded")
	}
	if len(reg.Names()) != 2 {
		t.Errorf("names after an empty scan: %v", reg.Names())
	}
}

// TestKerasFileChanged: a Keras file modified while (or just before) it is
// read is refused with an error wrapping bundle.ErrChanged.
func TestKerasFileChanged(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.keras")
	b, err := os.ReadFile(filepath.Join(airQuality, "cnn_bilstm_model.keras"))
	must(t, err)
	write(t, p, string(b))
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		write(t, p, string(b)) // same bytes, a new write
	}()
	_, err = KerasFile("m", 0, p, bundle.KerasOptions{}).Scan(nil)
	must(t, err)
	_, err = readKeras(p, bundle.KerasOptions{}, 300*time.Millisecond)
	<-done
	if !errChanged(err) {
		t.Errorf("rewritten during the read: %v", err)
	}
	time.Sleep(10 * time.Millisecond)
	if _, err := readKeras(p, bundle.KerasOptions{}, 50*time.Millisecond); err != nil {
		t.Errorf("settled: %v", err)
	}
}

// FuzzParseModelConfig: any bytes give a config or an error, never a panic;
// a config that parses gives options or an error too.
func FuzzParseModelConfig(f *testing.F) {
	for _, s := range []string{"", "version_labels: {stable: 1}\ndefault_version: stable\n",
		`{"keras": {"scaler_x": "x.pkl", "window": 24}}`, "keras:\n  window_zscore: true\n  epsilon: 1e-8\n",
		"a: &a [1, 1]\nb: [*a, *a]\n", "default_version: &a x\nversion_labels: *a\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > MaxModelConfigSize {
			return
		}
		c, err := ParseModelConfig(b)
		if err == nil {
			_, _ = c.modelOptions("m")
			_ = c.Keras.options("/v")
		}
	})
}
