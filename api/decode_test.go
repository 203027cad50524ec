package api

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/cache"
	"github.com/seqcast/seqcast/models"
	"github.com/seqcast/seqcast/serving"
)

// decodeBodies are bodies for the fast decoders: the usual shapes (which
// they must take) and unusual ones (which they must leave to encoding/json).
var decodeBodies = []struct {
	body string
	fast bool // whether fastPredict / fastBatch should take it
}{
	{`{"historical_prices":[1900.5,1901,-2.5e3,0,-0,1E2,1e-7,12345678901234567890]}`, true},
	{" \t\n{ \"historical_prices\" : [ 1 , 2 ] , \"horizon\" : 5 , \"model\" : \"gold\" , \"model_version\" : 3 } \r\n", true},
	{`{"historical_prices":[]}`, true},
	{`{}`, true},
	{`{"window":[[1,2],[3,4]],"model":"aq"}`, true},
	{`{"window":[]}`, true},
	{`{"window":[[]]}`, true},
	{`{"instances":[[1,2],[3]],"horizon":2}`, true},
	{`{"instances":[[[1,2]],[[3,4],[5,6]]]}`, true},
	{`{"instances":[[]]}`, true},
	{`{"horizon":-3}`, true},
	{`{"historical_prices":null}`, false},
	{`{"historical_prices":[null,1]}`, false},
	{`{"historical_prices":[1,"2"]}`, false},
	{`{"historical_prices":[1e400]}`, false},
	{`{"historical_prices":[01]}`, false},
	{`{"historical_prices":[1.]}`, false},
	{`{"historical_prices":[.5]}`, false},
	{`{"historical_prices":[+1]}`, false},
	{`{"historical_prices":[1,]}`, false},
	{`{"historical_prices":[0x10]}`, false},
	{`{"historical_prices":[Infinity]}`, false},
	{`{"historical_prices":[1] } x`, false},
	{`{"historical_prices":[1],"historical_prices":[2]}`, false},
	{`{"Historical_Prices":[1]}`, false},
	{`{"historical_prices":[1],"extra":true}`, false},
	{`{"historical\u005fprices":[1]}`, false},
	{`{"horizon":1.5}`, false},
	{`{"horizon":1e0}`, false},
	{`{"horizon":99999999999999999999}`, false},
	{`{"horizon":null}`, false},
	{`{"model":"g\"old"}`, false},
	{`{"model":"göld"}`, false},
	{`{"model":5}`, false},
	{`{"model_version":"1"}`, true},
	{`{"model_version":2.0,"historical_prices":[1]}`, true},
	{`{"model_version":"canary"}`, true},
	{`{"model_version":-1e3}`, true},
	{`{"model_version":"can\u0061ry"}`, false},
	{`{"model_version":true}`, false},
	{`{"model_version":null}`, false},
	{`{"model_version":[2]}`, false},
	{`[1,2,3]`, false},
	{`{"historical_prices":[1]`, false},
	{`{"window":[1,2]}`, false},
	{`{"instances":[1]}`, false},
	{`{"instances":[[1],[[2]]]}`, false},
	{`{"instances":[[[[1]]]]}`, false},
	{`{"instances":[]}`, false},
	{"\xef\xbb\xbf{}", false},
}

// TestFastDecodersMatchEncodingJSON: whatever the fast decoders accept,
// encoding/json decodes to the same values (FuzzFastDecoders, in
// fuzz_test.go, explores further).
func TestFastDecodersMatchEncodingJSON(t *testing.T) {
	for _, tc := range decodeBodies {
		t.Run(tc.body, func(t *testing.T) {
			var fp predictRequest
			var fb batchRequest
			okP := fastPredict([]byte(tc.body), &fp)
			okB := fastBatch([]byte(tc.body), &fb)
			isBatch := strings.Contains(tc.body, "instances")
			if got := (isBatch && okB) || (!isBatch && okP); got != tc.fast {
				t.Fatalf("fast decoder took it: %v, want %v", got, tc.fast)
			}
			checkSameAsJSON(t, []byte(tc.body), okP, &fp, okB, &fb)
		})
	}
}

