package skpickle

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
)

// pyWriter writes JSON as Python's json.dumps does (ensure_ascii, floats
// as repr), so that the bytes match tools/seqcast_export's.
type pyWriter struct{ b *bytes.Buffer }

func (w pyWriter) key(k string, v []float64) {
	w.b.WriteString(`, "` + k + `": `)
	if v == nil {
		w.b.WriteString("null")
		return
	}
	w.floats(v)
}

func (w pyWriter) floats(v []float64) {
	w.b.WriteByte('[')
	for i, f := range v {
		if i > 0 {
			w.b.WriteString(", ")
		}
		w.b.WriteString(pyRepr(f))
	}
	w.b.WriteByte(']')
}

// pyRepr is Python's repr(float) for a finite f: the shortest digits that
// round-trip, in fixed notation when the decimal exponent is in [-4, 16),
// else as d.ddde±XX.
func pyRepr(f float64) string {
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exps, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(exps)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits * 10**decpt
	var out string
	switch {
	case f == 0:
		out = "0.0"
	case decpt <= -4 || decpt > 16:
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		e := strconv.Itoa(exp)
		if len(e) < 2 {
			e = "0" + e
		}
		out += "e" + sign + e
	case decpt <= 0:
		out = "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		out = digits[:decpt] + "." + digits[decpt:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// str writes s as json.dumps(s) with ensure_ascii=True.
func (w pyWriter) str(s string) {
	const hex = "0123456789abcdef"
	w.b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			w.b.WriteString(`\"`)
		case r == '\\':
			w.b.WriteString(`\\`)
		case r == '\n':
			w.b.WriteString(`\n`)
		case r == '\r':
			w.b.WriteString(`\r`)
		case r == '\t':
			w.b.WriteString(`\t`)
		case r == '\b':
			w.b.WriteString(`\b`)
		case r == '\f':
			w.b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			w.b.WriteRune(r)
		default:
			units := []rune{r}
			if r > 0xffff {
				a, b := utf16.EncodeRune(r)
				units = []rune{a, b}
			}
			for _, u := range units {
				w.b.WriteString(`\u`)
				for sh := 12; sh >= 0; sh -= 4 {
					w.b.WriteByte(hex[(u>>uint(sh))&0xf])
				}
			}
		}
	}
	w.b.WriteByte('"')
}
