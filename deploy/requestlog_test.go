package deploy

import (
	"bufio"
	bin64 "encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"testing"
)

// requestLogLines returns the "prediction" log lines a server wrote.
func requestLogLines(t *testing.T, s *server) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "prediction" {
			out = append(out, rec)
		}
	}
	return out
}

// fnvHash is docs/api.md's input hash: FNV-1a 64 of the float64 bits.
func fnvHash(w []float64) string {
	h := fnv.New64a()
	for _, v := range w {
		h.Write(bin64.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// TestRequestLog runs the real binary with --request-log-rate 1 (every
// answered /predict logs one "prediction" line with the documented fields,
// values only with --request-log-values) and with the default rate 0 (none).
func TestRequestLog(t *testing.T) {
	bin := needBinary(t)
	const n = 4
	windows := make([][]float64, n)
	for i := range windows {
		windows[i] = goldWindow(1800, i)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		env    []string
		lines  int
		values bool
	}{
		{"rate 1", []string{"--request-log-rate", "1"}, nil, n + 2, false},
		{"rate 1 with values (env)", nil, []string{"SEQCAST_REQUEST_LOG_RATE=1", "SEQCAST_REQUEST_LOG_VALUES=true"}, n + 2, true},
		{"rate 0 (default)", nil, nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, serveOptions{name: "seqcast", path: bin, args: tc.args, env: tc.env})
			ids := map[string]bool{}
			for _, w := range windows {
				s.predict(t, w)
			}
			again := s.predict(t, windows[0]) // cached this time
			if !again.Cached {
				t.Fatalf("second identical request not cached")
			}
			neg := slices.Clone(windows[1])
			for i := range neg {
				neg[i] = -neg[i] // out of the training range: warned
			}
			s.predict(t, neg)
			s.stopGracefully(t)
			lines := requestLogLines(t, s)
			if len(lines) != tc.lines {
				t.Fatalf("%d prediction log lines, want %d\n%s", len(lines), tc.lines, s.logs)
			}
			if len(lines) == n+2 {
				negLine := lines[n+1]
				lines = lines[:n+1]
				in, _ := negLine["input"].(map[string]any)
				warns, _ := negLine["warnings"].([]any)
				if in["max"] != slices.Max(neg) || len(warns) == 0 {
					t.Errorf("out-of-range window: input %v, warnings %v: want its warnings", in, negLine["warnings"])
				} else {
					b, _ := json.Marshal(warns)
					t.Logf("out-of-range window's warnings: %s", b)
				}
			}
			for i, rec := range lines {
				w := windows[i%n]
				id, _ := rec["request_id"].(string)
				if id == "" || ids[id] {
					t.Errorf("line %d: request_id %q missing or repeated", i, id)
				}
				ids[id] = true
				if rec["model"] != "gold" || rec["model_version"] == nil || rec["level"] != "INFO" {
					t.Errorf("line %d: model/model_version/level: %v", i, rec)
				}
				in, _ := rec["input"].(map[string]any)
				if in["length"] != float64(len(w)) || in["min"] != slices.Min(w) || in["max"] != slices.Max(w) || in["hash"] != fnvHash(w) {
					t.Errorf("line %d: input %v, want length %d min %v max %v hash %s", i, in, len(w), slices.Min(w), slices.Max(w), fnvHash(w))
				}
				vals, has := in["values"].([]any)
				if has != tc.values || (has && (len(vals) != len(w) || vals[0] != w[0])) {
					t.Errorf("line %d: values present %v, want %v: %v", i, has, tc.values, in["values"])
				}
				if p, ok := rec["prediction"].(float64); !ok || math.Abs(p-w[len(w)-1]) > 0.15*w[len(w)-1] {
					t.Errorf("line %d: prediction %v", i, rec["prediction"])
				}
				iv, _ := rec["interval"].(map[string]any)
				lo, ok1 := iv["lower"].(float64)
				hi, ok2 := iv["upper"].(float64)
				if !ok1 || !ok2 || lo > hi {
					t.Errorf("line %d: interval %v", i, rec["interval"])
				}
				if _, ok := rec["warnings"].([]any); !ok {
					t.Errorf("line %d: warnings %v, want an array", i, rec["warnings"])
				}
				if c, ok := rec["cached"].(bool); !ok || c != (i == n) {
					t.Errorf("line %d: cached %v, want %v", i, rec["cached"], i == n)
				}
				if l, ok := rec["latency_ms"].(float64); !ok || l < 0 {
					t.Errorf("line %d: latency_ms %v", i, rec["latency_ms"])
				}
			}
			if len(lines) > 0 {
				b, _ := json.Marshal(lines[0])
				t.Logf("a request log line: %s", b)
			}
		})
	}
}
