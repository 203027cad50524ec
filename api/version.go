package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/serving"
)

// jsonVersion is "model_version" in a request body as the client wrote it: a
// JSON number (2, 2.0) or a string ("2", "2.0", "canary"). It is read only in
// modelSpec, so that a value of the wrong type is a 422 naming the field, not
// a decoding error.
type jsonVersion struct {
	set  bool
	str  bool   // written as a JSON string
	text string // the string's content, else the JSON text of the value
}

// UnmarshalJSON keeps the value as written; null means absent.
func (v *jsonVersion) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*v = jsonVersion{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = jsonVersion{set: true, str: true, text: s}
	default:
		*v = jsonVersion{set: true, text: string(b)}
	}
	return nil
}

// versionRef is a parsed model_version: a version number or a label (or
// neither: the model's default version).
type versionRef struct {
	num   int64
	label string
	text  string // as the client wrote it, for messages
}

func (r versionRef) set() bool { return r.num != 0 || r.label != "" }

func (r versionRef) same(o versionRef) bool { return r.num == o.num && r.label == o.label }

// maxExactVersion is the largest integer a float64 holds exactly.
const maxExactVersion = 1 << 53

const versionForms = `a positive integer (2, "2" or "2.0") or a version label`

// parseVersion reads a model_version: text is a JSON number, or the content
// of a JSON string or query parameter (str). A number (as a number or in a
// string) must be a positive integer, 2.0 counting as 2; any other string is
// a version label, looked up later.
func parseVersion(text string, str bool, where string) (versionRef, *Error) {
	ref := versionRef{text: text}
	if !isJSONNumber(text) {
		if !str || text == "" {
			return ref, invalid("model_version", "%s%s: want %s", quoteShort(text), where, versionForms)
		}
		ref.label = text
		return ref, nil
	}
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		ref.num = v
	} else if f, err := strconv.ParseFloat(text, 64); err == nil && f == math.Trunc(f) && math.Abs(f) <= maxExactVersion {
		ref.num = int64(f)
	}
	if ref.num <= 0 {
		return versionRef{text: text}, invalid("model_version", "%s%s: want %s", quoteShort(text), where, versionForms)
	}
	return ref, nil
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// quoteShort quotes s for a message, cut to 40 bytes.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

// modelSpec merges the model and version a prediction request names in its
// body with those in its query string (?model=NAME&model_version=V). Either
// place may name them; both may if they agree, else it is a 422 naming the
// field.
func modelSpec(c *gin.Context, bodyModel string, bodyVer jsonVersion) (string, versionRef, *Error) {
	name := bodyModel
	var ref versionRef
	if bodyVer.set {
		var e *Error
		if ref, e = parseVersion(bodyVer.text, bodyVer.str, ""); e != nil {
			return "", ref, e
		}
	}
	if c.Request.URL.RawQuery == "" {
		return name, ref, nil
	}
	q := c.Request.URL.Query()
	if vals, ok := q["model"]; ok {
		switch {
		case len(vals) > 1:
			return "", ref, invalid("model", "given %d times in the query string: give it once", len(vals))
		case vals[0] == "":
			return "", ref, invalid("model", "empty in the query string: give a model name")
		case name != "" && name != vals[0]:
			return "", ref, invalid("model", "the query string says %s and the body says %s: give one, or the same in both",
				quoteShort(vals[0]), quoteShort(name))
		}
		name = vals[0]
	}
	if vals, ok := q["model_version"]; ok {
		if len(vals) > 1 {
			return "", ref, invalid("model_version", "given %d times in the query string: give it once", len(vals))
		}
		qref, e := parseVersion(vals[0], true, " (query string)")
		if e != nil {
			return "", ref, e
		}
		if ref.set() && !ref.same(qref) {
			return "", ref, invalid("model_version", "the query string says %s and the body says %s: give one, or the same in both",
				quoteShort(qref.text), quoteShort(ref.text))
		}
		ref = qref
	}
	return name, ref, nil
}

// lookup finds the model a prediction request names.
func (s *Server) lookup(name string, ref versionRef) (*serving.Model, *Error) {
	var m *serving.Model
	var err error
	if ref.label != "" {
		m, err = s.reg.GetLabel(name, ref.label)
	} else {
		m, err = s.reg.Get(name, ref.num)
	}
	if err == nil {
		return m, nil
	}
	var nf *serving.NotFoundError
	switch {
	case !errors.As(err, &nf):
		return nil, newErr(http.StatusInternalServerError, CodeInternal, "", "model lookup failed: %v", err)
	case nf.Label != "":
		return nil, invalid("model_version", "%s is not a version number (%s) nor a version label of model %q (labels: %s)",
			quoteShort(ref.text), `2, "2" or "2.0"`, nf.Model, nf.Served)
	case nf.Version != 0:
		return nil, newErr(http.StatusNotFound, CodeNotFound, "model_version", "model %q has no version %d (versions: %s)", nf.Model, nf.Version, nf.Served)
	}
	return nil, newErr(http.StatusNotFound, CodeNotFound, "model", "model %q is not served (serving %s)", nf.Model, nf.Served)
}
