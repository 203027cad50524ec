package jsoncodec

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzFastDecoders checks the hand-written decoders against encoding/json:
// whenever a fast walk accepts a body, encoding/json must accept it too and
// decode exactly the same values (the fast path may only ever be a
// shortcut, never a different answer); and the array readers (Series,
// Windows, Tensor) take exactly the arrays encoding/json reads as numbers
// of the right shape, with the same values.
func FuzzFastDecoders(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add([]byte(b))
	}
	w := seedWindow(0)
	for _, b := range []string{
		`{"window":[[1,2],[3,4]],"horizon":2}`, `{"instances":[[[1,2],[3,4]],[[5,6],[7,8]]],"model":"m","model_version":3}`,
		`{"instances":[[],[]]}`, `{"instances":[[[]]]}`, `{"instances":[[[[1]]]]}`, `{"instances":[ [ 1 , 2 ] ]}`,
		` {"historical_prices" : [ -0 , 0.0 , 1E5 , -1e-5 ] , "model" : "gold" } `, `{"historical_prices":[1],"HISTORICAL_PRICES":[2]}`,
		`{"horizon":9223372036854775807,"historical_prices":` + w + `}`, `{"model_version":-9223372036854775808,"historical_prices":[]}`,
		`{"model":"a\"b","historical_prices":[]}`, `{"historical_prices":[1,]}`, `{"historical_prices":[01]}`, `{"historical_prices":[.5]}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSameAsJSON(t, b)
		checkArrays(t, b)
	})
}

// seedWindow is a valid 60-price window, as JSON.
func seedWindow(base float64) string {
	p := make([]float64, 60)
	for i := range p {
		p[i] = 1900 + base + 15*float64(i%7) - 3*float64(i%5) + 0.5*float64(i)
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// seedBodies are hostile and ordinary request bodies.
func seedBodies() []string {
	w := seedWindow(0)
	return []string{
		``, `null`, `{}`, `[]`, `"x"`, `1`, `{"a":1}`, "\x00\xff\xfe", `{"historical_prices":` + w + `}`,
		`{"historical_prices":` + w + `,"horizon":30}`, `{"historical_prices":` + w + `,"horizon":"2"}`,
		`{"historical_prices":` + w + `,"historical_prices":[1]}`, `{"historical_prices":[1e400` + strings.Repeat(",1", 60) + `]}`,
		`{"historical_prices":["NaN"` + strings.Repeat(",1", 60) + `]}`, `{"historical_prices":[-0` + strings.Repeat(",5e-324", 60) + `]}`,
		`{"instances":[` + w + `,` + seedWindow(3) + `]}`, `{"instances":[[` + w + `]]}`, `{"instances":[]}`,
		`{"instances":[[]]}`, `{"instances":{"0":1}}`, `{"inputs":[` + w + `]}`,
		`{"signature_name":"serving_default","instances":[[[1],[2]],[[3],[4]]]}`, `{"instances":[[1,2],[[3],[4]]]}`,
		`{"instances":[[1,2],[3,4],[5,6],[7,8]]}`, `{"instances":[[[1,2],[3,4]],[[5,6],[7,8,9]]]}`, `{"instances":[[[1,2],[3,null]]]}`,
		`{"a":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`,
	}
}

// Bounds the fuzzed arrays are read against.
var (
	uniBounds   = Bounds{Steps: 2, Features: 1, MaxCount: 3, MaxAbs: 1e12}
	multiBounds = Bounds{Steps: 2, Features: 2, MaxCount: 3, MaxAbs: 1e12}
)

// valid is what every accepted value must be.
func valid(p *float64, b Bounds) bool {
	return p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) && math.Abs(*p) <= b.MaxAbs
}

func flat2(w [][]*float64, b Bounds, exact bool) ([]float64, bool) {
	if len(w) < b.Steps || exact && len(w) != b.Steps {
		return nil, false
	}
	var out []float64
	for _, r := range w {
		if len(r) != b.Features {
			return nil, false
		}
		for _, p := range r {
			if !valid(p, b) {
				return nil, false
			}
			out = append(out, *p)
		}
	}
	return out[len(out)-b.Steps*b.Features:], true
}

func flat1(w []*float64, b Bounds) ([]float64, bool) {
	rows := make([][]*float64, len(w))
	for i := range w {
		rows[i] = w[i : i+1]
	}
	return flat2(rows, b, false)
}

// refSeries, refRows, refWindows and refTensor read raw with encoding/json
// and check it as the array readers should.
func refSeries(raw []byte, b Bounds) ([]float64, bool) {
	var w []*float64
	if json.Unmarshal(raw, &w) != nil {
		return nil, false
	}
	return flat1(w, b)
}

func refRows(raw []byte, b Bounds) ([]float64, bool) {
	var w [][]*float64
	if json.Unmarshal(raw, &w) != nil || w == nil {
		return nil, false
	}
	return flat2(w, b, false)
}

func refWindows(raw []byte, multi bool, b Bounds) ([][]float64, bool) {
	var out [][]float64
	if multi {
		var ws [][][]*float64
		if json.Unmarshal(raw, &ws) != nil || len(ws) == 0 || len(ws) > b.MaxCount {
			return nil, false
		}
		for _, w := range ws {
			v, ok := flat2(w, b, false)
			if !ok || w == nil {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	var ws [][]*float64
	if json.Unmarshal(raw, &ws) != nil || len(ws) == 0 || len(ws) > b.MaxCount {
		return nil, false
	}
	for _, w := range ws {
		v, ok := flat1(w, b)
		if !ok || w == nil {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func refTensor(raw []byte, b Bounds) ([]float32, int, bool) {
	var x3 [][][]*float64
	if json.Unmarshal(raw, &x3) != nil {
		var x2 [][]*float64
		if b.Features != 1 || json.Unmarshal(raw, &x2) != nil {
			return nil, 0, false
		}
		x3 = make([][][]*float64, len(x2))
		for i, w := range x2 {
			for t := range w {
				x3[i] = append(x3[i], w[t:t+1])
			}
		}
	}
	if len(x3) == 0 || len(x3) > b.MaxCount {
		return nil, 0, false
	}
	var out []float32
	for _, w := range x3 {
		v, ok := flat2(w, b, true)
		if !ok {
			return nil, 0, false
		}
		for _, f := range v {
			out = append(out, float32(f))
		}
	}
	return out, len(x3), true
}

func bitsEqual(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// checkArrays reads every raw array of body with the array readers and with
// encoding/json: both must take it or refuse it, with the same values.
func checkArrays(t *testing.T, body []byte) {
	t.Helper()
	var p Predict
	var bt Batch
	var tf TFPredict
	_ = json.Unmarshal(body, &p)
	_ = json.Unmarshal(body, &bt)
	_ = json.Unmarshal(body, &tf)
	for _, raw := range []json.RawMessage{p.HistoricalPrices, p.Window, bt.Instances, tf.Instances, tf.Inputs} {
		if Absent(raw) {
			continue
		}
		got, err := Series(raw, "f", uniBounds)
		want, ok := refSeries(raw, uniBounds)
		if (err == nil) != ok || ok && !bitsEqual(got, want) {
			t.Fatalf("Series(%q) = %v, %v; encoding/json: %v, %v", raw, got, err, want, ok)
		}
		got, err = Rows(raw, "f", multiBounds)
		want, ok = refRows(raw, multiBounds)
		if (err == nil) != ok || ok && !bitsEqual(got, want) {
			t.Fatalf("Rows(%q) = %v, %v; encoding/json: %v, %v", raw, got, err, want, ok)
		}
		multi := Multivariate(raw)
		b := uniBounds
		if multi {
			b = multiBounds
		}
		gw, err := Windows(raw, "f", multi, b)
		ww, ok := refWindows(raw, multi, b)
		if (err == nil) != ok || ok && !slices.EqualFunc(gw, ww, bitsEqual) {
			t.Fatalf("Windows(%q, multi %v) = %v, %v; encoding/json: %v, %v", raw, multi, gw, err, ww, ok)
		}
		for _, b := range []Bounds{uniBounds, multiBounds} {
			gx, gn, err := Tensor(raw, "f", b)
			wx, wn, ok := refTensor(raw, b)
			if (err == nil) != ok || ok && (gn != wn || !reflect.DeepEqual(gx, wx)) {
				t.Fatalf("Tensor(%q, %d features) = %v, %d, %v; encoding/json: %v, %d, %v", raw, b.Features, gx, gn, err, wx, wn, ok)
			}
		}
	}
}
