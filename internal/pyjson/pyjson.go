package pyjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// AppendFloat appends Python's repr(f) for a finite f: the shortest digits
// that round-trip, in fixed notation when the decimal exponent is in
// [-4, 16), else as d.ddde±XX. NaN and ±Inf, which json.dumps would write
// as NaN and Infinity, are written that way too.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	mant, exps, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(exps)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits * 10**decpt
	switch {
	case decpt <= -4 || decpt > 16:
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b, exp = append(b, '-'), -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	case decpt <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -decpt)...)
		return append(b, digits...)
	case decpt >= len(digits):
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", decpt-len(digits))...)
		return append(b, ".0"...)
	default:
		b = append(b, digits[:decpt]...)
		b = append(b, '.')
		return append(b, digits[decpt:]...)
	}
}

// AppendString appends json.dumps(s) with ensure_ascii=True: every
// character outside ' '..'~' escaped, as \uXXXX (surrogate pairs above
// U+FFFF) unless it has a short escape.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r >= 0x20 && r <= 0x7e:
			b = append(b, byte(r))
		default:
			units := []rune{r}
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				units = []rune{hi, lo}
			}
			for _, u := range units {
				b = append(b, '\\', 'u', hex[u>>12&15], hex[u>>8&15], hex[u>>4&15], hex[u&15])
			}
		}
	}
	return append(b, '"')
}

// AppendNumber appends a JSON number literal as json.dumps(json.loads(lit))
// writes it: an integer unchanged (but "-0" as "0"), anything with a
// fraction or exponent as the repr of the float it denotes.
func AppendNumber(b []byte, lit string) ([]byte, error) {
	if !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" {
			return append(b, '0'), nil
		}
		return append(b, lit...), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("number %s: %w", lit, err)
	}
	return AppendFloat(b, f), nil
}

// Member is a top-level object member Reformat sets: Key to Value, which
// must already be JSON as this package writes it.
type Member struct {
	Key   string
	Value []byte
}

// Reformat re-encodes the JSON value in data as Python's
// json.dumps(json.loads(data)) would, keeping the order of object keys.
// When data is an object, each of set is then done as Python's d[key] =
// value: in place when the key is there, appended otherwise.
func Reformat(data []byte, set ...Member) ([]byte, error) {
	if !json.Valid(data) {
		return nil, errors.New("pyjson: not valid JSON")
	}
	r := &reformatter{data: data, set: set}
	return r.value(make([]byte, 0, len(data)+len(data)/8), 0)
}

// maxDepth bounds nesting, as Python's recursion limit does.
const maxDepth = 1000

// reformatter walks JSON that json.Valid accepted.
type reformatter struct {
	data []byte
	i    int
	set  []Member
}

func (r *reformatter) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *reformatter) value(b []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("pyjson: nested more than %d deep", maxDepth)
	}
	r.space()
	switch c := r.data[r.i]; c {
	case '{', '[':
		return r.container(b, depth)
	case '"':
		return r.str(b)
	case 't':
		r.i += 4
		return append(b, "true"...), nil
	case 'f':
		r.i += 5
		return append(b, "false"...), nil
	case 'n':
		r.i += 4
		return append(b, "null"...), nil
	}
	start := r.i
	for r.i < len(r.data) && strings.IndexByte("+-0123456789.eE", r.data[r.i]) >= 0 {
		r.i++
	}
	return AppendNumber(b, string(r.data[start:r.i]))
}

func (r *reformatter) container(b []byte, depth int) ([]byte, error) {
	obj := r.data[r.i] == '{'
	end := byte(']')
	if obj {
		end = '}'
	}
	b = append(b, r.data[r.i])
	r.i++
	var done []bool // which of r.set this object has set in place
	if obj && depth == 0 {
		done = make([]bool, len(r.set))
	}
	first := true
	var err error
	for {
		r.space()
		if r.data[r.i] == end {
			r.i++
			break
		}
		if r.data[r.i] == ',' {
			r.i++
			r.space()
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		if obj {
			keyAt := len(b)
			if b, err = r.str(b); err != nil {
				return nil, err
			}
			r.space()
			r.i++ // ':'
			b = append(b, ": "...)
			if k := r.setIndex(b[keyAt:len(b)-2], done); k >= 0 {
				if _, err = r.value(nil, depth+1); err != nil { // skip the stored value
					return nil, err
				}
				b, done[k] = append(b, r.set[k].Value...), true
				continue
			}
		}
		if b, err = r.value(b, depth+1); err != nil {
			return nil, err
		}
	}
	if done != nil {
		for k, m := range r.set {
			if done[k] {
				continue
			}
			if !first {
				b = append(b, ", "...)
			}
			first = false
			b = AppendString(b, m.Key)
			b = append(append(b, ": "...), m.Value...)
		}
	}
	return append(b, end), nil
}

// setIndex is the index in r.set of the key just written (as JSON), -1
// when it is not one of them or not at the top level.
func (r *reformatter) setIndex(key []byte, done []bool) int {
	if done == nil {
		return -1
	}
	for k, m := range r.set {
		if string(AppendString(nil, m.Key)) == string(key) {
			return k
		}
	}
	return -1
}

// str copies a string token, re-escaped as json.dumps escapes it.
func (r *reformatter) str(b []byte) ([]byte, error) {
	start := r.i
	plain := true
	for r.i++; r.data[r.i] != '"'; r.i++ {
		c := r.data[r.i]
		if c == '\\' {
			plain = false
			r.i++
		} else if c < 0x20 || c > 0x7e {
			plain = false
		}
	}
	r.i++
	tok := r.data[start:r.i]
	if plain {
		return append(b, tok...), nil
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return nil, fmt.Errorf("pyjson: %w", err)
	}
	return AppendString(b, s), nil
}
