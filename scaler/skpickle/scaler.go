package skpickle

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"

	"github.com/seqcast/seqcast/internal/pyjson"
	"github.com/seqcast/seqcast/scaler"
)

// Scaler is a fitted scikit-learn scaler as a seqcast-scaler/1 SCALER
// object: the document tools/seqcast_export/safe_pickle.py's scaler_json
// produces for the same file. Its MarshalJSON writes the same keys in the
// same order with Python's number and string formatting, so
// json.MarshalIndent(doc, "", "  ") of a scaler.json holding it (with HTML
// escaping off) is byte-identical to the Python exporter's output.
type Scaler struct {
	// Class is the scikit-learn class name, for example "MinMaxScaler".
	Class string
	// Kind is the scaler.json kind: scaler.KindMinMax, KindStandard or
	// KindRobust. A MaxAbsScaler is KindStandard with Mean nil: x/scale_
	// is exactly its transform.
	Kind string

	FeatureRange     [2]float64 // minmax
	Clip             bool       // minmax
	DataMin, DataMax []float64  // minmax
	Min              []float64  // minmax
	Mean             []float64  // standard; nil when with_mean=False (and for MaxAbsScaler)
	Center           []float64  // robust; nil when with_centering=False
	// Scale is minmax's, standard's or robust's scale; nil when
	// with_std=False / with_scaling=False.
	Scale []float64

	// FeatureNames is feature_names_in_ (set when the scaler was fitted on
	// a DataFrame), nil otherwise.
	FeatureNames []string
	// NFeaturesIn is n_features_in_, or -1 when the pickle has none (fitted
	// by scikit-learn < 1.0).
	NFeaturesIn int
	// Compression is the joblib compression the file used.
	Compression Compression
}

// NumFeatures is the number of per-feature parameters (the length of the
// first of scale, mean, center and min that is set), or -1 when there are
// none (a StandardScaler with neither mean nor scale): the value
// tools/export_keras.py compares with the model's feature count.
func (s *Scaler) NumFeatures() int {
	for _, v := range [][]float64{s.Scale, s.Mean, s.Center, s.Min} {
		if v != nil {
			return len(v)
		}
	}
	return -1
}

// Scaler returns the scaler package's Scaler for s, parsed from its JSON
// exactly as a bundle's scaler.json is (same validation, same handling of
// zero scales).
func (s *Scaler) Scaler() (scaler.Scaler, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return scaler.ParseScaler(b)
}

