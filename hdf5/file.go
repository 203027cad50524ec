package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

var signature = []byte("\x89HDF\r\n\x1a\n")

// Limits on the structure of a file. A file beyond them is refused with a
// FormatError; no real Keras file comes close.
const (
	maxDepth         = 64   // group nesting for Walk, B-tree levels
	maxRank          = 32   // HDF5's own limit on dataspace dimensions
	maxContinuations = 4096 // object header continuation blocks per object
	maxTypeNesting   = 4    // variable-length types of variable-length types
	// Everything read or decoded from a file (metadata, dataset data,
	// strings) may total at most budgetFactor times its size plus
	// budgetSlack bytes: see File.
	budgetFactor = 6
	budgetSlack  = 1 << 20
)

// File is an open HDF5 file. Its methods may be called from several
// goroutines; parsed metadata is cached, dataset data is not.
//
// A File reads and decodes at most 6 times the file size plus 1 MiB in
// total (metadata, dataset data, strings); past that, reads fail with a
// FormatError. Reading everything once stays far below; a hostile file that
// links one large dataset or string from many places cannot make its reader
// allocate without bound. Open the file again to read it again.
type File struct {
	r       io.ReaderAt
	size    int64
	base    uint64
	offSize int
	lenSize int

	mu      sync.Mutex
	used    int64 // bytes read or decoded so far, against the budget
	headers map[uint64]*objectHeader
	groups  map[uint64]*groupIndex
	gheaps  map[uint64]map[uint16][]byte
	root    *Group
}

