package jsoncodec

import (
	"math"
	"strconv"
)

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