// MarshalJSON writes the SCALER object with safe_pickle.scaler_json's keys
// and order, numbers formatted as Python's repr(float).
func (s *Scaler) MarshalJSON() ([]byte, error) {
	b := []byte(`{"kind": `)
	b = pyjson.AppendString(b, s.Kind)
	key := func(k string, v []float64) {
		b = append(append(append(b, `, "`...), k...), `": `...)
		if v == nil {
			b = append(b, "null"...)
			return
		}
		b = append(b, '[')
		for i, f := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pyjson.AppendFloat(b, f)
		}
		b = append(b, ']')
	}
	switch s.Kind {
	case scaler.KindMinMax:
		key("feature_range", s.FeatureRange[:])
		b = append(b, `, "clip": `...)
		b = strconv.AppendBool(b, s.Clip)
		key("data_min", s.DataMin)
		key("data_max", s.DataMax)
		key("scale", s.Scale)
		key("min", s.Min)
	case scaler.KindStandard:
		key("mean", s.Mean)
		key("scale", s.Scale)
	case scaler.KindRobust:
		key("center", s.Center)
		key("scale", s.Scale)
	}
	if s.FeatureNames != nil {
		b = append(b, `, "feature_names": [`...)
		for i, n := range s.FeatureNames {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pyjson.AppendString(b, n)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	if !json.Valid(b) {
		return nil, stateErr("%s: values JSON cannot hold (NaN or Inf)", s.Class)
	}
	return b, nil
}

// fromEstimator is safe_pickle.scaler_json: the unpickled estimator's state
// as a Scaler.
func fromEstimator(v any) (*Scaler, error) {
	e, ok := v.(*estimator)
	if !ok || e.state == nil {
		return nil, stateErr("pickle holds %s, not a fitted %s", typeName(v), orList(sklearnClasses[:]))
	}
	st := e.state
	s := &Scaler{Class: e.class.name, NFeaturesIn: -1}
	where := s.Class
	n := -1
	if nv, ok := st.get("n_features_in_"); ok && nv != nil {
		i, ok := pyIntOf(nv)
		if !ok || i < 0 || i > math.MaxInt32 {
			return nil, stateErr("%s: n_features_in_ is %s, not a feature count", where, typeName(nv))
		}
		n, s.NFeaturesIn = int(i), int(i)
	}
	vec := func(key string) ([]float64, error) { return vecOf(st, key, n, where) }
	flag := func(key string, def bool) (bool, error) {
		v, ok := st.get(key)
		if !ok {
			return def, nil
		}
		t, ok := truthy(v)
		if !ok {
			return false, stateErr("%s: %s is %s, not a flag", where, key, typeName(v))
		}
		return t, nil
	}
	var err error
	switch s.Class {
	case "MinMaxScaler":
		s.Kind = scaler.KindMinMax
		if _, ok := st.get("scale_"); !ok {
			return nil, stateErr("%s: MinMaxScaler is not fitted (no scale_)", where)
		}
		s.FeatureRange = [2]float64{0, 1}
		if fr, ok := st.get("feature_range"); ok {
			if s.FeatureRange, err = rangeOf(fr); err != nil {
				return nil, stateErr("%s: feature_range: %v", where, err)
			}
		}
		if s.Clip, err = flag("clip", false); err != nil {
			return nil, err
		}
		for _, kv := range []struct {
			key string
			dst *[]float64
		}{{"data_min_", &s.DataMin}, {"data_max_", &s.DataMax}, {"scale_", &s.Scale}, {"min_", &s.Min}} {
			if *kv.dst, err = vec(kv.key); err != nil {
				return nil, err
			}
		}
	case "StandardScaler":
		s.Kind = scaler.KindStandard
		withMean, err := flag("with_mean", true)
		if err != nil {
			return nil, err
		}
		withStd, err := flag("with_std", true)
		if err != nil {
			return nil, err
		}
		_, a := st.get("n_samples_seen_")
		_, b := st.get("mean_")
		_, c := st.get("scale_")
		if !a && !b && !c {
			return nil, stateErr("%s: StandardScaler is not fitted", where)
		}
		if withMean {
			if s.Mean, err = vec("mean_"); err != nil {
				return nil, err
			}
		}
		if withStd {
			if s.Scale, err = vec("scale_"); err != nil {
				return nil, err
			}
		}
	case "RobustScaler":
		s.Kind = scaler.KindRobust
		wc, err := flag("with_centering", true)
		if err != nil {
			return nil, err
		}
		ws, err := flag("with_scaling", true)
		if err != nil {
			return nil, err
		}
		if wc {
			if s.Center, err = vec("center_"); err != nil {
				return nil, err
			}
		}
		if ws {
			if s.Scale, err = vec("scale_"); err != nil {
				return nil, err
			}
		}
	case "MaxAbsScaler": // x / scale_, scale_ = max_abs_ with zeros as 1
		s.Kind = scaler.KindStandard
		if _, ok := st.get("scale_"); !ok {
			return nil, stateErr("%s: MaxAbsScaler is not fitted (no scale_)", where)
		}
		if s.Scale, err = vec("scale_"); err != nil {
			return nil, err
		}
	default:
		return nil, stateErr("unsupported scaler %s", e.class.qualname())
	}
	if names, ok := st.get("feature_names_in_"); ok && names != nil {
		if s.FeatureNames, err = namesOf(names); err != nil {
			return nil, stateErr("%s: feature_names_in_: %v", where, err)
		}
	}
	return s, nil
}

func orList(names []string) string {
	out := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			out += " or "
		default:
			out += ", "
		}
		out += n
	}
	return out
}

