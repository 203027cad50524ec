package hdf5

import (
	"bytes"
	"fmt"
	"math"
)

// Attribute is a decoded attribute: its type, shape and raw value. Read the
// value with Strings, String, Float64s or Int64s.
type Attribute struct {
	Name  string
	DType DType
	// Shape is nil for a scalar; Empty is true for a null dataspace.
	Shape []int
	Empty bool
	f     *File
	path  string
	n     int
	raw   []byte
}

// attrLayout splits an attribute message into its parts.
func attrLayout(b []byte) (ver int, name, dt, ds, data []byte, flags uint8, err error) {
	c := &cursor{b: b}
	ver = int(c.u8())
	flags = c.u8()
	nameSize, dtSize, dsSize := int(c.u16()), int(c.u16()), int(c.u16())
	pad := func(n int) int { return n }
	switch ver {
	case 1:
		flags = 0
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		c.u8() // name character set
	default:
		return ver, nil, nil, nil, nil, 0, &UnsupportedError{Feature: fmt.Sprintf("attribute message version %d", ver)}
	}
	name = c.take(pad(nameSize))
	dt = c.take(pad(dtSize))
	ds = c.take(pad(dsSize))
	if c.bad || nameSize == 0 {
		return ver, nil, nil, nil, nil, 0, &FormatError{Offset: -1, What: "truncated attribute message"}
	}
	name = name[:nameSize]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return ver, name, dt[:dtSize], ds[:dsSize], b[c.p:], flags, nil
}

func attrName(b []byte) (string, error) {
	_, name, _, _, _, _, err := attrLayout(b)
	return string(name), err
}

func (f *File) parseAttr(b []byte, path string) (*Attribute, error) {
	_, name, dtb, dsb, data, flags, err := attrLayout(b)
	if err != nil {
		return nil, withPath(err, path)
	}
	if flags&3 != 0 {
		return nil, &UnsupportedError{Path: path, Feature: "attribute with a shared datatype or dataspace"}
	}
	dt, _, err := f.parseDatatype(dtb, path, 0)
	if err != nil {
		return nil, err
	}
	ds, err := f.parseDataspace(dsb, path)
	if err != nil {
		return nil, err
	}
	if ds.points > uint64(len(data))/uint64(dt.Size) {
		return nil, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("attribute claims %d elements of %d bytes but holds %d bytes", ds.points, dt.Size, len(data))}
	}
	a := &Attribute{Name: string(name), DType: dt, Empty: ds.null, f: f, path: path, n: int(ds.points)}
	if len(ds.dims) > 0 {
		a.Shape = make([]int, len(ds.dims))
		for i, d := range ds.dims {
			a.Shape[i] = int(d)
		}
	}
	a.raw = data[:a.n*dt.Size]
	return a, nil
}

// Len is the number of elements (1 for a scalar, 0 for an empty attribute).
func (a *Attribute) Len() int { return a.n }

// IsString reports whether the attribute holds strings.
func (a *Attribute) IsString() bool {
	return a.DType.Class == ClassString || a.DType.Class == ClassVarString
}

// Strings decodes a string attribute of any shape, flattened. Fixed-length
// strings lose their padding as numpy does; variable-length strings are read
// from the global heap. The bytes are returned as stored (not checked for
// UTF-8).
func (a *Attribute) Strings() ([]string, error) {
	if !a.IsString() {
		return nil, &TypeError{Path: a.path, Want: "strings", Have: a.DType.String()}
	}
	out := make([]string, 0, a.n)
	for i := 0; i < a.n; i++ {
		el := a.raw[i*a.DType.Size : (i+1)*a.DType.Size]
		var s []byte
		if a.DType.Class == ClassString {
			s = el
			switch a.DType.Pad {
			case PadNullTerm:
				if j := bytes.IndexByte(s, 0); j >= 0 {
					s = s[:j]
				}
			case PadNull:
				s = bytes.TrimRight(s, "\x00")
			case PadSpace:
				s = bytes.TrimRight(s, " ")
			}
		} else {
			var err error
			if s, err = a.f.vlenString(el, a.path); err != nil {
				return nil, err
			}
		}
		if err := a.f.charge(int64(len(s)), "attribute strings"); err != nil {
			return nil, withPath(err, a.path)
		}
		out = append(out, string(s))
	}
	return out, nil
}

// String decodes a string attribute holding exactly one element.
func (a *Attribute) String() (string, error) {
	if a.n != 1 {
		return "", &TypeError{Path: a.path, Want: "a single string", Have: fmt.Sprintf("%d elements of %s", a.n, a.DType)}
	}
	s, err := a.Strings()
	if err != nil {
		return "", err
	}
	return s[0], nil
}

