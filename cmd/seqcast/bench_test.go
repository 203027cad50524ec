package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchJSON runs short benches on the gold bundle and checks the JSON
// object's keys and that its figures are sane (not that they are fast).
func TestBenchJSON(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		batch   int
		threads int
	}{
		{"batch 1", []string{"--model", gold}, 1, 1},
		{"batch 3 threads 2", []string{"--model", gold, "--batch", "3", "--threads", "2"}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "--duration", "200ms", "--warmup", "50ms", "--json"}, tt.args...)
			code, stdout, stderr := runCmd(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
				t.Errorf("want one line of JSON, got %q", stdout)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v: %q", err, stdout)
			}
			for _, k := range []string{"batch", "threads", "p50_us", "p90_us", "p99_us", "samples_per_s", "allocs_per_op", "max_abs_err"} {
				if _, ok := got[k].(float64); !ok {
					t.Errorf("key %q: %v (%T), want a number", k, got[k], got[k])
				}
			}
			num := func(k string) float64 { f, _ := got[k].(float64); return f }
			if got["engine"] != "seqcast" || got["input"] != "input.npy" {
				t.Errorf("engine %v, input %v", got["engine"], got["input"])
			}
			if num("batch") != float64(tt.batch) || num("threads") != float64(tt.threads) {
				t.Errorf("batch %v threads %v, want %d and %d", got["batch"], got["threads"], tt.batch, tt.threads)
			}
			if p50, p90, p99 := num("p50_us"), num("p90_us"), num("p99_us"); !(p50 > 0 && p50 <= p90 && p90 <= p99) {
				t.Errorf("percentiles p50 %v p90 %v p99 %v: want 0 < p50 <= p90 <= p99", p50, p90, p99)
			}
			if calls := num("calls"); calls < float64(10*tt.threads) {
				t.Errorf("calls %v, want at least 10 per goroutine", calls)
			}
			// At least calls*batch samples in the 200 ms loop (plus overrun of one call).
			if s := num("samples_per_s"); s <= 0 || s > num("calls")*float64(tt.batch)/0.2 {
				t.Errorf("samples_per_s %v for %v calls of %d in about 200ms", s, got["calls"], tt.batch)
			}
			if a := num("allocs_per_op"); a < 0 || a > 100 {
				t.Errorf("allocs_per_op %v", a)
			}
			if e := num("max_abs_err"); e < 0 || e > 1e-4 {
				t.Errorf("max_abs_err %v vs expected.npy", e)
			}
		})
	}
}

// TestBenchRandomInput benches a bundle without input.npy: random inputs,
// no max_abs_err; and checks the human-readable report.
func TestBenchRandomInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(gold)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "input.npy"))
	code, stdout, stderr := runCmd("bench", "--model", dir, "--batch", "2", "--duration", "100ms", "--warmup", "0s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"input random", "batch 2, 1 goroutine(s)", "p50 ", "p99 ", "samples/s ", "allocs/call "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "max |err|") {
		t.Errorf("report without input.npy shows an error vs expected.npy:\n%s", stdout)
	}
}

func TestBenchErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no model", nil, 2, "--model is required"},
		{"zero batch", []string{"--model", gold, "--batch", "0"}, 2, "--batch must be positive, got 0"},
		{"zero threads", []string{"--model", gold, "--threads", "0"}, 2, "--threads must be positive, got 0"},
		{"zero duration", []string{"--model", gold, "--duration", "0s"}, 2, "--duration must be positive"},
		{"negative warmup", []string{"--model", gold, "--warmup", "-1s"}, 2, "--warmup must not be negative"},
		{"bad duration", []string{"--model", gold, "--duration", "5"}, 2, "invalid value"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"--model", gold, "more"}, 2, `unexpected argument "more"`},
		{"no bundle", []string{"--model", dir, "--duration", "10ms"}, 1, "model.json is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(append([]string{"bench"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and %q", code, stderr, stdout, tt.code, tt.want)
			}
			if tt.code == 2 && !strings.Contains(stderr, "Usage: seqcast bench") {
				t.Errorf("usage error without usage: %q", stderr)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for v := range 10 {
		lat = append(lat, time.Duration(v+1)*time.Microsecond)
	}
	tests := []struct {
		p    float64
		want float64
	}{{0.5, 5}, {0.9, 9}, {0.99, 10}, {0.01, 1}, {0, 1}, {1, 10}}
	for _, tt := range tests {
		if got := percentile(lat, tt.p); got != tt.want {
			t.Errorf("percentile(1..10 us, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestBenchLayers checks the per-layer breakdown: one entry per node, in
// order, with shares summing to one.
func TestBenchLayers(t *testing.T) {
	code, stdout, stderr := runCmd("bench", "--model", gold, "--duration", "100ms", "--warmup", "0s", "--layers", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Layers []struct {
			Name, Class, Shape string
			P50                float64 `json:"p50_us"`
			Share              float64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	var names []string
	sum := 0.0
	for _, l := range got.Layers {
		names = append(names, l.Name+" "+l.Class+" "+l.Shape)
		if l.P50 < 0 || l.Share < 0 || l.Share > 1 {
			t.Errorf("layer %s: p50 %v us, share %v", l.Name, l.P50, l.Share)
		}
		sum += l.Share
	}
	want := []string{"conv1d Conv1D (None, 58, 64)", "max_pooling1d MaxPooling1D (None, 29, 64)",
		"bidirectional Bidirectional (None, 29, 128)", "bidirectional_1 Bidirectional (None, 64)",
		"dropout Dropout (None, 64)", "dense Dense (None, 16)", "dense_1 Dense (None, 1)"}
	if strings.Join(names, "; ") != strings.Join(want, "; ") {
		t.Errorf("layers\n%q\nwant\n%q", names, want)
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("shares sum to %v", sum)
	}
}
