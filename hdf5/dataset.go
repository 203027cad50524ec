package hdf5

import (
	"fmt"
	"math"
)

// Dataset is a contiguous or compact dataset without filters.
type Dataset struct {
	object
	DType DType
	shape []int
	n     int
	// storage: compact data, or a contiguous extent
	compact []byte
	addr    uint64
	size    uint64
	noData  bool // contiguous storage never allocated (and no elements)
}

func (f *File) openDataset(addr uint64, path string) (*Dataset, error) {
	h, err := f.header(addr, path)
	if err != nil {
		return nil, err
	}
	lm := h.first(msgLayout)
	if lm == nil {
		if h.first(msgSymbolTable) != nil {
			return nil, &TypeError{Path: path, Want: "a dataset", Have: "a group"}
		}
		return nil, &UnsupportedError{Path: path, Feature: "object that is neither a symbol-table group nor a dataset"}
	}
	tm, sm := h.first(msgDatatype), h.first(msgDataspace)
	if tm == nil || sm == nil {
		return nil, &FormatError{Path: path, Offset: int64(addr), What: "dataset without a datatype or dataspace message"}
	}
	dt, _, err := f.parseDatatype(tm.data, path, 0)
	if err != nil {
		return nil, err
	}
	ds, err := f.parseDataspace(sm.data, path)
	if err != nil {
		return nil, err
	}
	d := &Dataset{object: object{f: f, path: path, hdr: h}, DType: dt}
	if dt.Class == ClassVarString {
		return nil, &UnsupportedError{Path: path, Feature: "dataset of variable-length strings"}
	}
	need := ds.points * uint64(dt.Size)
	if ds.points != 0 && need/ds.points != uint64(dt.Size) || need > uint64(f.size) {
		return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("dataset of %d elements of %d bytes is larger than the %d-byte file", ds.points, dt.Size, f.size)}
	}
	d.n = int(ds.points)
	d.shape = make([]int, len(ds.dims))
	for i, x := range ds.dims {
		d.shape[i] = int(x)
	}
	c := &cursor{f: f, b: lm.data}
	ver := c.u8()
	if ver != 3 {
		return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("data layout message version %d", ver)}
	}
	switch class := c.u8(); class {
	case 0:
		n := int(c.u16())
		d.compact = c.take(n)
		if c.bad {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: "truncated compact dataset"}
		}
		if uint64(n) != need {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("compact dataset holds %d bytes, its shape needs %d", n, need)}
		}
	case 1:
		d.addr, d.size = c.off(), c.length()
		if c.bad {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: "truncated contiguous layout message"}
		}
		if f.undefined(d.addr) {
			if need != 0 {
				return nil, &UnsupportedError{Path: path, Feature: "dataset whose storage was never written (fill value only)"}
			}
			d.noData = true
			break
		}
		if d.size != need {
			return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("contiguous dataset stores %d bytes, its shape needs %d", d.size, need)}
		}
		if _, err := f.abs(d.addr, d.size, "dataset data"); err != nil {
			return nil, withPath(err, path)
		}
	case 2:
		return nil, &UnsupportedError{Path: path, Feature: "chunked dataset layout (h5py chunks= or compression=)"}
	case 3:
		return nil, &UnsupportedError{Path: path, Feature: "virtual dataset layout"}
	default:
		return nil, &FormatError{Path: path, Offset: int64(addr), What: fmt.Sprintf("data layout class %d", class)}
	}
	if h.first(msgFilters) != nil {
		return nil, &UnsupportedError{Path: path, Feature: "dataset filters (compression, shuffle or checksums)"}
	}
	return d, nil
}

// Shape is the dataset's dimensions (empty for a scalar).
func (d *Dataset) Shape() []int { return append(make([]int, 0, len(d.shape)), d.shape...) }

// Len is the number of elements.
func (d *Dataset) Len() int { return d.n }

// ReadRaw returns the dataset's bytes as stored (Len()*DType.Size bytes).
func (d *Dataset) ReadRaw() ([]byte, error) {
	need := d.n * d.DType.Size
	if d.compact != nil || d.noData || need == 0 {
		return append([]byte(nil), d.compact...), nil
	}
	off, err := d.f.abs(d.addr, d.size, "dataset data")
	if err != nil {
		return nil, withPath(err, d.path)
	}
	if err := d.f.charge(int64(need), "dataset data"); err != nil {
		return nil, withPath(err, d.path)
	}
	b := make([]byte, need)
	if _, err := d.f.r.ReadAt(b, off); err != nil {
		return nil, &FormatError{Path: d.path, Offset: off, What: "reading dataset data: " + err.Error()}
	}
	return b, nil
}

// ReadFloat32 reads a float32 or float16 dataset (float16 converted
// exactly). A float64 dataset is a TypeError: use ReadFloat64, which reads
// every float type exactly. The data is decoded in chunks, so the read holds
// little more than the result.
func (d *Dataset) ReadFloat32() ([]float32, error) {
	if d.DType.Class != ClassFloat || d.DType.Size == 8 {
		return nil, &TypeError{Path: d.path, Want: "float32", Have: d.DType.String()}
	}
	out := make([]float32, d.n)
	order, size := d.DType.Order, d.DType.Size
	err := d.chunks(func(raw []byte, first int) {
		for i := range len(raw) / size {
			if size == 4 {
				out[first+i] = math.Float32frombits(order.Uint32(raw[4*i:]))
			} else {
				out[first+i] = halfToFloat32(order.Uint16(raw[2*i:]))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// chunks calls fn on the dataset's bytes in pieces of whole elements, with
// the index of each piece's first element.
func (d *Dataset) chunks(fn func(raw []byte, first int)) error {
	need := d.n * d.DType.Size
	if d.compact != nil || d.noData || need == 0 {
		fn(d.compact, 0)
		return nil
	}
	off, err := d.f.abs(d.addr, d.size, "dataset data")
	if err != nil {
		return withPath(err, d.path)
	}
	if err := d.f.charge(int64(need), "dataset data"); err != nil {
		return withPath(err, d.path)
	}
	const chunk = 64 << 10
	per := max(1, chunk/d.DType.Size)
	buf := make([]byte, min(need, per*d.DType.Size))
	for first := 0; first < d.n; first += per {
		n := min(per, d.n-first) * d.DType.Size
		if _, err := d.f.r.ReadAt(buf[:n], off+int64(first*d.DType.Size)); err != nil {
			return &FormatError{Path: d.path, Offset: off, What: "reading dataset data: " + err.Error()}
		}
		fn(buf[:n], first)
	}
	return nil
}

// ReadFloat64 reads a float dataset of any width as float64 (exactly).
func (d *Dataset) ReadFloat64() ([]float64, error) {
	if d.DType.Class != ClassFloat {
		return nil, &TypeError{Path: d.path, Want: "float", Have: d.DType.String()}
	}
	out := make([]float64, d.n)
	if err := d.chunks(func(raw []byte, first int) {
		decodeFloat64(out[first:first+len(raw)/d.DType.Size], raw, d.DType)
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadInt64 reads an integer dataset.
func (d *Dataset) ReadInt64() ([]int64, error) {
	if d.DType.Class != ClassInt {
		return nil, &TypeError{Path: d.path, Want: "integers", Have: d.DType.String()}
	}
	out := make([]int64, d.n)
	if err := d.chunks(func(raw []byte, first int) {
		decodeInt64(out[first:first+len(raw)/d.DType.Size], raw, d.DType)
	}); err != nil {
		return nil, err
	}
	return out, nil
}