func checkSameAsJSON(t *testing.T, body []byte, okP bool, fp *predictRequest, okB bool, fb *batchRequest) {
	t.Helper()
	if okP {
		var want predictRequest
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("fastPredict took %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(*fp, want) {
			t.Fatalf("fastPredict %q:\n got %+v\nwant %+v", body, *fp, want)
		}
	}
	if okB {
		var want batchRequest
		err := json.Unmarshal(body, &want)
		if fb.Windows != nil {
			var w3 batchRequest3
			if err3 := json.Unmarshal(body, &w3); err3 != nil {
				t.Fatalf("fastBatch took %q (3 levels), encoding/json refuses it: %v", body, err3)
			}
			want = batchRequest{Windows: w3.Instances, Horizon: w3.Horizon, Model: w3.Model, ModelVersion: w3.ModelVersion}
		} else if err != nil {
			t.Fatalf("fastBatch took %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(*fb, want) {
			t.Fatalf("fastBatch %q:\n got %+v\nwant %+v", body, *fb, want)
		}
	}
}

// TestEncodersMatchEncodingJSON: the append-based encoders write exactly what
// json.Marshal writes.
func TestEncodersMatchEncodingJSON(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 1941.9812345678, 1e-6, 9.99e-7, 1e-7, -1.5e-9, 1e20, 1e21, 1.2345e22,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.123456789, 0.1, 1e-300}
	iv := serving.Interval{Lower: 1909.71, Upper: 1974.98, Level: 0.9}
	items := []predictionItem{
		{PredictedPrice: 1941.98, Confidence: "medium", Interval: &iv},
		{PredictedPrice: -3, Confidence: "low"},
		{PredictedPrice: 2, Confidence: "high", Interval: &iv, Forecast: floats, Intervals: []serving.Interval{iv, {Lower: 1e-7, Upper: 1e22, Level: 0.5}}},
		{PredictedPrice: 2.25, Confidence: "low", Outputs: []float64{2.25, -1e-8}, Forecast: []float64{}},
		{PredictedPrice: 1, Confidence: `odd "<label>" & \ é` + "\n"},
	}
	for _, name := range []string{"gold", "air-quality_v2.1", `<script>&"`, "ünï"} {
		for i, it := range items {
			r := predictResponse{it, name, int64(i + 1)}
			got, err := encodePrediction(&r)
			want, werr := json.Marshal(&r)
			if err != nil || werr != nil || !bytes.Equal(got, want) {
				t.Errorf("item %d, model %q:\n got %s (%v)\nwant %s (%v)", i, name, got, err, want, werr)
			}
		}
		br := batchResponse{Predictions: items, Count: len(items), Model: name, ModelVersion: 7}
		got, err := encodeBatch(&br)
		want, werr := json.Marshal(&br)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Errorf("batch, model %q:\n got %s (%v)\nwant %s (%v)", name, got, err, want, werr)
		}
	}
	for _, f := range floats {
		got, _ := appendFloat(nil, f)
		want, _ := json.Marshal(f)
		if !bytes.Equal(got, want) {
			t.Errorf("%g: got %s, want %s", f, got, want)
		}
	}
	// Non-finite values fail as encoding/json fails.
	bad := predictResponse{predictionItem{PredictedPrice: math.NaN(), Confidence: "low"}, "gold", 1}
	if _, err := encodePrediction(&bad); err == nil {
		t.Error("NaN encoded")
	}
	badBatch := batchResponse{Predictions: []predictionItem{{PredictedPrice: 1, Forecast: []float64{math.Inf(1)}}}, Count: 1}
	if _, err := encodeBatch(&badBatch); err == nil {
		t.Error("Inf encoded")
	}
}

