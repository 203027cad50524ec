package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Reformat re-encodes the JSON value in data as Python's
// json.dumps(json.loads(data)) would, keeping the order of object keys.
func Reformat(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	out, err := reformat(nil, dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("pyjson: data after the JSON value")
	}
	return out, nil
}

// maxDepth bounds nesting, as Python's recursion limit does.
const maxDepth = 1000

func reformat(b []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("pyjson: nested more than %d deep", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("pyjson: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		obj := t == '{'
		if obj {
			b = append(b, '{')
		} else {
			b = append(b, '[')
		}
		for first := true; dec.More(); first = false {
			if !first {
				b = append(b, ", "...)
			}
			if obj {
				k, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("pyjson: %w", err)
				}
				b = AppendString(b, k.(string))
				b = append(b, ": "...)
			}
			if b, err = reformat(b, dec, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("pyjson: %w", err)
		}
		if obj {
			return append(b, '}'), nil
		}
		return append(b, ']'), nil
	case string:
		return AppendString(b, t), nil
	case json.Number:
		return AppendNumber(b, string(t))
	case bool:
		if t {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case nil:
		return append(b, "null"...), nil
	}
	return nil, fmt.Errorf("pyjson: unexpected token %v", tok)
}
