package jsoncodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/serving"
)

// decodeBodies are bodies for the fast walks: the usual shapes (which they
// must take, arrays of numbers and arrays whatever their shape, which the
// array readers check) and unusual ones (which they must leave to
// encoding/json).
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
	{`{"historical_prices":[1e400]}`, true}, // the array is read later
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
	{`{"window":[1,2]}`, true},          // the array is read later
	{`{"instances":[1]}`, true},         // the array is read later
	{`{"instances":[[1],[[2]]]}`, true}, // the array is read later
	{`{"instances":[[[[1]]]]}`, true},   // the array is read later
	{`{"instances":[]}`, true},          // the array is read later
	{"\xef\xbb\xbf{}", false},
}

// TestFastDecodersMatchEncodingJSON: whatever the fast decoders accept,
// encoding/json decodes to the same values (FuzzFastDecoders, in
// fuzz_test.go, explores further).
func TestFastDecodersMatchEncodingJSON(t *testing.T) {
	for _, tc := range decodeBodies {
		t.Run(tc.body, func(t *testing.T) {
			var fp Predict
			var fb Batch
			var ft TFPredict
			okP := fastPredict([]byte(tc.body), &fp)
			okB := fastBatch([]byte(tc.body), &fb)
			fastTF([]byte(tc.body), &ft)
			isBatch := strings.Contains(tc.body, "instances")
			if got := (isBatch && okB) || (!isBatch && okP); got != tc.fast {
				t.Fatalf("fast decoder took it: %v, want %v", got, tc.fast)
			}
			checkSameAsJSON(t, []byte(tc.body))
		})
	}
}

// checkSameAsJSON: whenever a fast walk takes body, encoding/json takes it
// too and decodes it to the same values (the fast walk may only ever be a
// shortcut, never a different answer).
func checkSameAsJSON(t *testing.T, body []byte) {
	t.Helper()
	same(t, body, fastPredict)
	same(t, body, fastBatch)
	same(t, body, fastTF)
}

func same[T any](t *testing.T, body []byte, fast func([]byte, *T) bool) {
	t.Helper()
	var got T
	if !fast(body, &got) {
		return
	}
	var want T
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("the fast walk took %q as %T, encoding/json refuses it: %v", body, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast walk %q as %T:\n got %+v\nwant %+v", body, got, got, want)
	}
}