// Float64s decodes a numeric attribute (floats or integers) as float64.
func (a *Attribute) Float64s() ([]float64, error) {
	out := make([]float64, a.n)
	switch a.DType.Class {
	case ClassFloat:
		decodeFloat64(out, a.raw, a.DType)
	case ClassInt:
		v := make([]int64, a.n)
		decodeInt64(v, a.raw, a.DType)
		for i, x := range v {
			out[i] = float64(x)
		}
	default:
		return nil, &TypeError{Path: a.path, Want: "numbers", Have: a.DType.String()}
	}
	return out, nil
}

// Int64s decodes an integer attribute.
func (a *Attribute) Int64s() ([]int64, error) {
	if a.DType.Class != ClassInt {
		return nil, &TypeError{Path: a.path, Want: "integers", Have: a.DType.String()}
	}
	out := make([]int64, a.n)
	decodeInt64(out, a.raw, a.DType)
	return out, nil
}

func decodeFloat64(out []float64, raw []byte, d DType) {
	for i := range out {
		b := raw[i*d.Size:]
		switch d.Size {
		case 2:
			out[i] = float64(halfToFloat32(d.Order.Uint16(b)))
		case 4:
			out[i] = float64(math.Float32frombits(d.Order.Uint32(b)))
		default:
			out[i] = math.Float64frombits(d.Order.Uint64(b))
		}
	}
}

func decodeInt64(out []int64, raw []byte, d DType) {
	for i := range out {
		b := raw[i*d.Size:]
		var u uint64
		switch d.Size {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(d.Order.Uint16(b))
		case 4:
			u = uint64(d.Order.Uint32(b))
		default:
			u = d.Order.Uint64(b)
		}
		if d.Signed {
			shift := 64 - 8*uint(d.Size)
			out[i] = int64(u<<shift) >> shift
		} else {
			out[i] = int64(u)
		}
	}
}

// vlenString resolves a variable-length string reference: length (4 bytes),
// global heap collection address, object index (4 bytes).
func (f *File) vlenString(el []byte, path string) ([]byte, error) {
	c := &cursor{f: f, b: el}
	n := uint64(c.u32())
	coll := c.off()
	index := c.u32()
	if c.bad {
		return nil, &FormatError{Path: path, Offset: -1, What: "truncated variable-length string reference"}
	}
	if n == 0 && (coll == 0 || f.undefined(coll)) {
		return nil, nil
	}
	objs, err := f.globalHeap(coll, path)
	if err != nil {
		return nil, err
	}
	if index > 0xffff {
		return nil, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("global heap object index %d", index)}
	}
	obj, ok := objs[uint16(index)]
	if !ok {
		return nil, &FormatError{Path: path, Offset: int64(min(coll, 1<<62)), What: fmt.Sprintf("global heap collection has no object %d", index)}
	}
	if n > uint64(len(obj)) {
		return nil, &FormatError{Path: path, Offset: int64(coll), What: fmt.Sprintf("variable-length string of %d bytes in a global heap object of %d", n, len(obj))}
	}
	return obj[:n], nil
}

// globalHeap reads and caches a global heap collection's objects.
func (f *File) globalHeap(addr uint64, path string) (map[uint16][]byte, error) {
	f.mu.Lock()
	objs, ok := f.gheaps[addr]
	f.mu.Unlock()
	if ok {
		return objs, nil
	}
	pre, err := f.readMeta(addr, uint64(8+f.lenSize), "global heap collection")
	if err != nil {
		return nil, withPath(err, path)
	}
	if string(pre[:4]) != "GCOL" {
		return nil, &FormatError{Path: path, Offset: int64(addr), What: "global heap collection has no GCOL signature"}
	}
	if pre[4] != 1 {
		return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("global heap version %d", pre[4])}
	}
	c := &cursor{f: f, b: pre[8:]}
	size := c.length()
	hl := uint64(8 + f.lenSize)
	if size < hl {
		return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("global heap collection of %d bytes", size)}
	}
	body, err := f.readMeta(addr+hl, size-hl, "global heap collection")
	if err != nil {
		return nil, withPath(err, path)
	}
	objs = map[uint16][]byte{}
	c = &cursor{f: f, b: body}
	for c.left() >= 8+f.lenSize {
		idx := c.u16()
		c.skip(6) // reference count, reserved
		n := c.length()
		if idx == 0 {
			break // free space: the rest of the collection
		}
		if n > uint64(c.left()) {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("global heap object %d of %d bytes runs past its collection", idx, n)}
		}
		data := c.take(int(n))
		c.skip(int((n+7)&^7 - n))
		if _, dup := objs[idx]; dup {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("global heap object %d appears twice", idx)}
		}
		objs[idx] = data
		if c.bad {
			break
		}
	}
	f.mu.Lock()
	f.gheaps[addr] = objs
	f.mu.Unlock()
	return objs, nil
}

// halfToFloat32 converts IEEE binary16 bits to float32, exactly (as numpy's
// astype(float32) does).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN (payload kept)
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// subnormal: mant * 2^-24
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}
