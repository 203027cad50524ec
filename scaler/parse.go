package scaler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// Format is the value of scaler.json's "format" key.
const Format = "seqcast-scaler/1"

// allowed lists each kind's keys besides "kind", "features" and
// "feature_names" (informational, written by tools/export_keras.py).
var allowed = map[string][]string{
	KindIdentity:     nil,
	KindMinMax:       {"feature_range", "clip", "data_min", "data_max", "scale", "min"},
	KindStandard:     {"mean", "scale"},
	KindRobust:       {"center", "scale"},
	KindWindowZScore: {"epsilon", "target_feature"},
}

// Parse reads a scaler.json document.
func Parse(b []byte) (*Pipeline, error) {
	var doc struct {
		Format string          `json:"format"`
		Window int             `json:"window"`
		Input  json.RawMessage `json:"input"`
		Output json.RawMessage `json:"output"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("scaler: %w", err)
	}
	if doc.Format != Format {
		return nil, fmt.Errorf("scaler: format %q, want %q", doc.Format, Format)
	}
	if doc.Window <= 0 {
		return nil, fmt.Errorf("scaler: window %d must be positive", doc.Window)
	}
	in, err := ParseScaler(doc.Input)
	if err != nil {
		return nil, fmt.Errorf("scaler: input: %w", err)
	}
	out, err := ParseScaler(doc.Output)
	if err != nil {
		return nil, fmt.Errorf("scaler: output: %w", err)
	}
	return NewPipeline(doc.Window, in, out)
}

// ParseScaler reads one SCALER object of scaler.json. A missing (null)
// scaler is the identity.
func ParseScaler(b []byte) (Scaler, error) {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return Identity{}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var kind string
	if err := json.Unmarshal(m["kind"], &kind); err != nil || kind == "" {
		return nil, fmt.Errorf("missing or invalid \"kind\"")
	}
	keys, ok := allowed[kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q (want identity, minmax, standard, robust or window_zscore)", kind)
	}
	for k := range m {
		if k != "kind" && k != "features" && k != "feature_names" && !slices.Contains(keys, k) {
			return nil, fmt.Errorf("%s: unknown field %q", kind, k)
		}
	}
	p := fields{kind: kind, m: m}
	features := p.ints("features")
	var s Scaler
	switch kind {
	case KindIdentity:
		if features != nil {
			return nil, fmt.Errorf("identity: features makes no sense")
		}
		s = Identity{}
	case KindMinMax:
		s = p.minmax(features)
	case KindStandard:
		st := &Standard{Mean: p.floats("mean"), Scale: p.floats("scale"), Features: features}
		st.Scale = onesForZeros(st.Scale)
		p.sameLen(features, "mean", st.Mean, "scale", st.Scale)
		s = st
	case KindRobust:
		rb := &Robust{Center: p.floats("center"), Scale: p.floats("scale"), Features: features}
		rb.Scale = onesForZeros(rb.Scale)
		p.sameLen(features, "center", rb.Center, "scale", rb.Scale)
		s = rb
	case KindWindowZScore:
		w := &WindowZScore{Epsilon: 1e-8, Features: features}
		if raw, ok := m["epsilon"]; ok {
			p.decode(raw, &w.Epsilon, "epsilon")
		}
		if raw, ok := m["target_feature"]; ok {
			p.decode(raw, &w.TargetFeature, "target_feature")
		}
		if p.err == nil && (!(w.Epsilon >= 0) || math.IsInf(w.Epsilon, 0)) {
			p.fail("epsilon %v must be finite and >= 0", w.Epsilon)
		}
		if p.err == nil && w.TargetFeature < 0 {
			p.fail("target_feature %d must be >= 0", w.TargetFeature)
		}
		s = w
	}
	if p.err != nil {
		return nil, p.err
	}
	if features != nil {
		seen := map[int]bool{}
		for _, j := range features {
			if j < 0 || seen[j] {
				return nil, fmt.Errorf("%s: features %v: indices must be distinct and >= 0", kind, features)
			}
			seen[j] = true
		}
	}
	return s, nil
}

// onesForZeros replaces zero scales by 1, as scikit-learn's
// _handle_zeros_in_scale does when it fits a StandardScaler or RobustScaler.
func onesForZeros(s []float64) []float64 {
	for i, v := range s {
		if v == 0 {
			s[i] = 1
		}
	}
	return s
}

// fields decodes a scaler's keys, keeping the first error.
type fields struct {
	kind string
	m    map[string]json.RawMessage
	err  error
}

func (p *fields) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(p.kind+": "+format, args...)
	}
}

func (p *fields) decode(raw json.RawMessage, v any, key string) {
	if p.err != nil {
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.fail("%s: %v", key, err)
	}
}

// floats decodes an optional array of finite numbers; absent or null -> nil.
func (p *fields) floats(key string) []float64 {
	raw, ok := p.m[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	var v []float64
	p.decode(raw, &v, key)
	if p.err == nil && len(v) == 0 {
		p.fail("%s is empty", key)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			p.fail("%s[%d] is not finite", key, i)
		}
	}
	return v
}

func (p *fields) ints(key string) []int {
	raw, ok := p.m[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	var v []int
	p.decode(raw, &v, key)
	if p.err == nil && len(v) == 0 {
		p.fail("%s is empty", key)
	}
	return v
}

// sameLen checks that the non-nil vectors agree in length (and with features).
func (p *fields) sameLen(features []int, k1 string, v1 []float64, k2 string, v2 []float64) {
	if v1 != nil && v2 != nil && len(v1) != len(v2) {
		p.fail("%s has %d values, %s has %d", k1, len(v1), k2, len(v2))
	}
	if features != nil {
		for _, kv := range []struct {
			k string
			v []float64
		}{{k1, v1}, {k2, v2}} {
			if kv.v != nil && len(kv.v) != len(features) {
				p.fail("%s has %d values, features lists %d", kv.k, len(kv.v), len(features))
			}
		}
	}
}

func (p *fields) minmax(features []int) *MinMax {
	s := &MinMax{FeatureRange: [2]float64{0, 1}, Features: features}
	if raw, ok := p.m["feature_range"]; ok {
		var fr []float64
		p.decode(raw, &fr, "feature_range")
		if p.err == nil && len(fr) != 2 {
			p.fail("feature_range has %d values, want 2", len(fr))
		}
		if p.err == nil {
			s.FeatureRange = [2]float64{fr[0], fr[1]}
		}
	}
	if raw, ok := p.m["clip"]; ok {
		p.decode(raw, &s.Clip, "clip")
	}
	lo, hi := s.FeatureRange[0], s.FeatureRange[1]
	if p.err == nil && !(lo < hi) {
		p.fail("feature_range [%v, %v]: minimum must be smaller than maximum", lo, hi)
	}
	s.DataMin, s.DataMax = p.floats("data_min"), p.floats("data_max")
	s.Scale, s.Min = p.floats("scale"), p.floats("min")
	p.sameLen(features, "data_min", s.DataMin, "data_max", s.DataMax)
	p.sameLen(features, "scale", s.Scale, "min", s.Min)
	p.sameLen(features, "scale", s.Scale, "data_min", s.DataMin)
	if p.err != nil {
		return nil
	}
	switch {
	case s.Scale != nil && s.Min != nil:
	case s.Scale == nil && s.Min == nil && s.DataMin != nil && s.DataMax != nil:
		// Fit from the data range exactly as MinMaxScaler.partial_fit does.
		n := len(s.DataMin)
		s.Scale, s.Min = make([]float64, n), make([]float64, n)
		for k := range n {
			rng := s.DataMax[k] - s.DataMin[k]
			if rng == 0 {
				rng = 1
			}
			s.Scale[k] = (hi - lo) / rng
			s.Min[k] = lo - float64(s.DataMin[k]*s.Scale[k])
		}
	default:
		p.fail("needs scale and min (or data_min and data_max)")
		return nil
	}
	for k, v := range s.Scale {
		if v == 0 {
			p.fail("scale[%d] is 0: the inverse would divide by zero", k)
		}
	}
	return s
}
