package hdf5

import (
	"encoding/binary"
	"fmt"
)

// Class is an HDF5 datatype class, limited to those this package reads.
type Class int

const (
	ClassInt       Class = iota + 1 // fixed-point (integer)
	ClassFloat                      // IEEE 754 binary32 or binary64
	ClassString                     // fixed-length string
	ClassVarString                  // variable-length string (in the global heap)
)

func (c Class) String() string {
	switch c {
	case ClassInt:
		return "integer"
	case ClassFloat:
		return "float"
	case ClassString:
		return "fixed-length string"
	case ClassVarString:
		return "variable-length string"
	}
	return "unknown"
}

// Padding of a fixed-length string.
const (
	PadNullTerm = 0
	PadNull     = 1
	PadSpace    = 2
)

// DType is a dataset's or attribute's element type.
type DType struct {
	Class  Class
	Size   int              // bytes per element (16 for a variable-length string reference with 8-byte offsets)
	Order  binary.ByteOrder // numbers only
	Signed bool             // integers only
	Pad    int              // strings: PadNullTerm, PadNull or PadSpace
	UTF8   bool             // strings: the character set is UTF-8 (else ASCII)
}

// String names the type as numpy would ("<f4", "|S15", "str").
func (d DType) String() string {
	o := "<"
	if d.Order == binary.BigEndian {
		o = ">"
	}
	switch d.Class {
	case ClassInt:
		if d.Signed {
			return fmt.Sprintf("%si%d", o, d.Size)
		}
		return fmt.Sprintf("%su%d", o, d.Size)
	case ClassFloat:
		return fmt.Sprintf("%sf%d", o, d.Size)
	case ClassString:
		return fmt.Sprintf("|S%d", d.Size)
	case ClassVarString:
		return "str"
	}
	return "unknown"
}

var classNames = []string{"fixed-point", "floating-point", "time", "string", "bitfield", "opaque", "compound",
	"reference", "enumerated (h5py bool)", "variable-length", "array", "complex"}

