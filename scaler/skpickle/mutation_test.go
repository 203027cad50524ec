package skpickle

import (
	"maps"
	"math/rand"
	"slices"
	"testing"
)

// The mutation suite of tools/tests/test_pickle_hostile.py, on this reader:
// the seed files (real fixtures and golden pickles of every container)
// truncated at every offset and with random byte flips. Every outcome is a
// typed error or a scaler, never a panic, with bounded allocation; no
// truncated file loads.

// loadMeasured loads data and returns the error and bytes allocated.
func loadMeasured(data []byte) (err error, alloc uint64) {
	alloc = allocated(func() { _, err = Load(data) })
	return err, alloc
}

func TestTruncatedAtEveryOffset(t *testing.T) {
	n := 0
	seeds := hostileSeeds(t)
	for _, name := range slices.Sorted(maps.Keys(seeds)) {
		data := seeds[name]
		for cut := 0; cut < len(data); cut++ {
			err, a := loadMeasured(data[:cut])
			cleanErr(t, name+" truncated", err)
			if a > allocBound(cut) {
				t.Errorf("%s truncated to %d: allocated %d", name, cut, a)
			}
			n++
		}
	}
	t.Logf("%d truncations refused", n)
}

func TestByteFlips(t *testing.T) {
	rng := rand.New(rand.NewSource(20261122))
	n, ok := 0, 0
	seeds := hostileSeeds(t)
	for _, name := range slices.Sorted(maps.Keys(seeds)) {
		data := seeds[name]
		for range 300 {
			b := append([]byte(nil), data...)
			for range []int{1, 1, 2, 4}[rng.Intn(4)] {
				i := rng.Intn(len(b))
				switch rng.Intn(4) {
				case 0:
					b[i] ^= 1 << rng.Intn(8)
				case 1:
					b[i] = byte(rng.Intn(256))
				case 2:
					b[i] = 0xff
				default:
					b[i] = 0
				}
			}
			s, err := Load(b)
			n++
			if err == nil {
				ok++
				if _, merr := s.MarshalJSON(); merr != nil {
					t.Errorf("%s: loaded scaler does not marshal: %v", name, merr)
				}
				continue
			}
			cleanErr(t, name+" flipped", err)
		}
	}
	t.Logf("%d mutants: %d still load, the rest refused cleanly", n, ok)
}

// TestLengthFieldsPastEnd sets every 1-, 4- and 8-byte length argument of
// the seed pickles' opcodes to values past the end of the stream: refused,
// except a FRAME, which then covers the rest of the stream as in Python's
// unpickler (it only groups opcodes; nothing is allocated for it).
func TestLengthFieldsPastEnd(t *testing.T) {
	n := 0
	for name, data := range hostileSeeds(t) {
		if raw, _, err := decompress(data, 1<<20); err == nil {
			data = raw
		}
		for _, p := range opcodeStarts(data) {
			var width int
			switch data[p] {
			case 'U', 'C', 0x8c, 0x8a:
				width = 1
			case 'T', 'B', 'X', 0x8b:
				width = 4
			case 0x8d, 0x8e, 0x96, 0x95:
				width = 8
			default:
				continue
			}
			for _, fill := range []byte{0xff, 0x7f} {
				b := append([]byte(nil), data...)
				for i := 1; i <= width && p+i < len(b); i++ {
					b[p+i] = fill
				}
				err, a := loadMeasured(b)
				if data[p] != 0x95 || err != nil { // a FRAME past the end covers the rest, as in Python
					cleanErr(t, name+" length past end", err)
				}
				if a > allocBound(len(b)) {
					t.Errorf("%s: length at %d: allocated %d", name, p, a)
				}
				n++
			}
		}
	}
	t.Logf("%d length claims refused", n)
}
