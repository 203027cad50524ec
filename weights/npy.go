package weights

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// maxHeaderLen bounds the .npy header a reader accepts. Real headers are
// under 200 bytes; the bound stops a hostile file from making the reader
// allocate gigabytes for a header.
const maxHeaderLen = 1 << 16

// NPYHeader is what a .npy header says about the array that follows it.
type NPYHeader struct {
	DType   string // numpy type string without quotes: "<f4", "<f8", "|u1", ...
	Fortran bool   // column-major data
	Shape   []int  // nil for a scalar
}

// Size is the number of elements the header announces.
func (h NPYHeader) Size() int {
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// itemSize is the size in bytes of one element of a float dtype, or 0 when
// the dtype is not float32/float64.
func (h NPYHeader) itemSize() int {
	switch h.DType {
	case "<f4", ">f4", "=f4", "f4", "float32":
		return 4
	case "<f8", ">f8", "=f8", "f8", "float64":
		return 8
	}
	return 0
}

// NPYReader reads one .npy array in two steps: the header first (so a caller
// can check the shape before any data is allocated), then the data.
type NPYReader struct {
	Header NPYHeader
	r      *npy.Reader
	count  *countingReader
	avail  int64 // data bytes the source holds after the header; -1: unknown
}

// NewNPYReader reads and checks the header of a .npy stream. Only float32 and
// float64 arrays are accepted (in either byte order, C or Fortran order);
// any other dtype is an error naming it.
func NewNPYReader(r io.Reader) (rd *NPYReader, err error) {
	br := bufio.NewReaderSize(r, 12+maxHeaderLen)
	// Check the header before npyio sees it: npyio allocates whatever length
	// the file claims and slices the header without bounds checks.
	pre, err := br.Peek(10)
	if err != nil {
		return nil, fmt.Errorf("npy: reading header: %w", noEOF(err))
	}
	if !bytes.Equal(pre[:6], npy.Magic[:]) {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen, start int
	switch pre[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2:
		p, err := br.Peek(12)
		if err != nil {
			return nil, fmt.Errorf("npy: reading header: %w", noEOF(err))
		}
		hlen, start = int(binary.LittleEndian.Uint32(p[8:12])), 12
	default:
		return nil, fmt.Errorf("npy: format version %d.%d is not supported", pre[6], pre[7])
	}
	if hlen > maxHeaderLen {
		return nil, fmt.Errorf("npy: header of %d bytes is too long", hlen)
	}
	full, err := br.Peek(start + hlen)
	if err != nil {
		return nil, fmt.Errorf("npy: reading header: %w", noEOF(err))
	}
	h, err := parseNPYHeader(string(full[start:]))
	if err != nil {
		return nil, err
	}
	if h.itemSize() == 0 {
		return nil, fmt.Errorf("npy: dtype %s is not supported (want float32 or float64)", h.DType)
	}
	n := 1
	for _, d := range h.Shape {
		if d > 0 && n > math.MaxInt32/d {
			return nil, fmt.Errorf("npy: shape %s is too large", FormatShape(h.Shape))
		}
		n *= d
	}
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, fmt.Errorf("npy: malformed header: %v", p)
		}
	}()
	cr := &countingReader{r: br}
	nr, err := npy.NewReader(cr)
	if err != nil {
		return nil, fmt.Errorf("npy: reading header: %w", noEOF(err))
	}
	if got := nr.Header.Descr.Shape; !equalInts(got, h.Shape) || nr.Header.Descr.Fortran != h.Fortran {
		return nil, fmt.Errorf("npy: unsupported header layout %q", strings.TrimSpace(string(full[start:])))
	}
	cr.n = 0
	avail := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			avail = fi.Size() - int64(start+hlen)
		}
	}
	return &NPYReader{Header: h, r: nr, count: cr, avail: avail}, nil
}