// pyIntOf is int(v) for the values n_features_in_ may hold.
func pyIntOf(v any) (int64, bool) {
	if i, ok := pyInt(v); ok {
		return i, true
	}
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1<<62 {
			return 0, false
		}
		return int64(x), true
	case *ndarray:
		if x.dt.kind == 'O' || x.count() != 1 {
			return 0, false
		}
		if i, ok := x.intAt(0); ok {
			return i, true
		}
		return pyIntOf(x.floatAt(0))
	}
	return 0, false
}

// pyFloat is float(v) for a number.
func pyFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case *big.Int:
		f, acc := new(big.Float).SetInt(x).Float64()
		if math.IsInf(f, 0) || (acc != big.Exact && math.Abs(f) == math.MaxFloat64) {
			return 0, false
		}
		return f, true
	case *ndarray:
		if x.dt.kind != 'O' && x.count() == 1 {
			return x.floatAt(0), true
		}
	}
	return 0, false
}

func rangeOf(v any) ([2]float64, error) {
	var items []any
	switch x := v.(type) {
	case pyTuple:
		items = x
	case *pyList:
		items = x.items
	case *ndarray:
		if x.dt.kind != 'O' && len(x.shape) == 1 && x.count() >= 2 {
			return [2]float64{x.floatAt(0), x.floatAt(1)}, nil
		}
	}
	if len(items) < 2 {
		return [2]float64{}, stateErr("%s is not a (min, max) pair", typeName(v))
	}
	lo, ok1 := pyFloat(items[0])
	hi, ok2 := pyFloat(items[1])
	if !ok1 || !ok2 {
		return [2]float64{}, stateErr("holds %s and %s, not numbers", typeName(items[0]), typeName(items[1]))
	}
	if math.IsNaN(lo) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) {
		return [2]float64{}, stateErr("holds NaN or Inf")
	}
	return [2]float64{lo, hi}, nil
}

// vecOf is safe_pickle._vec: state[key] as a flat float64 vector of
// n_features_in_ finite values.
func vecOf(st *pyDict, key string, n int, where string) ([]float64, error) {
	v, _ := st.get(key)
	if v == nil {
		return nil, stateErr("%s: missing %s", where, key)
	}
	var out []float64
	switch x := v.(type) {
	case *ndarray:
		if x.dt.kind == 'O' {
			return nil, stateErr("%s: %s has dtype object", where, key)
		}
		idx := x.cOrder()
		out = make([]float64, len(idx))
		for i, j := range idx {
			out[i] = x.floatAt(j)
		}
	case pyTuple, *pyList:
		items, _ := argList(x)
		out = make([]float64, len(items))
		for i, it := range items {
			f, ok := pyNumber(it)
			if !ok {
				return nil, stateErr("%s: %s holds %s", where, key, typeName(it))
			}
			out[i] = f
		}
	default:
		f, ok := pyNumber(v)
		if !ok {
			return nil, stateErr("%s: %s is %s, not numbers", where, key, typeName(v))
		}
		out = []float64{f}
	}
	if n >= 0 && len(out) != n {
		return nil, stateErr("%s: %s has %d values, n_features_in_ is %d", where, key, len(out), n)
	}
	for _, f := range out {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, stateErr("%s: %s holds NaN or Inf", where, key)
		}
	}
	return out, nil
}

// pyNumber is a Python int, float or bool as numpy.asarray would convert
// it (ints beyond int64 are refused: numpy makes them objects).
func pyNumber(v any) (float64, bool) {
	switch v.(type) {
	case float64, int64, bool:
		return pyFloat(v)
	}
	return 0, false
}

// namesOf is [str(x) for x in np.asarray(names).reshape(-1)] for the
// object arrays of str scikit-learn writes.
func namesOf(v any) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case *ndarray:
		if x.dt.kind != 'O' {
			return nil, stateErr("dtype %s, not object", x.dt)
		}
		for _, j := range x.cOrder() {
			items = append(items, x.objs[j])
		}
	case pyTuple:
		items = x
	case *pyList:
		items = x.items
	default:
		return nil, stateErr("%s, not an array of names", typeName(v))
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, stateErr("holds %s, not str", typeName(it))
		}
		out[i] = s
	}
	return out, nil
}