// parseDatatype decodes a datatype message, returning the bytes it used.
func (f *File) parseDatatype(b []byte, path string, depth int) (DType, int, error) {
	if depth > maxTypeNesting {
		return DType{}, 0, &FormatError{Path: path, Offset: -1, What: "datatypes nested too deep"}
	}
	c := &cursor{f: f, b: b}
	cv := c.u8()
	b0, b1, b2 := c.u8(), c.u8(), c.u8()
	size := c.u32()
	if c.bad {
		return DType{}, 0, &FormatError{Path: path, Offset: -1, What: "truncated datatype message"}
	}
	class, ver := int(cv&0x0f), cv>>4
	if ver < 1 || ver > 4 {
		return DType{}, 0, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("datatype message version %d", ver)}
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if b0&1 != 0 {
		order = binary.BigEndian
	}
	unsupported := func(what string) (DType, int, error) {
		return DType{}, 0, &UnsupportedError{Path: path, Feature: what}
	}
	switch class {
	case 0:
		off, prec := c.u16(), c.u16()
		if c.bad {
			return DType{}, 0, &FormatError{Path: path, Offset: -1, What: "truncated integer datatype"}
		}
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return unsupported(fmt.Sprintf("integer of %d bytes", size))
		}
		if off != 0 || uint32(prec) != 8*size || b0&0x06 != 0 {
			return unsupported(fmt.Sprintf("integer with bit offset %d and precision %d in %d bytes", off, prec, size))
		}
		return DType{Class: ClassInt, Size: int(size), Order: order, Signed: b0&0x08 != 0}, c.p, nil
	case 1:
		off, prec := c.u16(), c.u16()
		epos, esize, mpos, msize := c.u8(), c.u8(), c.u8(), c.u8()
		bias := c.u32()
		if c.bad {
			return DType{}, 0, &FormatError{Path: path, Offset: -1, What: "truncated float datatype"}
		}
		if b0&0x40 != 0 {
			return unsupported("VAX-order float")
		}
		ieee32 := size == 4 && off == 0 && prec == 32 && epos == 23 && esize == 8 && mpos == 0 && msize == 23 && bias == 127
		ieee64 := size == 8 && off == 0 && prec == 64 && epos == 52 && esize == 11 && mpos == 0 && msize == 52 && bias == 1023
		ieee16 := size == 2 && off == 0 && prec == 16 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && bias == 15
		if !ieee32 && !ieee64 && !ieee16 {
			return unsupported(fmt.Sprintf("float of %d bytes (precision %d, exponent %d bits, mantissa %d bits); only IEEE float16, float32 and float64 are read", size, prec, esize, msize))
		}
		return DType{Class: ClassFloat, Size: int(size), Order: order}, c.p, nil
	case 3:
		if size == 0 {
			return DType{}, 0, &FormatError{Path: path, Offset: -1, What: "fixed-length string of 0 bytes"}
		}
		pad, cset := int(b0&0x0f), b0>>4
		if pad > 2 || cset > 1 {
			return unsupported(fmt.Sprintf("string with padding %d and character set %d", pad, cset))
		}
		return DType{Class: ClassString, Size: int(size), Pad: pad, UTF8: cset == 1}, c.p, nil
	case 9:
		kind, pad, cset := int(b0&0x0f), int(b0>>4), int(b1&0x0f)
		_ = b2
		if kind != 1 {
			return unsupported("variable-length sequence (only variable-length strings are read)")
		}
		base, n, err := f.parseDatatype(b[c.p:], path, depth+1)
		if err != nil {
			return DType{}, 0, err
		}
		if base.Class != ClassInt || base.Size != 1 {
			return unsupported("variable-length string of a base type other than 1-byte characters")
		}
		if int(size) != 4+f.offSize+4 {
			return DType{}, 0, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("variable-length string element of %d bytes, expected %d", size, 4+f.offSize+4)}
		}
		if pad > 2 || cset > 1 {
			return unsupported(fmt.Sprintf("variable-length string with padding %d and character set %d", pad, cset))
		}
		return DType{Class: ClassVarString, Size: int(size), Pad: pad, UTF8: cset == 1}, c.p + n, nil
	}
	if class < len(classNames) {
		return unsupported("datatype class " + classNames[class])
	}
	return DType{}, 0, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("datatype class %d", class)}
}

// dataspace is a parsed dataspace message.
type dataspace struct {
	dims   []uint64
	null   bool   // no elements at all (h5py.Empty)
	points uint64 // number of elements, checked against overflow
}

func (f *File) parseDataspace(b []byte, path string) (dataspace, error) {
	c := &cursor{f: f, b: b}
	ver, rank, flags := c.u8(), int(c.u8()), c.u8()
	var typ uint8 = 1
	switch ver {
	case 1:
		c.skip(5)
		if rank == 0 {
			typ = 0
		}
	case 2:
		typ = c.u8()
	default:
		return dataspace{}, &UnsupportedError{Path: path, Feature: fmt.Sprintf("dataspace message version %d", ver)}
	}
	if c.bad {
		return dataspace{}, &FormatError{Path: path, Offset: -1, What: "truncated dataspace message"}
	}
	if rank > maxRank {
		return dataspace{}, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("dataspace of rank %d (HDF5 allows %d)", rank, maxRank)}
	}
	ds := dataspace{dims: make([]uint64, rank), points: 1}
	switch typ {
	case 0:
		if rank != 0 {
			return dataspace{}, &FormatError{Path: path, Offset: -1, What: "scalar dataspace with dimensions"}
		}
	case 1:
	case 2:
		ds.null, ds.points = true, 0
		return ds, nil
	default:
		return dataspace{}, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("dataspace type %d", typ)}
	}
	for i := range ds.dims {
		d := c.length()
		ds.dims[i] = d
		if d != 0 && ds.points > (1<<62)/d {
			return dataspace{}, &FormatError{Path: path, Offset: -1, What: fmt.Sprintf("dataspace dimensions %v overflow", ds.dims[:i+1])}
		}
		ds.points *= d
	}
	if flags&1 != 0 {
		c.skip(rank * f.lenSize)
	}
	if c.bad {
		return dataspace{}, &FormatError{Path: path, Offset: -1, What: "truncated dataspace dimensions"}
	}
	return ds, nil
}
