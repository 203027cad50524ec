package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/seqcast/seqcast/jsoncodec"
	"github.com/seqcast/seqcast/serving"
)

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
func modelSpec(c *gin.Context, bodyModel string, bodyVer jsoncodec.Version) (string, versionRef, *Error) {
	name := bodyModel
	var ref versionRef
	if bodyVer.Set {
		var e *Error
		if ref, e = parseVersion(bodyVer.Text, bodyVer.Str, ""); e != nil {
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
	if !errors.As(err, &nf) {
		return nil, newErr(http.StatusInternalServerError, CodeInternal, "", "model lookup failed: %v", err)
	}
	return nil, lookupError(nf, ref.text)
}
