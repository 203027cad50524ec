package jsoncodec

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Error is a request array that does not have the shape or the values the
// model takes: Field is the body's key ("historical_prices", "instances"),
// Index the position inside it, outermost first (empty: the whole array).
// Path formats both as a JSON path; the server maps Error to a 422.
type Error struct {
	Field string
	Index []int
	Msg   string
}

// Path is the JSON path of the offending value, for example
// "instances[2][59]".
func (e *Error) Path() string {
	var b strings.Builder
	b.WriteString(e.Field)
	for _, i := range e.Index {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(']')
	}
	return b.String()
}

func (e *Error) Error() string { return e.Path() + ": " + e.Msg }

// Bounds is what a model takes, checked while an array is read.
type Bounds struct {
	Steps    int     // time steps of one window (the model's window)
	Features int     // values per step
	MaxCount int     // most windows in one request (Windows, Tensor)
	MaxAbs   float64 // largest magnitude of a value (finite values only)
}

// MaxEcho is the most bytes of a client's value an error message quotes.
const MaxEcho = 40

// Echo quotes at most MaxEcho bytes of a client's text for a message.
func Echo(text string) string {
	if len(text) > MaxEcho {
		return strconv.Quote(text[:MaxEcho]) + fmt.Sprintf(" (%d bytes, cut)", len(text))
	}
	return strconv.Quote(text)
}

// reader reads one raw array field.
type reader struct {
	scanner
	field string
	lim   Bounds
	idx   [5]int // the position being read
	depth int    // how many of idx are in use
}

func (r *reader) fail(format string, args ...any) *Error {
	return &Error{Field: r.field, Index: append([]int(nil), r.idx[:r.depth]...), Msg: fmt.Sprintf(format, args...)}
}