// parseNPYHeader parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (64, 60, 1), }.
func parseNPYHeader(s string) (NPYHeader, error) {
	var h NPYHeader
	bad := func(why string) (NPYHeader, error) {
		return NPYHeader{}, fmt.Errorf("npy: malformed header (%s): %q", why, strings.TrimSpace(s))
	}
	if !strings.HasSuffix(s, "\n") {
		return bad("no trailing newline")
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return bad("not a dict")
	}
	field := func(key string) (string, bool) {
		i := strings.Index(s, "'"+key+"':")
		if i < 0 {
			return "", false
		}
		return strings.TrimSpace(s[i+len(key)+3:]), true
	}
	v, ok := field("descr")
	if !ok || len(v) < 2 || (v[0] != '\'' && v[0] != '"') {
		return bad("descr")
	}
	end := strings.IndexByte(v[1:], v[0])
	if end < 0 {
		return bad("descr")
	}
	h.DType = v[1 : 1+end]
	v, ok = field("fortran_order")
	switch {
	case ok && strings.HasPrefix(v, "False"):
	case ok && strings.HasPrefix(v, "True"):
		h.Fortran = true
	default:
		return bad("fortran_order")
	}
	v, ok = field("shape")
	if !ok || !strings.HasPrefix(v, "(") {
		return bad("shape")
	}
	end = strings.IndexByte(v, ')')
	if end < 0 {
		return bad("shape")
	}
	for tok := range strings.SplitSeq(v[1:end], ",") {
		tok = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(tok), "L"))
		if tok == "" {
			continue
		}
		d, err := strconv.Atoi(tok)
		if err != nil || d < 0 {
			return bad("shape")
		}
		h.Shape = append(h.Shape, d)
	}
	return h, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Read reads the array's data, converted to float32 in row-major order.
// A float64 value too large for float32 becomes ±Inf; callers that care
// check with CheckFinite.
func (r *NPYReader) Read() ([]float32, error) {
	h := r.Header
	n, size := h.Size(), h.itemSize()
	want := int64(n) * int64(size)
	// Decode the data in chunks as it arrives. The result is allocated
	// whole only when the source says it holds that much data (a file, or
	// a bundle's in-memory file); otherwise it grows with the data actually
	// present, so a header announcing up to 2^31 elements over a short
	// (hostile or truncated) stream costs no more than the stream itself.
	var data []float32
	if r.avail >= want {
		data = make([]float32, 0, n)
	} else {
		data = make([]float32, 0, min(n, 1<<18))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if strings.HasPrefix(h.DType, ">") {
		order = binary.BigEndian
	}
	buf := make([]byte, min(want, 64<<10))
	var got int64
	for got < want {
		chunk := buf[:min(int64(len(buf)), want-got)]
		k, err := io.ReadFull(r.count, chunk)
		got += int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("npy: truncated data: %d bytes of %d for shape %s", got, want, FormatShape(h.Shape))
			}
			return nil, fmt.Errorf("npy: reading data: %w", err)
		}
		m := len(chunk) / size
		data = slices.Grow(data, m)
		out := data[len(data) : len(data)+m]
		switch size {
		case 4:
			for i := range out {
				out[i] = math.Float32frombits(order.Uint32(chunk[4*i:]))
			}
		case 8:
			for i := range out {
				out[i] = float32(math.Float64frombits(order.Uint64(chunk[8*i:])))
			}
		}
		data = data[:len(data)+m]
	}
	if h.Fortran && len(h.Shape) > 1 {
		data = fortranToC(data, h.Shape)
	}
	return data, nil
}

// ReadNPY reads a whole float32 or float64 .npy array (float64 is converted
// to float32). Shape is nil for a scalar.
func ReadNPY(r io.Reader) (data []float32, shape []int, err error) {
	return ReadNPYLimit(r, -1)
}

