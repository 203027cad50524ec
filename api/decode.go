package api

import (
	"bytes"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxPooledBody is the largest body buffer kept for reuse; bigger ones (large
// batches) go back to the garbage collector so that one burst of big requests
// does not pin memory.
const maxPooledBody = 64 << 10

// readBody checks the content type and size and reads the body into a pooled
// buffer; call release when done with the bytes. Accepted content types:
// application/json, any application/*+json, none at all, and
// application/x-www-form-urlencoded (what `curl -d` sends by default; the
// body is still read as JSON).
func (s *Server) readBody(c *gin.Context) (body []byte, release func(), e *Error) {
	if ct := c.Request.Header["Content-Type"]; len(ct) > 0 && ct[0] != "" && ct[0] != "application/json" {
		mt, _, err := mime.ParseMediaType(ct[0])
		if err != nil || !(mt == "application/json" || mt == "application/x-www-form-urlencoded" ||
			(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
			return nil, nil, newErr(http.StatusUnsupportedMediaType, CodeMediaType, "", "content type %q: send application/json", ct[0])
		}
	}
	cl := c.Request.ContentLength
	if cl > s.cfg.BodyLimit {
		return nil, nil, newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body of %d bytes exceeds the limit of %d bytes", cl, s.cfg.BodyLimit)
	}
	buf, _ := s.bodies.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	release = func() {
		if buf.Cap() <= maxPooledBody {
			buf.Reset()
			s.bodies.Put(buf)
		}
	}
	var rd io.Reader
	if cl >= 0 {
		// The server stops the body at Content-Length, which is within the
		// limit; the check below still catches a body longer than announced.
		buf.Grow(int(cl) + bytes.MinRead)
		rd = io.LimitReader(c.Request.Body, s.cfg.BodyLimit+1)
	} else {
		rd = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.BodyLimit)
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		release()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body exceeds the limit of %d bytes", s.cfg.BodyLimit)
		}
		return nil, nil, newErr(http.StatusBadRequest, CodeBadRequest, "", "reading the body: %v", err)
	}
	if int64(buf.Len()) > s.cfg.BodyLimit {
		release()
		return nil, nil, newErr(http.StatusRequestEntityTooLarge, CodeTooLarge, "", "body exceeds the limit of %d bytes", s.cfg.BodyLimit)
	}
	body = buf.Bytes()
	if len(bytes.TrimSpace(body)) == 0 {
		release()
		return nil, nil, newErr(http.StatusBadRequest, CodeBadJSON, "", "empty body: send a JSON object")
	}
	return body, release, nil
}

// readJSON reads the body (see readBody) and decodes it into dst with
// encoding/json.
func (s *Server) readJSON(c *gin.Context, dst any) *Error {
	body, release, e := s.readBody(c)
	if e != nil {
		return e
	}
	defer release()
	return unmarshal(body, dst)
}

// The fast decoders below read the common shapes of the prediction bodies
// without reflection: one JSON object whose keys are all known, each given
// once, with plain numbers in the arrays, an integer for horizon, a plain
// ASCII string for model and a number or plain ASCII string for
// model_version. Anything else (null, unknown or repeated keys, escapes,
// nesting they do not expect, numbers out of range, trailing data) makes them
// give up, and encoding/json decodes the body instead: so every error, and
// every unusual but valid body, gets exactly encoding/json's answer, and the
// fast path only ever accepts bodies encoding/json would decode to the same
// values.

// scanner walks a JSON text.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// numberEnd returns the end of the JSON number starting at s.i, and whether
// it has a fraction or exponent; end is -1 if the grammar does not match.
func (s *scanner) numberEnd() (end int, frac bool) {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return -1, false
	}
	if i < len(b) && b[i] == '.' {
		frac = true
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return -1, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		frac = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return -1, false
		}
	}
	return i, frac
}

// float reads a number as encoding/json does (strconv.ParseFloat, correctly
// rounded). Plain decimals of at most 15 significant digits without an
// exponent, what clients send, take Clinger's exact fast path on the spot
// (an integer below 2^53 divided by an exact power of ten, as strconv's own
// fast path does); anything else goes through strconv.ParseFloat.
func (s *scanner) float() (float64, bool) {
	s.ws()
	b, i := s.b, s.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	nd, frac := 0, 0
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			mant = mant*10 + uint64(b[i]-'0')
			nd++
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			mant = mant*10 + uint64(b[i]-'0')
			nd++
			frac++
			i++
		}
		if i == j {
			return 0, false
		}
	}
	if nd <= 15 && !(i < len(b) && (b[i] == 'e' || b[i] == 'E')) {
		v := float64(mant) / math.Pow10(frac)
		if neg {
			v = -v
		}
		s.i = i
		return v, true
	}
	end, _ := s.numberEnd()
	if end < 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(s.b[s.i:end]), 64)
	if err != nil {
		return 0, false
	}
	s.i = end
	return v, true
}

// integer reads a number without fraction or exponent that fits in bits.
func (s *scanner) integer(bits int) (int64, bool) {
	s.ws()
	end, frac := s.numberEnd()
	if end < 0 || frac {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s.b[s.i:end]), 10, bits)
	if err != nil {
		return 0, false
	}
	s.i = end
	return v, true
}

