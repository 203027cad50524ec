package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// logHash is docs/api.md's request log input hash: FNV-1a 64 of the
// windows' float64 bits, little endian, window after window.
func logHash(windows ...[]float64) string {
	h := fnv.New64a()
	for _, w := range windows {
		for _, v := range w {
			h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
		}
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// predictionLines waits (up to 10 s) for n "prediction" lines in p's log
// and returns them parsed: a line is written just after its answer.
func predictionLines(t *testing.T, p *proc, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out []map[string]any
		for _, l := range strings.Split(p.log.String(), "\n") {
			var rec map[string]any
			if strings.Contains(l, `"msg":"prediction"`) {
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("prediction line is not JSON: %v: %s", err, l)
				}
				out = append(out, rec)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// as32 is w rounded to float32, as a tensor route reads it.
func as32(w []float64) []float64 {
	out := make([]float64, len(w))
	for i, v := range w {
		out[i] = float64(float32(v))
	}
	return out
}

// TestServeRequestLogRoutes runs the embedded gold model with
// --request-log-rate 1: every answered request of every prediction route
// (/predict, /predict/batch, TF Serving :predict, OIP infer, KServe's
// forecast) writes one JSON "prediction" line naming its route, with the
// request's id and version, an input summary of all its windows and the
// answer's predictions; a refused request writes none. Values are logged
// only with --request-log-values.
func TestServeRequestLogRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	_, prices := goldPrices(t)
	w1, w2 := prices[len(prices)-60:], prices[len(prices)-70:len(prices)-10]
	// The tensor routes take gold's network input: a z-scored window.
	z := make([]float64, 60)
	for i := range z {
		z[i] = math.Round(math.Sin(float64(i)/7)*1e3) / 1e3
	}
	oip := `{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":` + jsonArray(z) + `}]}`
	type want struct {
		route   string
		windows [][]float64
		preds   func(reply) []float64 // the answer's predicted values (first step), or raw outputs
	}
	first := func(r reply) []float64 { return []float64{r.body["predicted_price"].(float64)} }
	items := func(r reply) (out []float64) {
		for _, it := range r.body["predictions"].([]any) {
			out = append(out, it.(map[string]any)["predicted_price"].(float64))
		}
		return out
	}
	tfOut := func(r reply) (out []float64) {
		for _, it := range r.body["predictions"].([]any) {
			out = append(out, it.([]any)[0].(float64))
		}
		return out
	}
	oipOut := func(r reply) (out []float64) {
		for _, v := range r.body["outputs"].([]any)[0].(map[string]any)["data"].([]any) {
			out = append(out, v.(float64))
		}
		return out
	}
	means := func(r reply) (out []float64) {
		for _, o := range r.body["outputs"].([]any) {
			c := o.(map[string]any)["content"].([]any)[0].(map[string]any)
			out = append(out, c["mean_forecast"].([]any)[0].(float64))
		}
		return out
	}
	calls := []struct {
		path, body string
		want       want
	}{
		{"/predict", `{"historical_prices":` + jsonArray(w1) + `}`, want{"/predict", [][]float64{w1}, first}},
		{"/predict", `{"historical_prices":` + jsonArray(w1) + `}`, want{"/predict", [][]float64{w1}, first}}, // cached
		{"/predict/batch", `{"instances":[` + jsonArray(w1) + `,` + jsonArray(w2) + `],"horizon":2}`, want{"/predict/batch", [][]float64{w1, w2}, items}},
		{"/v1/models/gold:predict", `{"instances":[` + jsonArray(z) + `,` + jsonArray(z) + `]}`, want{"/v1/models/{name}:predict", [][]float64{as32(z), as32(z)}, tfOut}},
		{"/v2/models/gold/infer", oip, want{"/v2/models/{name}/infer", [][]float64{as32(z)}, oipOut}},
		{"/v1/timeseries/forecast", forecastBody(3, jsonArray(w1), jsonArray(w2)), want{"/v1/timeseries/forecast", [][]float64{w1, w2}, means}},
	}
	for _, values := range []bool{false, true} {
		t.Run("values="+strconv.FormatBool(values), func(t *testing.T) {
			args := []string{"--request-log-rate", "1"}
			if values {
				args = append(args, "--request-log-values")
			}
			p := startBinary(t, nil, args...)
			// A refused request is not logged (it comes first: a line of
			// its own would be the first line).
			if r := p.call(t, "POST", "/predict", `{"historical_prices":[1,2,3]}`); r.status != 422 {
				t.Fatalf("short window: %d %s", r.status, r.raw)
			}
			var replies []reply
			for _, c := range calls {
				r := p.call(t, "POST", c.path, c.body, "Content-Type", "application/json")
				if r.status != 200 || r.header.Get("X-Model-Version") != "1" {
					t.Fatalf("%s: %d %v %.300s", c.path, r.status, r.header, r.raw)
				}
				replies = append(replies, r)
			}
			lines := predictionLines(t, p, len(calls))
			if len(lines) != len(calls) {
				t.Fatalf("%d prediction lines for %d answers:\n%s", len(lines), len(calls), p.log)
			}
			for i, ln := range lines {
				c, r := calls[i], replies[i]
				if ln["route"] != c.want.route || ln["request_id"] != r.header.Get("X-Request-ID") || ln["model"] != "gold" || ln["model_version"] != 1.0 {
					t.Errorf("line %d (%s): route, request_id, model: %v", i, c.path, ln)
				}
				in, _ := ln["input"].(map[string]any)
				ws := c.want.windows
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, w := range ws {
					lo, hi = min(lo, slices.Min(w)), max(hi, slices.Max(w))
				}
				if in["windows"] != float64(len(ws)) || in["length"] != 60.0 || in["features"] != 1.0 || in["min"] != lo || in["max"] != hi || in["hash"] != logHash(ws...) {
					t.Errorf("line %d (%s): input %v, want %d windows of 60, min %v max %v hash %s", i, c.path, in, len(ws), lo, hi, logHash(ws...))
				}
				if _, has := in["values"]; has != values {
					t.Errorf("line %d (%s): values present %v, want %v", i, c.path, has, values)
				}
				if cached := i == 1; ln["cached"] != cached {
					t.Errorf("line %d (%s): cached %v, want %v", i, c.path, ln["cached"], cached)
				}
				if _, ok := ln["warnings"].([]any); !ok {
					t.Errorf("line %d (%s): warnings %v, want an array", i, c.path, ln["warnings"])
				}
				var got []float64
				if c.want.route == "/predict" {
					got = []float64{ln["prediction"].(float64)}
				} else {
					for _, p := range ln["predictions"].([]any) {
						p := p.(map[string]any)
						if o, ok := p["outputs"].([]any); ok {
							got = append(got, o[0].(float64))
						} else {
							got = append(got, p["value"].(float64))
						}
					}
				}
				// Equal up to float32 rounding: a tensor route's JSON writes
				// float32 outputs, the log line their float64 values.
				if w := c.want.preds(r); !slices.EqualFunc(got, w, func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }) {
					t.Errorf("line %d (%s): predictions %v, the answer's %v", i, c.path, got, w)
				}
			}
			b, _ := json.Marshal(lines[len(lines)-1])
			t.Logf("a forecast's line: %s", b)
		})
	}
}