// TestEncodersMatchEncodingJSON: the append-based encoders write exactly what
// json.Marshal writes.
func TestEncodersMatchEncodingJSON(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 1941.9812345678, 1e-6, 9.99e-7, 1e-7, -1.5e-9, 1e20, 1e21, 1.2345e22,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.123456789, 0.1, 1e-300}
	iv := serving.Interval{Lower: 1909.71, Upper: 1974.98, Level: 0.9}
	items := []Item{
		{PredictedPrice: 1941.98, Confidence: "medium", Interval: &iv},
		{PredictedPrice: -3, Confidence: "low"},
		{PredictedPrice: 2, Confidence: "high", Interval: &iv, Forecast: floats, Intervals: []serving.Interval{iv, {Lower: 1e-7, Upper: 1e22, Level: 0.5}}},
		{PredictedPrice: 2.25, Confidence: "low", Outputs: []float64{2.25, -1e-8}, Forecast: []float64{}},
		{PredictedPrice: 1, Confidence: `odd "<label>" & \ é` + "\n"},
	}
	for _, name := range []string{"gold", "air-quality_v2.1", `<script>&"`, "ünï"} {
		for i, it := range items {
			r := PredictResponse{it, name, int64(i + 1)}
			got, err := EncodePrediction(&r)
			want, werr := json.Marshal(&r)
			if err != nil || werr != nil || !bytes.Equal(got, want) {
				t.Errorf("item %d, model %q:\n got %s (%v)\nwant %s (%v)", i, name, got, err, want, werr)
			}
		}
		br := BatchResponse{Predictions: items, Count: len(items), Model: name, ModelVersion: 7}
		got, err := EncodeBatch(&br)
		want, werr := json.Marshal(&br)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Errorf("batch, model %q:\n got %s (%v)\nwant %s (%v)", name, got, err, want, werr)
		}
	}
	for _, f := range floats {
		got, _ := AppendFloat(nil, f)
		want, _ := json.Marshal(f)
		if !bytes.Equal(got, want) {
			t.Errorf("%g: got %s, want %s", f, got, want)
		}
	}
	// Non-finite values fail as encoding/json fails.
	bad := PredictResponse{Item{PredictedPrice: math.NaN(), Confidence: "low"}, "gold", 1}
	if _, err := EncodePrediction(&bad); err == nil {
		t.Error("NaN encoded")
	}
	badBatch := BatchResponse{Predictions: []Item{{PredictedPrice: 1, Forecast: []float64{math.Inf(1)}}}, Count: 1}
	if _, err := EncodeBatch(&badBatch); err == nil {
		t.Error("Inf encoded")
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

// BenchmarkDecodePredict compares the codec (object walk, then the series
// against the model's bounds) with encoding/json into pointers on a
// 60-price body.
func BenchmarkDecodePredict(b *testing.B) {
	body := []byte(`{"historical_prices":` + seedWindow(0) + `,"horizon":5}`)
	bounds := Bounds{Steps: 60, Features: 1, MaxCount: 1, MaxAbs: 1e12}
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := DecodePredict(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Series(r.HistoricalPrices, "historical_prices", bounds); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r struct {
				HistoricalPrices []*float64 `json:"historical_prices"`
				Horizon          *int       `json:"horizon"`
			}
			if err := json.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestArrayReaders: the last window of a longer history, in order; every
// refusal names its path, and quotes at most MaxEcho bytes of the value.
func TestArrayReaders(t *testing.T) {
	b3 := Bounds{Steps: 3, Features: 2, MaxCount: 2, MaxAbs: 1e12}
	if got, err := Series([]byte(`[1,2,3,4,5,6,7]`), "p", b3); err != nil || !reflect.DeepEqual(got, []float64{5, 6, 7}) {
		t.Errorf("Series keeps %v, %v; want [5 6 7]", got, err)
	}
	if got, err := Rows([]byte(`[[1,1],[2,2],[3,3],[4,4],[5,5]]`), "w", b3); err != nil || !reflect.DeepEqual(got, []float64{3, 3, 4, 4, 5, 5}) {
		t.Errorf("Rows keeps %v, %v; want rows 3, 4, 5", got, err)
	}
	if got, err := Windows([]byte(`[[1,2,3,4],[5,6,7]]`), "i", false, b3); err != nil || !reflect.DeepEqual(got, [][]float64{{2, 3, 4}, {5, 6, 7}}) {
		t.Errorf("Windows: %v, %v", got, err)
	}
	if got, n, err := Tensor([]byte(`[[[1,2],[3,4],[5,6]]]`), "i", b3); err != nil || n != 1 || !reflect.DeepEqual(got, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("Tensor: %v, %d, %v", got, n, err)
	}
	huge := "1" + strings.Repeat("0", 5000)
	for _, tc := range []struct {
		name, raw string
		read      func([]byte) error
		path, msg string
	}{
		{"series short", `[1,2]`, series(b3), "f", "need at least 3 values"},
		{"series null", `[1,null,3]`, series(b3), "f[1]", "null: want a number"},
		{"series string", `[1,2,"3"]`, series(b3), "f[2]", "a string: want a number"},
		{"series nested", `[1,[2],3]`, series(b3), "f[1]", "an array: want a number"},
		{"series not array", `{"a":1}`, series(b3), "f", "an object: want an array"},
		{"series too big", `[1,2,1e13]`, series(b3), "f[2]", `"1e13" is out of range`},
		{"series huge", `[1,2,` + huge + `]`, series(b3), "f[2]", "5001 bytes, cut"},
		{"row too long", `[[1,2],[3,4,5]]`, rows(b3), "f[1]", "more than 2 features"},
		{"row too short", `[[1,2],[3]]`, rows(b3), "f[1]", "1 features: the model takes 2"},
		{"windows too many", `[[1,2,3],[1,2,3],[1,2,3]]`, windows(b3, false), "f", "more than 2 windows"},
		{"windows empty", `[]`, windows(b3, false), "f", "0 windows"},
		{"windows short", `[[1,2,3],[1]]`, windows(b3, false), "f[1]", "need at least 3 values"},
		{"multi short", `[[[1,2]]]`, windows(b3, true), "f[0]", "need at least 3 rows"},
		{"tensor steps", `[[[1,2],[3,4],[5,6],[7,8]]]`, tensor(b3), "f[0]", "more than 3 time steps"},
		{"tensor few steps", `[[[1,2]]]`, tensor(b3), "f[0]", "1 time steps"},
		{"tensor features", `[[[1,2],[3,4,5],[5,6]]]`, tensor(b3), "f[0][1]", "more than 2 features"},
		{"tensor count", `[[[1,2],[3,4],[5,6]],[[1,2],[3,4],[5,6]],[[1,2],[3,4],[5,6]]]`, tensor(b3), "f", "more than 2 instances"},
		{"tensor flat with features", `[[1,2,3]]`, tensor(b3), "f[0][0]", "a number: want an array of 2 features"},
	} {
		err := tc.read([]byte(tc.raw))
		var e *Error
		if !errors.As(err, &e) || e.Path() != tc.path || !strings.Contains(e.Msg, tc.msg) || len(e.Msg) > 200 {
			t.Errorf("%s: %v; want %s: ...%s...", tc.name, err, tc.path, tc.msg)
		}
	}
}

func series(b Bounds) func([]byte) error {
	return func(raw []byte) error { _, err := Series(raw, "f", b); return err }
}

func rows(b Bounds) func([]byte) error {
	return func(raw []byte) error { _, err := Rows(raw, "f", b); return err }
}

func windows(b Bounds, multi bool) func([]byte) error {
	return func(raw []byte) error { _, err := Windows(raw, "f", multi, b); return err }
}

func tensor(b Bounds) func([]byte) error {
	return func(raw []byte) error { _, _, err := Tensor(raw, "f", b); return err }
}
