package hdf5_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/seqcast/seqcast/hdf5"
)

// readAll opens b and reads everything in it: every group, attribute and
// dataset, as a consumer would.
func readAll(b []byte) error {
	f, err := hdf5.Open(bytesReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	root := f.Root()
	attrs := func(names []string, get func(string) (*hdf5.Attribute, error)) error {
		for _, n := range names {
			a, err := get(n)
			if err != nil {
				return err
			}
			if a.IsString() {
				_, err = a.Strings()
			} else {
				_, err = a.Float64s()
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := attrs(root.Attrs(), root.Attr); err != nil {
		return err
	}
	return root.Walk(func(rel string, k hdf5.Kind) error {
		if k == hdf5.KindGroup {
			g, err := root.Group(rel)
			if err != nil {
				return err
			}
			return attrs(g.Attrs(), g.Attr)
		}
		d, err := root.Dataset(rel)
		if err != nil {
			return err
		}
		if err := attrs(d.Attrs(), d.Attr); err != nil {
			return err
		}
		_, err = d.ReadRaw()
		return err
	})
}

// Allocation bound for reading a file of n bytes, whatever it holds.
const (
	allocBase    = 2 << 20
	allocPerByte = 16
)

func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func seed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzOpen: any input ends in a clean error or a successful read, never a
// panic, and allocates at most allocBase + allocPerByte per input byte.
// Seeds: the h5py-written files of testdata/ (testdata/gen.py).
func FuzzOpen(f *testing.F) {
	for _, n := range []string{"tiny.h5", "userblock.h5", "latest.h5", "chunked.h5", "float16.h5", "enum.h5", "compound.h5"} {
		f.Add(seed(f, n))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		if got := allocated(func() { err = readAll(data) }); got > allocBase+allocPerByte*uint64(len(data)) {
			t.Fatalf("allocated %d bytes for a %d-byte input (%v)", got, len(data), err)
		}
		if err != nil {
			var fe *hdf5.FormatError
			var ue *hdf5.UnsupportedError
			var nf *hdf5.NotFoundError
			var te *hdf5.TypeError
			if !errors.As(err, &fe) && !errors.As(err, &ue) && !errors.As(err, &nf) && !errors.As(err, &te) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

// --- the hostile-file mutation suite ----------------------------------------

func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

func put64(b []byte, off int, v uint64) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint64(c[off:], v)
	return c
}

func put16(b []byte, off int, v uint16) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[off:], v)
	return c
}

func find(t *testing.T, b []byte, sig string, nth int) int {
	t.Helper()
	pos := -1
	for i := 0; i <= nth; i++ {
		j := bytes.Index(b[pos+1:], []byte(sig))
		if j < 0 {
			t.Fatalf("no %d-th %q", nth, sig)
		}
		pos += 1 + j
	}
	return pos
}

// rootHeader is the root group's object header address (superblock 0).
func rootHeader(b []byte) int { return int(u64(b, 64)) }

// message finds the first message of type typ in the first block of the
// object header at addr and returns the offset of its size field and of its
// data.
func message(t *testing.T, b []byte, addr int, typ uint16) (sizeAt, dataAt int) {
	t.Helper()
	size := int(binary.LittleEndian.Uint32(b[addr+8:]))
	for p := addr + 16; p+8 <= addr+16+size; {
		mt := binary.LittleEndian.Uint16(b[p:])
		ms := int(binary.LittleEndian.Uint16(b[p+2:]))
		if mt == typ {
			return p + 2, p + 8
		}
		p += 8 + ms
	}
	t.Fatalf("no message 0x%04x in the header at %d", typ, addr)
	return 0, 0
}

// firstChild is the object header address of the first entry of the first
// symbol table node.
func firstChild(t *testing.T, b []byte) int {
	return int(u64(b, find(t, b, "SNOD", 0)+8+8))
}

const far = uint64(1) << 40

// TestHostileFiles: each mutation of a real h5py file is refused with a
// typed error that says what is wrong, never a panic, and within the
// allocation bound.
func TestHostileFiles(t *testing.T) {
	tiny, types, big, deep := seed(t, "tiny.h5"), seed(t, "types.h5"), seed(t, "big_group.h5"), seed(t, "deep.h5")
	dataPos := bytes.Index(tiny, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40})
	if dataPos < 0 {
		t.Fatal("tiny.h5: dataset data not found")
	}
	ds := firstChild(t, tiny)
	_, spaceAt := message(t, tiny, ds, 0x0001)
	_, typeAt := message(t, tiny, ds, 0x0003)
	_, layoutAt := message(t, tiny, ds, 0x0008)
	gcol := find(t, tiny, "GCOL", 0)
	vref := bytes.Index(tiny, append(binary.LittleEndian.AppendUint32(nil, 7), binary.LittleEndian.AppendUint64(nil, uint64(gcol))...))
	if vref < 0 {
		t.Fatal("tiny.h5: vlen reference not found")
	}
	// types.h5: group "a" has 40 attributes, so continuation blocks.
	aHdr := int(u64(types, find(t, types, "SNOD", 0)+8+8)) // "a" sorts first in the root group
	_, contAt := message(t, types, aHdr, 0x0010)
	// big_group.h5: the level-1 node of the two-level B-tree.
	var top int
	for i := 0; ; i++ {
		p := find(t, big, "TREE", i)
		if big[p+5] == 1 {
			top = p
			break
		}
	}
	var leaf int
	for i := 0; ; i++ {
		p := find(t, big, "TREE", i)
		if big[p+5] == 0 && binary.LittleEndian.Uint16(big[p+6:]) >= 2 {
			leaf = p
			break
		}
	}
	heap := find(t, tiny, "HEAP", 0)
	snod := find(t, tiny, "SNOD", 0)
	tree := find(t, tiny, "TREE", 0)
	root := rootHeader(tiny)

	tests := []struct {
		name string
		data []byte
	}{
		// truncation in each kind of structure
		{"truncated superblock", tiny[:40]},
		{"truncated root object header", tiny[:root+20]},
		{"truncated group B-tree", tiny[:tree+12]},
		{"truncated local heap", tiny[:heap+12]},
		{"truncated symbol table node", tiny[:snod+20]},
		{"truncated global heap", tiny[:gcol+20]},
		{"truncated dataset data", tiny[:dataPos+6]},
		{"truncated continuation block", types[:int(u64(types, contAt))+8]},
		// offsets past the end
		{"root header address past the end", put64(tiny, 64, far)},
		{"dataset address past the end", put64(tiny, layoutAt+2, far)},
		{"B-tree child past the end", put64(tiny, tree+32, far)},
		{"local heap data past the end", put64(tiny, heap+24, far)},
		{"global heap collection past the end", put64(tiny, vref+4, far)},
		{"continuation past the end", put64(types, contAt, far)},
		{"link name offset past the heap", put64(tiny, snod+8, far)},
		// cycles
		{"B-tree child refers to its sibling", put64(big, top+48, u64(big, top+32))},
		{"B-tree node refers to itself", put64(big, top+32, uint64(top))},
		{"symbol node listed twice", put64(big, leaf+48, u64(big, leaf+32))},
		{"continuation refers to its own header", put64(types, contAt, uint64(aHdr+16))},
		// huge claims
		{"dataspace of 2^40 elements", put64(tiny, spaceAt+8, far)},
		{"dataspace product overflows", put64(put64(tiny, spaceAt+8, far), spaceAt+16, far)},
		{"local heap of 2^40 bytes", put64(tiny, heap+8, far)},
		{"symbol node of 65535 entries", put16(tiny, snod+6, 0xffff)},
		{"B-tree node of 65535 entries", put16(tiny, tree+6, 0xffff)},
		{"global heap collection of 2^40 bytes", put64(tiny, gcol+8, far)},
		{"global heap object of 2^40 bytes", put64(tiny, gcol+16+8, far)},
		{"variable-length string of 2^31 bytes", put64(tiny, vref, 0x7fffffff)},
		{"variable-length string object missing", put64(tiny, vref+12, 0xdead)},
		{"header message larger than its block", put16(tiny, root+16+2, 0xfff8)},
		{"header message size not a multiple of 8", put16(tiny, root+16+2, 13)},
		{"contiguous size disagrees with shape", put64(tiny, layoutAt+10, 1<<20)},
		// unsupported by name
		{"superblock version 2", func() []byte { c := bytes.Clone(tiny); c[8] = 2; return c }()},
		{"datatype class compound", func() []byte { c := bytes.Clone(tiny); c[typeAt] = c[typeAt]&0xf0 | 6; return c }()},
		{"not HDF5", func() []byte { c := bytes.Clone(tiny); c[0] = 'X'; return c }()},
		// nesting
		{"groups nested 70 deep", deep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			got := allocated(func() { err = readAll(tc.data) })
			if err == nil {
				t.Fatal("read without error")
			}
			var fe *hdf5.FormatError
			var ue *hdf5.UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if limit := allocBase + allocPerByte*uint64(len(tc.data)); got > limit {
				t.Fatalf("allocated %d bytes for %d input bytes (limit %d)", got, len(tc.data), limit)
			}
			t.Logf("%v", err)
		})
	}
}

// TestTruncatedEverywhere cuts tiny.h5 at every length: every cut is
// refused (h5py leaves no unused tail), none panics.
func TestTruncatedEverywhere(t *testing.T) {
	b := seed(t, "tiny.h5")
	for n := 0; n < len(b); n++ {
		if err := readAll(b[:n]); err == nil {
			t.Fatalf("cut at %d of %d: read without error", n, len(b))
		}
	}
}

// TestLinkToAncestor: HDF5 allows a group to hold a hard link to itself or
// an ancestor; Walk visits each group once and ends.
func TestLinkToAncestor(t *testing.T) {
	tiny := seed(t, "tiny.h5")
	loop := put64(tiny, find(t, tiny, "SNOD", 0)+8+8, uint64(rootHeader(tiny)))
	f, err := hdf5.Open(bytesReader(loop), int64(len(loop)))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := f.Root().Walk(func(rel string, k hdf5.Kind) error { seen = append(seen, rel+":"+k.String()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "w:group" {
		t.Fatalf("walked %q", seen)
	}
}

// TestReadBudget: reading one dataset over and over (as a file linking it
// from many places would make a reader do) stops at the File's budget of six
// times the file's size plus 1 MiB, with a FormatError.
func TestReadBudget(t *testing.T) {
	b := seed(t, "tiny.h5")
	f, err := hdf5.Open(bytesReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.Root().Dataset("w")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := 0; ; i++ {
		raw, err := d.ReadRaw()
		if err != nil {
			var fe *hdf5.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			break
		}
		total += len(raw)
		if total > 6*len(b)+1<<20 {
			t.Fatalf("read %d bytes of a %d-byte file without hitting the budget", total, len(b))
		}
	}
	t.Logf("stopped after %d bytes of data from a %d-byte file", total, len(b))
}
