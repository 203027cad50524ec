package jsoncodec

import (
	"encoding/json"
	"strconv"
)

// The request bodies are read in two steps. Decode* reads the object: the
// scalar fields (horizon, model, model_version) are decoded, the array fields
// are kept as the raw JSON text of their value (json.RawMessage) without
// reading a single number. The caller then knows which model the request is
// for, hence the shape it may send, and reads each array with Series, Rows,
// Windows or Tensor, which check that shape while they read.
//
// Decode* first tries a hand-written walk of the common shape: one JSON
// object whose keys are all known, each given once, arrays holding only
// numbers and arrays, an integer for horizon, a plain ASCII string for model
// and a number or plain ASCII string for model_version; its raw arrays are
// slices of the body, nothing is copied. Anything else (null, unknown or
// repeated keys, escapes, numbers out of range, trailing data) goes to
// encoding/json, which decodes into the same struct: so every error, and
// every unusual but valid body, gets exactly encoding/json's answer, and the
// fast walk only ever accepts bodies encoding/json decodes to the same
// values (FuzzFastDecoders). Neither path allocates per array value: the
// fallback copies each raw array once.

// Version is "model_version" in a request body as the client wrote it: a
// JSON number (2, 2.0) or a string ("2", "2.0", "canary"). It is read later
// (by the server, which knows the labels), so that a value of the wrong type
// is a 422 naming the field, not a decoding error.
type Version struct {
	Set  bool
	Str  bool   // written as a JSON string
	Text string // the string's content, else the JSON text of the value
}

// UnmarshalJSON keeps the value as written; null means absent.
func (v *Version) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*v = Version{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = Version{Set: true, Str: true, Text: s}
	default:
		*v = Version{Set: true, Text: string(b)}
	}
	return nil
}

// Predict is POST /predict's body: a univariate model takes
// historical_prices (read with Series); any model takes window (rows of
// features, raw units, read with Rows).
type Predict struct {
	HistoricalPrices json.RawMessage `json:"historical_prices"`
	Window           json.RawMessage `json:"window"`
	Horizon          *int            `json:"horizon"`
	Model            string          `json:"model"`
	ModelVersion     Version         `json:"model_version"`
}

// Batch is POST /predict/batch's body: instances are univariate windows
// (arrays of numbers) or multivariate ones (arrays of rows), read with
// Windows.
type Batch struct {
	Instances    json.RawMessage `json:"instances"`
	Horizon      *int            `json:"horizon"`
	Model        string          `json:"model"`
	ModelVersion Version         `json:"model_version"`
}

// TFPredict is TensorFlow Serving's :predict body, row ("instances") or
// columnar ("inputs") format, read with Tensor.
type TFPredict struct {
	SignatureName string          `json:"signature_name"`
	Instances     json.RawMessage `json:"instances"`
	Inputs        json.RawMessage `json:"inputs"`
}

var (
	predictKeys = []string{"historical_prices", "window", "horizon", "model", "model_version"}
	batchKeys   = []string{"instances", "horizon", "model", "model_version"}
	tfKeys      = []string{"signature_name", "instances", "inputs"}
)

// DecodePredict decodes a /predict body; its error is encoding/json's.
func DecodePredict(b []byte) (Predict, error) {
	var req Predict
	if fastPredict(b, &req) {
		return req, nil
	}
	req = Predict{}
	err := json.Unmarshal(b, &req)
	return req, err
}

// DecodeBatch decodes a /predict/batch body; its error is encoding/json's.
func DecodeBatch(b []byte) (Batch, error) {
	var req Batch
	if fastBatch(b, &req) {
		return req, nil
	}
	req = Batch{}
	err := json.Unmarshal(b, &req)
	return req, err
}

// DecodeTFPredict decodes a TF Serving :predict body; its error is
// encoding/json's.
func DecodeTFPredict(b []byte) (TFPredict, error) {
	var req TFPredict
	if fastTF(b, &req) {
		return req, nil
	}
	req = TFPredict{}
	err := json.Unmarshal(b, &req)
	return req, err
}

func fastPredict(b []byte, req *Predict) bool {
	s := scanner{b: b}
	return s.object(predictKeys, func(k int) bool {
		switch k {
		case 0:
			return s.array(&req.HistoricalPrices)
		case 1:
			return s.array(&req.Window)
		case 2:
			return s.horizon(&req.Horizon)
		case 3:
			return s.str(&req.Model)
		default:
			return s.version(&req.ModelVersion)
		}
	})
}

func fastBatch(b []byte, req *Batch) bool {
	s := scanner{b: b}
	return s.object(batchKeys, func(k int) bool {
		switch k {
		case 0:
			return s.array(&req.Instances)
		case 1:
			return s.horizon(&req.Horizon)
		case 2:
			return s.str(&req.Model)
		default:
			return s.version(&req.ModelVersion)
		}
	})
}

func fastTF(b []byte, req *TFPredict) bool {
	s := scanner{b: b}
	return s.object(tfKeys, func(k int) bool {
		switch k {
		case 0:
			return s.str(&req.SignatureName)
		case 1:
			return s.array(&req.Instances)
		default:
			return s.array(&req.Inputs)
		}
	})
}

// maxFastDepth is the deepest nesting of arrays the fast walk takes.
const maxFastDepth = 8

// array records the raw text of an array holding only numbers and arrays
// (at most maxFastDepth deep), as a slice of the body.
func (s *scanner) array(dst *json.RawMessage) bool {
	if s.peek() != '[' {
		return false
	}
	start, depth := s.i, 0
	for {
		switch s.peek() {
		case '[':
			if depth++; depth > maxFastDepth {
				return false
			}
			s.i++
			if s.peek() == ']' {
				break
			}
			continue
		case 0:
			return false
		default:
			end, _ := s.numberEnd()
			if end < 0 {
				return false
			}
			s.i = end
		}
		// after a value: ',' then a value, or ']' closing arrays.
		for {
			if s.eat(',') {
				if s.peek() == ']' {
					return false
				}
				break
			}
			if !s.eat(']') {
				return false
			}
			if depth--; depth == 0 {
				*dst = json.RawMessage(s.b[start:s.i:s.i])
				return true
			}
		}
	}
}

func (s *scanner) horizon(dst **int) bool {
	v, ok := s.integer(strconv.IntSize)
	h := int(v)
	*dst = &h
	return ok
}

func (s *scanner) str(dst *string) bool {
	v, ok := s.plain()
	*dst = string(v)
	return ok
}

// version reads model_version written as a number or a plain string, as
// Version.UnmarshalJSON would.
func (s *scanner) version(v *Version) bool {
	if s.peek() == '"' {
		text, ok := s.plain()
		*v = Version{Set: true, Str: true, Text: string(text)}
		return ok
	}
	end, _ := s.numberEnd()
	if end < 0 {
		return false
	}
	*v = Version{Set: true, Text: string(s.b[s.i:end])}
	s.i = end
	return true
}