// TestFlightCancelledWhenEveryWaiterLeaves: a computation nobody waits for
// any more is cancelled; one that still has a waiter is not.
func TestFlightCancelledWhenEveryWaiterLeaves(t *testing.T) {
	var fs flights
	started := make(chan struct{})
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	followerCtx, cancelFollower := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := fs.do(leaderCtx, "k", func(ctx context.Context) ([]byte, error) {
			close(started)
			<-ctx.Done() // runs until cancelled
			return nil, ctx.Err()
		})
		done <- err
	}()
	<-started
	follower := make(chan error, 1)
	go func() {
		_, err := fs.do(followerCtx, "k", func(context.Context) ([]byte, error) { return []byte("x"), nil })
		follower <- err
	}()
	for { // the follower has joined
		fs.mu.Lock()
		n := fs.m["k"].waiters
		fs.mu.Unlock()
		if n == 2 {
			break
		}
	}
	cancelLeader()
	fs.mu.Lock()
	canceled := fs.m["k"].canceled
	fs.mu.Unlock()
	if canceled {
		t.Fatal("cancelled while a follower still waits")
	}
	cancelFollower()
	if err := <-follower; err != context.Canceled {
		t.Fatalf("follower: %v", err)
	}
	if err := <-done; err != context.Canceled {
		t.Fatalf("leader: %v", err)
	}
	// A new request for the key starts afresh.
	v, err := fs.do(context.Background(), "k", func(context.Context) ([]byte, error) { return []byte("ok"), nil })
	if err != nil || string(v) != "ok" {
		t.Fatalf("after: %q %v", v, err)
	}
}

// BenchmarkDecodePredict compares the fast decoder with encoding/json on a
// 60-price body.
func BenchmarkDecodePredict(b *testing.B) {
	body := []byte(predictBody(prices(60, 0), ""))
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r predictRequest
			if !fastPredict(body, &r) {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r predictRequest
			if err := json.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPredictBatchedParallel runs distinct single predictions from
// parallel clients through the whole handler with dynamic batching on.
func BenchmarkPredictBatchedParallel(b *testing.B) {
	for _, batching := range []bool{false, true} {
		name := "unbatched"
		if batching {
			name = "batched"
		}
		b.Run(name, func(b *testing.B) {
			reg := serving.NewRegistry(serving.Options{Batch: serving.BatchOptions{Enabled: batching, Window: 500e3, MaxBatch: 16}},
				serving.Embedded("gold", 0, models.Gold()))
			if err := reg.Load(context.Background()); err != nil {
				b.Fatal(err)
			}
			s, err := New(Config{CacheTTL: -1}, reg, cache.NewMemory(1))
			if err != nil {
				b.Fatal(err)
			}
			h := s.Handler()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					req := httptest.NewRequest("POST", "/predict", strings.NewReader(predictBody(prices(60, float64(i)), "")))
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Error(rec.Code)
						return
					}
				}
			})
		})
	}
}

// TestScannerFloatBits: the scanner's numbers are bit for bit
// strconv.ParseFloat's (encoding/json's), -0 included.
func TestScannerFloatBits(t *testing.T) {
	nums := []string{"0", "-0", "-0.0", "1", "1900.12", "-1900.12", "0.1", "0.3", "123456789012345", "1234567890123456",
		"0.000000000000001", "0.0000000000000001", "999999999999999.9", "1e5", "1E-5", "-2.5e+3", "9007199254740993",
		"1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "0.1000000000000000055511151231257827"}
	seed := uint64(1)
	for range 2000 { // random decimals like clients send
		seed = seed*6364136223846793005 + 1442695040888963407
		ip, fp := seed>>40%100000, seed>>8%1000000
		nums = append(nums, strconv.FormatUint(ip, 10)+"."+strconv.FormatUint(fp, 10))
	}
	for _, n := range nums {
		s := scanner{b: []byte(n)}
		got, ok := s.float()
		want, err := strconv.ParseFloat(n, 64)
		if !ok || err != nil || math.Float64bits(got) != math.Float64bits(want) || !s.end() {
			t.Errorf("%s: got %v (%v), ParseFloat %v (%v)", n, got, ok, want, err)
		}
	}
}