// plain reads a string of printable ASCII without escapes.
func (s *scanner) plain() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	j := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[j : s.i-1], true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// version reads model_version written as a number or a plain string, as
// jsonVersion.UnmarshalJSON would.
func (s *scanner) version(v *jsonVersion) bool {
	if s.peek() == '"' {
		text, ok := s.plain()
		*v = jsonVersion{set: true, str: true, text: string(text)}
		return ok
	}
	end, _ := s.numberEnd()
	if end < 0 {
		return false
	}
	*v = jsonVersion{set: true, text: string(s.b[s.i:end])}
	s.i = end
	return true
}

// floats reads a flat array of numbers, appending to vals.
func (s *scanner) floats(vals []float64) ([]float64, bool) {
	if !s.eat('[') {
		return nil, false
	}
	if s.eat(']') {
		return vals, true
	}
	for {
		v, ok := s.float()
		if !ok {
			return nil, false
		}
		vals = append(vals, v)
		if s.eat(',') {
			continue
		}
		return vals, s.eat(']')
	}
}

// nested reads depth levels of arrays (1: [n, ...], 2: [[n, ...], ...], 3:
// ...) of numbers into vals, recording each innermost array's end offset in
// ends and each level-2 array's count of innermost arrays in counts.
func (s *scanner) nested(depth int, vals []float64, ends, counts []int) ([]float64, []int, []int, bool) {
	if depth == 1 {
		vals, ok := s.floats(vals)
		return vals, append(ends, len(vals)), counts, ok
	}
	if !s.eat('[') {
		return nil, nil, nil, false
	}
	n := 0
	if !s.eat(']') {
		for {
			var ok bool
			if vals, ends, counts, ok = s.nested(depth-1, vals, ends, counts); !ok {
				return nil, nil, nil, false
			}
			n++
			if s.eat(',') {
				continue
			}
			if !s.eat(']') {
				return nil, nil, nil, false
			}
			break
		}
	}
	if depth == 2 {
		counts = append(counts, n)
	}
	return vals, ends, counts, true
}

// ptrs points into vals: the []*float64 encoding/json would have made, with
// two allocations instead of one per value.
func ptrs(vals []float64) []*float64 {
	p := make([]*float64, len(vals))
	for i := range vals {
		p[i] = &vals[i]
	}
	return p
}

// rows splits flat pointers at ends into rows.
func rows(p []*float64, ends []int) [][]*float64 {
	out := make([][]*float64, len(ends))
	start := 0
	for i, e := range ends {
		out[i] = p[start:e:e]
		start = e
	}
	return out
}

// object walks one JSON object, calling field for each key; it fails on a
// repeated key (keys are indexed in known; unknown keys fail too).
func (s *scanner) object(known []string, field func(k int) bool) bool {
	if !s.eat('{') {
		return false
	}
	var seen uint32
	if s.eat('}') {
		return s.end()
	}
	for {
		key, ok := s.plain()
		if !ok || !s.eat(':') {
			return false
		}
		k := -1
		for i, name := range known {
			if string(key) == name {
				k = i
				break
			}
		}
		if k < 0 || seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		if !field(k) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}') && s.end()
	}
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

var predictKeys = []string{"historical_prices", "window", "horizon", "model", "model_version"}

// fastPredict decodes a /predict body's common shape into req (see above);
// false means: decode it with encoding/json.
func fastPredict(b []byte, req *predictRequest) bool {
	s := scanner{b: b}
	return s.object(predictKeys, func(k int) bool {
		switch k {
		case 0:
			vals, ok := s.floats(make([]float64, 0, 64))
			if ok {
				req.HistoricalPrices = ptrs(vals)
			}
			return ok
		case 1:
			vals, ends, _, ok := s.nested(2, nil, nil, nil)
			if ok {
				req.Window = rows(ptrs(vals), ends)
			}
			return ok
		case 2:
			v, ok := s.integer(strconv.IntSize)
			h := int(v)
			req.Horizon = &h
			return ok
		case 3:
			v, ok := s.plain()
			req.Model = string(v)
			return ok
		default:
			return s.version(&req.ModelVersion)
		}
	})
}

var batchKeys = []string{"instances", "horizon", "model", "model_version"}

// fastBatch decodes a /predict/batch body's common shape into req: instances
// of univariate windows (2 levels) or of multivariate windows (3 levels).
func fastBatch(b []byte, req *batchRequest) bool {
	s := scanner{b: b}
	return s.object(batchKeys, func(k int) bool {
		switch k {
		case 0:
			// Find the depth: count the opening brackets.
			depth := 0
		scan:
			for j := s.i; j < len(s.b) && depth < 4; j++ {
				switch s.b[j] {
				case '[':
					depth++
				case ' ', '\t', '\n', '\r':
				default:
					break scan
				}
			}
			switch depth {
			case 2:
				vals, ends, _, ok := s.nested(2, nil, nil, nil)
				if ok {
					req.Instances = rows(ptrs(vals), ends)
				}
				return ok
			case 3:
				vals, ends, counts, ok := s.nested(3, nil, nil, nil)
				if ok {
					r := rows(ptrs(vals), ends)
					req.Windows = make([][][]*float64, len(counts))
					start := 0
					for i, n := range counts {
						req.Windows[i] = r[start : start+n : start+n]
						start += n
					}
				}
				return ok
			}
			return false
		case 1:
			v, ok := s.integer(strconv.IntSize)
			h := int(v)
			req.Horizon = &h
			return ok
		case 2:
			v, ok := s.plain()
			req.Model = string(v)
			return ok
		default:
			return s.version(&req.ModelVersion)
		}
	})
}
