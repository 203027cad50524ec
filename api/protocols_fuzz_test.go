package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzOIPInfer fuzzes the body of POST /v2/models/gold/infer: never a 5xx,
// every error in the protocol's shape {"error": "..."}.
func FuzzOIPInfer(f *testing.F) {
	s := fuzzServer(f, false)
	w := fuzzWindow(0)
	for _, b := range []string{
		`{"id":"42","inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":` + w + `}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP64","data":[` + w + `]}],"outputs":[{"name":"output"}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"INT16","data":[[[1],[2]]]}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"BOOL","data":[true,false]}]}`,
		`{"inputs":[{"name":"input","shape":[9,60,1],"datatype":"UINT64","data":[18446744073709551615]}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1,1,1],"datatype":"FP32","data":[]}]}`,
		`{"inputs":[{"name":"input","shape":[-1,60,1],"datatype":"FP32","data":[1]}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":[1e999]}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":"AAAA"}]}`,
		`{"inputs":[{"name":"input","shape":[1,60,1],"datatype":"FP32","data":[[1,2],3]}]}`,
		`{"inputs":[{"name":"input"},{"name":"input"}]}`, `{"inputs":null}`, `{"id":null}`, `[]`, ``,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v2/models/gold/infer", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %.200q: status %d: %s", body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var eb map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || len(eb) != 1 || eb["error"] == nil {
				t.Fatalf("body %.200q: %d without the protocol's error shape: %.300s", body, rec.Code, rec.Body)
			}
			if msg, _ := eb["error"].(string); msg == "" {
				t.Fatalf("body %.200q: empty error: %s", body, rec.Body)
			}
		}
	})
}

// FuzzForecast fuzzes the body of POST /v1/timeseries/forecast: never a
// 5xx; errors in seqcast's shape; a 200 is a valid JSON forecast response.
func FuzzForecast(f *testing.F) {
	s := fuzzServer(f, false)
	w := fuzzWindow(0)
	for _, b := range []string{
		`{"model":"gold","inputs":[{"type":"univariate_time_series","name":"a","series":` + w + `,"frequency":"D","start_timestamp":"2025-06-05T13:10:00Z"}],"options":{"horizon":3,"quantiles":[0.05,0.95]}}`,
		`{"model":"gold","inputs":[{"type":"multivariate_time_series","name":"a","series":[[1],[2]],"frequency":"M","start_timestamp":"2024-01-31"}],"options":{"horizon":1}}`,
		`{"model":"gold","inputs":[{"type":"univariate_time_series","name":"a","series":` + w + `,"frequency":"Y","start_timestamp":"9999-01-01"}],"options":{"horizon":1,"quantiles":[0.5]}}`,
		`{"model":"gold","inputs":[{"name":"a"},{"name":"a"}],"options":{"horizon":1}}`,
		`{"model":"gold","inputs":[{}],"options":{"horizon":-1,"quantiles":[0,1,NaN]}}`,
		`{"model":"gold","inputs":[{"type":"univariate_time_series","name":"a","series":"x","frequency":"S"}],"options":{}}`,
		`{"model":"nope"}`, `{}`, `null`, ``,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serveFuzz(t, s, "POST", "/v1/timeseries/forecast", "application/json", body)
		if rec.Code == 200 {
			var r struct {
				Status  string           `json:"status"`
				Outputs []map[string]any `json:"outputs"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Status == "" || len(r.Outputs) == 0 {
				t.Fatalf("body %.200q: 200 that is not a forecast response: %.300s", body, rec.Body)
			}
		}
	})
}