// Open reads the superblock and the root group of the HDF5 file in r, which
// holds size bytes. Only the bytes the caller asks for later are read.
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < int64(len(signature)) {
		return nil, &FormatError{Offset: 0, What: fmt.Sprintf("file of %d bytes is too short for an HDF5 superblock", size)}
	}
	f := &File{r: r, size: size, headers: map[uint64]*objectHeader{}, groups: map[uint64]*groupIndex{},
		gheaps: map[uint64]map[uint16][]byte{}}
	// The superblock is at 0, or after a user block at 512, 1024, 2048, ...
	sb := int64(-1)
	sig := make([]byte, len(signature))
	for off := int64(0); off+int64(len(signature)) <= size; {
		if _, err := r.ReadAt(sig, off); err != nil {
			return nil, &FormatError{Offset: off, What: "reading the signature: " + err.Error()}
		}
		if bytes.Equal(sig, signature) {
			sb = off
			break
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	if sb < 0 {
		return nil, &FormatError{Offset: 0, What: "no HDF5 signature (not an HDF5 file)"}
	}
	head, err := f.readAbs(sb, 24, "superblock")
	if err != nil {
		return nil, err
	}
	ver := head[8]
	switch ver {
	case 0, 1:
	case 2, 3:
		return nil, &UnsupportedError{Feature: fmt.Sprintf("superblock version %d (a file written with libver='latest' or 'v108' and later)", ver)}
	default:
		return nil, &UnsupportedError{Feature: fmt.Sprintf("superblock version %d", ver)}
	}
	f.offSize, f.lenSize = int(head[13]), int(head[14])
	for _, s := range []int{f.offSize, f.lenSize} {
		if s != 2 && s != 4 && s != 8 {
			return nil, &FormatError{Offset: sb + 13, What: fmt.Sprintf("size of offsets/lengths %d is not 2, 4 or 8", s)}
		}
	}
	pos := sb + 24
	if ver == 1 {
		pos += 4 // indexed storage internal node K, reserved
	}
	n := 4*f.offSize + f.entrySize()
	rest, err := f.readAbs(pos, n, "superblock")
	if err != nil {
		return nil, err
	}
	c := &cursor{f: f, b: rest}
	f.base = c.off()
	c.off() // free-space info address
	eof := c.off()
	c.off() // driver information block
	if f.base > uint64(size) {
		return nil, &FormatError{Offset: sb, What: fmt.Sprintf("base address %d is past the end of the %d-byte file", f.base, size)}
	}
	// libhdf5 writes the end-of-file address as the file's size, user
	// block included.
	if !c.bad && !f.undefined(eof) && eof > uint64(size) {
		return nil, &FormatError{Offset: sb, What: fmt.Sprintf("the file is truncated: its superblock says it ends at %d bytes, it has %d", eof, size)}
	}
	ent := c.entry()
	if c.bad {
		return nil, &FormatError{Offset: pos, What: "truncated superblock"}
	}
	root, err := f.openGroup(ent.header, "/")
	if err != nil {
		return nil, err
	}
	f.root = root
	return f, nil
}

// Root is the file's root group, "/".
func (f *File) Root() *Group { return f.root }

// Size is the file size Open was given.
func (f *File) Size() int64 { return f.size }

func (f *File) entrySize() int { return 2*f.offSize + 24 }

func (f *File) undefined(a uint64) bool {
	return a == (uint64(1)<<(8*uint(f.offSize)))-1 || (f.offSize == 8 && a == ^uint64(0))
}

// readAbs reads n metadata bytes at an absolute file offset, charging them
// to the file's metadata budget.
func (f *File) readAbs(off int64, n int, what string) ([]byte, error) {
	if n < 0 || off < 0 || off > f.size || int64(n) > f.size-off {
		return nil, &FormatError{Offset: off, What: fmt.Sprintf("%s of %d bytes runs past the end of the %d-byte file", what, n, f.size)}
	}
	if err := f.charge(int64(n), what); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil {
		return nil, &FormatError{Offset: off, What: fmt.Sprintf("reading %s: %v", what, err)}
	}
	return b, nil
}

// charge counts n bytes against the file's read budget.
func (f *File) charge(n int64, what string) error {
	f.mu.Lock()
	f.used += n
	over := f.used > budgetFactor*f.size+budgetSlack
	f.mu.Unlock()
	if over {
		return &FormatError{Offset: -1, What: fmt.Sprintf("reading %s: more than %d times the file's size read in all (overlapping, cyclic or many-times-linked structures)", what, budgetFactor)}
	}
	return nil
}

// abs converts a file address to an absolute offset, checking that n bytes
// fit in the file.
func (f *File) abs(addr uint64, n uint64, what string) (int64, error) {
	if f.undefined(addr) {
		return 0, &FormatError{Offset: -1, What: what + " has an undefined address"}
	}
	a := f.base + addr
	if a < f.base || a > uint64(f.size) || n > uint64(f.size)-a {
		return 0, &FormatError{Offset: int64(min(a, uint64(1)<<62)), What: fmt.Sprintf("%s of %d bytes at address %d runs past the end of the %d-byte file", what, n, addr, f.size)}
	}
	return int64(a), nil
}

// readMeta reads n metadata bytes at a file address.
func (f *File) readMeta(addr uint64, n uint64, what string) ([]byte, error) {
	off, err := f.abs(addr, n, what)
	if err != nil {
		return nil, err
	}
	return f.readAbs(off, int(n), what)
}

// cursor decodes little-endian fields from a byte slice; reading past the
// end sets bad and returns zeros, so parsers check once at the end.
type cursor struct {
	f   *File
	b   []byte
	p   int
	bad bool
}

func (c *cursor) take(n int) []byte {
	if c.bad || n < 0 || n > len(c.b)-c.p {
		c.bad = true
		return nil
	}
	s := c.b[c.p : c.p+n]
	c.p += n
	return s
}

func (c *cursor) u8() uint8 {
	if s := c.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if s := c.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if s := c.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (c *cursor) uint(n int) uint64 {
	s := c.take(n)
	if s == nil {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

func (c *cursor) off() uint64    { return c.uint(c.f.offSize) }
func (c *cursor) length() uint64 { return c.uint(c.f.lenSize) }
func (c *cursor) skip(n int)     { c.take(n) }
func (c *cursor) left() int      { return len(c.b) - c.p }

type symEntry struct {
	nameOff uint64
	header  uint64
}

func (c *cursor) entry() symEntry {
	e := symEntry{nameOff: c.off(), header: c.off()}
	c.skip(24) // cache type, reserved, scratch pad
	return e
}