// ReadNPYLimit is ReadNPY refusing, before allocating anything, an array of
// more than maxElems elements (no limit when maxElems < 0).
func ReadNPYLimit(r io.Reader, maxElems int) (data []float32, shape []int, err error) {
	nr, err := NewNPYReader(r)
	if err != nil {
		return nil, nil, err
	}
	if maxElems >= 0 && nr.Header.Size() > maxElems {
		return nil, nil, fmt.Errorf("npy: array of shape %s has %d elements, more than the limit of %d",
			FormatShape(nr.Header.Shape), nr.Header.Size(), maxElems)
	}
	data, err = nr.Read()
	if err != nil {
		return nil, nil, err
	}
	return data, nr.Header.Shape, nil
}

// WriteNPY writes data as a little-endian float32, C-order .npy (format
// version 1.0, readable by every numpy), byte for byte what numpy's np.save
// writes for the same array. len(data) must equal the product of shape.
func WriteNPY(w io.Writer, data []float32, shape []int) error {
	hdr, err := npyHeader("<f4", len(data), shape)
	if err != nil {
		return err
	}
	return writeChunks(w, hdr, data, func(b []byte, v float32) []byte {
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	})
}

// WriteNPY64 is WriteNPY for a float64 ("<f8") array.
func WriteNPY64(w io.Writer, data []float64, shape []int) error {
	hdr, err := npyHeader("<f8", len(data), shape)
	if err != nil {
		return err
	}
	return writeChunks(w, hdr, data, func(b []byte, v float64) []byte {
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	})
}

// writeChunks writes hdr, then data encoded by put, 64 Ki values a Write.
func writeChunks[T any](w io.Writer, hdr []byte, data []T, put func([]byte, T) []byte) error {
	buf := hdr
	for {
		k := min(len(data), 1<<16)
		for _, v := range data[:k] {
			buf = put(buf, v)
		}
		data = data[k:]
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if len(data) == 0 {
			return nil
		}
		buf = buf[:0]
	}
}

// npyHeader is the version 1.0 header numpy (1.24 to 2.x,
// numpy/lib/format.py) writes for a C-order array: the dict, then spaces
// for the first dimension to grow to 21 digits (none for a scalar), then
// padding and '\n' so that the data starts at a multiple of 64 bytes. Like
// numpy's _wrap_header, a header that already ends on the boundary still
// gets 64 bytes of padding.
func npyHeader(descr string, n int, shape []int) ([]byte, error) {
	want := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %s", FormatShape(shape))
		}
		want *= d
	}
	if n != want {
		return nil, fmt.Errorf("npy: %d values do not fill shape %s (%d)", n, FormatShape(shape), want)
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, FormatShape(shape))
	if len(shape) > 0 {
		dict += strings.Repeat(" ", max(0, 21-len(strconv.Itoa(shape[0]))))
	}
	hlen := len(dict) + 1 // with the final '\n'
	pad := 64 - (10+hlen)%64
	if hlen+pad > math.MaxUint16 {
		return nil, fmt.Errorf("npy: shape %s makes a header too long for format 1.0", FormatShape(shape))
	}
	hdr := make([]byte, 0, 10+hlen+pad)
	hdr = append(hdr, npy.Magic[:]...)
	hdr = append(hdr, 1, 0)
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(hlen+pad))
	hdr = append(hdr, dict...)
	hdr = append(hdr, bytes.Repeat([]byte{' '}, pad)...)
	return append(hdr, '\n'), nil
}

// FormatShape prints a shape as a Python tuple: (32, 128), (128,), ().
func FormatShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// CheckFinite returns the index of the first NaN or ±Inf in data, or -1.
func CheckFinite(data []float32) int {
	for i, v := range data {
		if v != v || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(src []float32, shape []int) []float32 {
	dst := make([]float32, len(src))
	rank := len(shape)
	idx := make([]int, rank) // C-order multi-index of dst position i
	// Fortran strides.
	fstride := make([]int, rank)
	s := 1
	for k := 0; k < rank; k++ {
		fstride[k] = s
		s *= shape[k]
	}
	for i := range dst {
		off := 0
		for k := 0; k < rank; k++ {
			off += idx[k] * fstride[k]
		}
		dst[i] = src[off]
		for k := rank - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