// what names the JSON value starting at the current position.
func (r *reader) what() string {
	switch c := r.peek(); {
	case c == '[':
		return "an array"
	case c == '{':
		return "an object"
	case c == '"':
		return "a string"
	case c == 'n':
		return "null"
	case c == 't' || c == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// value reads one number at idx[:depth], checking its range.
func (r *reader) value() (float64, *Error) {
	if c := r.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, r.fail("%s: want a number", r.what())
	}
	start := r.i
	v, ok := r.float()
	if !ok {
		end, _ := r.numberEnd()
		if end < 0 {
			end = min(len(r.b), start+MaxEcho+1)
		}
		return 0, r.fail("number %s is out of range: values must be finite with magnitude at most %g", Echo(string(r.b[start:end])), r.lim.MaxAbs)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > r.lim.MaxAbs {
		return 0, r.fail("%s is out of range: values must be finite with magnitude at most %g", Echo(string(r.b[start:r.i])), r.lim.MaxAbs)
	}
	return v, nil
}

// open reads '[' of the array at idx[:depth]; want describes it.
func (r *reader) open(want string) *Error {
	if r.peek() != '[' {
		return r.fail("%s: want %s", r.what(), want)
	}
	r.i++
	return nil
}

// next is called after an element: it reads ',' (true: another element
// follows) or ']' (false).
func (r *reader) next() (bool, *Error) {
	switch {
	case r.eat(','):
		return true, nil
	case r.eat(']'):
		return false, nil
	}
	return false, r.fail("malformed array")
}

// empty reads ']' if the array just opened is empty.
func (r *reader) empty() bool { return r.eat(']') }

func newReader(raw []byte, field string, b Bounds) *reader {
	return &reader{scanner: scanner{b: raw}, field: field, lim: b}
}

// Absent reports whether a raw array field was left out or sent as null.
func Absent(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// series reads an array of numbers at idx[:depth] keeping the last
// len(ring) of them in order in ring; it returns how many there were.
func (r *reader) series(ring []float64, want string) (int, *Error) {
	if e := r.open(want); e != nil {
		return 0, e
	}
	n := len(ring)
	r.depth++
	defer func() { r.depth-- }()
	if r.empty() {
		return 0, nil
	}
	count := 0
	for {
		r.idx[r.depth-1] = count
		v, e := r.value()
		if e != nil {
			return 0, e
		}
		ring[count%n] = v
		count++
		more, e := r.next()
		if e != nil {
			return 0, e
		}
		if !more {
			break
		}
	}
	rotate(ring, count, 1)
	return count, nil
}

// rotate puts a ring of rows of width w, written round-robin count times,
// in order (oldest first).
func rotate(ring []float64, count, w int) {
	rows := len(ring) / w
	if count <= rows {
		return
	}
	k := (count % rows) * w
	tmp := make([]float64, k)
	copy(tmp, ring[:k])
	copy(ring, ring[k:])
	copy(ring[len(ring)-k:], tmp)
}

// rows reads an array of rows of exactly Features numbers at idx[:depth],
// keeping the last len(ring)/Features rows in ring; it returns how many rows
// there were.
func (r *reader) rows(ring []float64, want string) (int, *Error) {
	F := r.lim.Features
	if e := r.open(want); e != nil {
		return 0, e
	}
	n := len(ring) / F
	r.depth++
	defer func() { r.depth-- }()
	if r.empty() {
		return 0, nil
	}
	count := 0
	for {
		r.idx[r.depth-1] = count
		if e := r.row(ring[(count%n)*F:][:F]); e != nil {
			return 0, e
		}
		count++
		more, e := r.next()
		if e != nil {
			return 0, e
		}
		if !more {
			break
		}
	}
	rotate(ring, count, F)
	return count, nil
}

// row reads one row of exactly len(dst) numbers at idx[:depth].
func (r *reader) row(dst []float64) *Error {
	F := len(dst)
	if e := r.open(fmt.Sprintf("an array of %d features", F)); e != nil {
		return e
	}
	r.depth++
	j := 0
	if !r.empty() {
		for {
			if j == F {
				r.depth--
				return r.fail("more than %d features: the model takes %d", F, F)
			}
			r.idx[r.depth-1] = j
			v, e := r.value()
			if e != nil {
				return e
			}
			dst[j] = v
			j++
			more, e := r.next()
			if e != nil {
				return e
			}
			if !more {
				break
			}
		}
	}
	r.depth--
	if j != F {
		return r.fail("%d features: the model takes %d", j, F)
	}
	return nil
}

// Series reads a univariate series (an array of at least b.Steps numbers)
// and returns its last b.Steps values; a longer history costs no more
// memory than a window.
func Series(raw []byte, field string, b Bounds) ([]float64, error) {
	w, _, err := SeriesCount(raw, field, b)
	return w, err
}

// Rows reads a multivariate window (an array of at least b.Steps rows of
// b.Features numbers) and returns its last b.Steps rows, flat.
func Rows(raw []byte, field string, b Bounds) ([]float64, error) {
	w, _, err := RowsCount(raw, field, b)
	return w, err
}

// Multivariate reports whether a raw batch holds multivariate windows
// (arrays of rows: three levels of arrays) rather than univariate ones.
func Multivariate(raw []byte) bool {
	depth := 0
	for _, c := range raw {
		switch c {
		case '[':
			if depth++; depth == 3 {
				return true
			}
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return false
}

// Windows reads a batch: an array of 1 to b.MaxCount windows, each a series
// of at least b.Steps numbers (multi false) or of at least b.Steps rows of
// b.Features numbers (multi true), keeping the last b.Steps of each. It
// fails at the first window past b.MaxCount, before reading it.
func Windows(raw []byte, field string, multi bool, b Bounds) ([][]float64, error) {
	r := newReader(raw, field, b)
	if e := r.open(fmt.Sprintf("an array of 1 to %d windows", b.MaxCount)); e != nil {
		return nil, e
	}
	if r.empty() {
		return nil, r.fail("0 windows: send 1 to %d", b.MaxCount)
	}
	w := b.Steps
	if multi {
		w *= b.Features
	}
	var out [][]float64
	var flat []float64
	for i := 0; ; i++ {
		if i == b.MaxCount {
			return nil, r.fail("more than %d windows: send 1 to %d", b.MaxCount, b.MaxCount)
		}
		if len(flat)+w > cap(flat) {
			flat = make([]float64, 0, min(max(2*cap(flat), 8*w), b.MaxCount*w))
		}
		ring := flat[len(flat) : len(flat)+w]
		flat = flat[:len(flat)+w]
		r.idx[0], r.depth = i, 1
		var n int
		var e *Error
		if multi {
			n, e = r.rows(ring, fmt.Sprintf("an array of at least %d rows of %d features", b.Steps, b.Features))
		} else {
			n, e = r.series(ring, fmt.Sprintf("an array of at least %d numbers", b.Steps))
		}
		if e != nil {
			return nil, e
		}
		if n < b.Steps {
			if multi {
				return nil, r.fail("need at least %d rows of %d features (the model's window), got %d rows", b.Steps, b.Features, n)
			}
			return nil, r.fail("need at least %d values (the model's window), got %d", b.Steps, n)
		}
		out = append(out, ring)
		r.depth = 0
		more, e := r.next()
		if e != nil {
			return nil, e
		}
		if !more {
			return out, nil
		}
	}
}

// Tensor reads TensorFlow Serving's instances (or inputs): 1 to b.MaxCount
// samples of exactly b.Steps steps of b.Features values, (N, T, F) nested
// lists, or (N, T) when b.Features is 1, into a flat float32 batch; it
// returns the batch and N. It fails at the first value past a bound, before
// reading it.
func Tensor(raw []byte, field string, b Bounds) ([]float32, int, error) {
	r := newReader(raw, field, b)
	T, F := b.Steps, b.Features
	shape := fmt.Sprintf("(N, %d, %d) nested lists of numbers", T, F)
	if e := r.open(shape); e != nil {
		return nil, 0, e
	}
	if r.empty() {
		return nil, 0, r.fail("0 instances: send 1 to %d", b.MaxCount)
	}
	var x []float32
	row := make([]float64, F)
	flat2 := false // (N, T) with F == 1
	for i := 0; ; i++ {
		if i == b.MaxCount {
			return nil, 0, r.fail("more than %d instances: send 1 to %d", b.MaxCount, b.MaxCount)
		}
		if len(x)+T*F > cap(x) {
			nx := make([]float32, len(x), min(max(2*cap(x), 8*T*F), b.MaxCount*T*F))
			copy(nx, x)
			x = nx
		}
		r.idx[0], r.depth = i, 1
		if e := r.open(fmt.Sprintf("%d time steps of %d features", T, F)); e != nil {
			return nil, 0, e
		}
		r.depth = 2
		t := 0
		if !r.empty() {
			for {
				if t == T {
					r.depth = 1
					return nil, 0, r.fail("more than %d time steps: the model takes exactly %d", T, T)
				}
				r.idx[1] = t
				if i == 0 && t == 0 {
					flat2 = F == 1 && r.peek() != '['
				}
				if flat2 {
					v, e := r.value()
					if e != nil {
						return nil, 0, e
					}
					row[0] = v
				} else if e := r.row(row); e != nil {
					return nil, 0, e
				}
				for _, v := range row {
					x = append(x, float32(v))
				}
				t++
				more, e := r.next()
				if e != nil {
					return nil, 0, e
				}
				if !more {
					break
				}
			}
		}
		r.depth = 1
		if t != T {
			return nil, 0, r.fail("%d time steps: the model takes exactly %d", t, T)
		}
		r.depth = 0
		more, e := r.next()
		if e != nil {
			return nil, 0, e
		}
		if !more {
			return x, i + 1, nil
		}
	}
}
