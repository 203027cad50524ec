package jsoncodec

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/seqcast/seqcast/serving"
)

// The prediction responses are written by appending, byte for byte what
// encoding/json.Marshal writes for PredictResponse and BatchResponse (a test
// holds them to it), without reflection or intermediate maps.

// PredictResponse is what POST /predict returns; the cache stores it without
// "cached" and "response_time_ms", which the server appends.
type PredictResponse struct {
	Item
	Model        string `json:"model"`
	ModelVersion int64  `json:"model_version"`
}

// BatchResponse is what POST /predict/batch returns (see PredictResponse).
type BatchResponse struct {
	Predictions  []Item `json:"predictions"`
	Count        int    `json:"count"`
	Model        string `json:"model"`
	ModelVersion int64  `json:"model_version"`
}

// Item is one prediction.
type Item struct {
	PredictedPrice float64            `json:"predicted_price"`
	Confidence     string             `json:"confidence"`
	Interval       *serving.Interval  `json:"interval,omitempty"`
	Forecast       []float64          `json:"forecast,omitempty"`
	Intervals      []serving.Interval `json:"forecast_intervals,omitempty"`
	Outputs        []float64          `json:"outputs,omitempty"`
}

// AppendFloat appends f as encoding/json formats a float64; ok is false for
// NaN and Inf, which JSON cannot carry.
func AppendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, f, fmt, -1, 64)
	if fmt == 'e' { // clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendString appends s as a JSON string: plain printable ASCII directly,
// anything needing an escape through encoding/json (which also escapes <, >
// and &).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendInterval(b []byte, iv serving.Interval) ([]byte, bool) {
	var ok1, ok2, ok3 bool
	b = append(b, `{"lower":`...)
	b, ok1 = AppendFloat(b, iv.Lower)
	b = append(b, `,"upper":`...)
	b, ok2 = AppendFloat(b, iv.Upper)
	b = append(b, `,"level":`...)
	b, ok3 = AppendFloat(b, iv.Level)
	return append(b, '}'), ok1 && ok2 && ok3
}

func appendFloats(b []byte, vs []float64) ([]byte, bool) {
	ok := true
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		var k bool
		b, k = AppendFloat(b, v)
		ok = ok && k
	}
	return append(b, ']'), ok
}

// appendItem appends the fields PredictResponse and Item share,
// without the braces.
func appendItem(b []byte, it *Item) ([]byte, bool) {
	ok := true
	b = append(b, `"predicted_price":`...)
	b, ok = AppendFloat(b, it.PredictedPrice)
	b = append(b, `,"confidence":`...)
	b = appendString(b, it.Confidence)
	var k bool
	if it.Interval != nil {
		b = append(b, `,"interval":`...)
		b, k = appendInterval(b, *it.Interval)
		ok = ok && k
	}
	if len(it.Forecast) > 0 {
		b = append(b, `,"forecast":`...)
		b, k = appendFloats(b, it.Forecast)
		ok = ok && k
	}
	if len(it.Intervals) > 0 {
		b = append(b, `,"forecast_intervals":[`...)
		for i, iv := range it.Intervals {
			if i > 0 {
				b = append(b, ',')
			}
			b, k = appendInterval(b, iv)
			ok = ok && k
		}
		b = append(b, ']')
	}
	if len(it.Outputs) > 0 {
		b = append(b, `,"outputs":`...)
		b, k = appendFloats(b, it.Outputs)
		ok = ok && k
	}
	return b, ok
}

func appendModel(b []byte, name string, version int64) []byte {
	b = append(b, `"model":`...)
	b = appendString(b, name)
	b = append(b, `,"model_version":`...)
	return strconv.AppendInt(b, version, 10)
}

// EncodePrediction is json.Marshal(r), faster.
func EncodePrediction(r *PredictResponse) ([]byte, error) {
	b := make([]byte, 0, 256+24*len(r.Forecast)+80*len(r.Intervals))
	b = append(b, '{')
	b, ok := appendItem(b, &r.Item)
	b = append(b, ',')
	b = appendModel(b, r.Model, r.ModelVersion)
	b = append(b, '}')
	if !ok {
		return json.Marshal(r) // the same error encoding/json gives
	}
	return b, nil
}

// EncodeBatch is json.Marshal(r), faster.
func EncodeBatch(r *BatchResponse) ([]byte, error) {
	per := 160
	if len(r.Predictions) > 0 {
		per += 24 * (len(r.Predictions[0].Forecast) + len(r.Predictions[0].Outputs))
	}
	b := make([]byte, 0, 128+len(r.Predictions)*per)
	b = append(b, `{"predictions":[`...)
	ok := true
	for i := range r.Predictions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		var k bool
		b, k = appendItem(b, &r.Predictions[i])
		ok = ok && k
		b = append(b, '}')
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(r.Count), 10)
	b = append(b, ',')
	b = appendModel(b, r.Model, r.ModelVersion)
	b = append(b, '}')
	if !ok {
		return json.Marshal(r)
	}
	return b, nil
}
