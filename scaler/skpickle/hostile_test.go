package skpickle

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The hostile-input catalogue of tools/tests/test_pickle_hostile.py and
// test_safe_pickle.py, ported: injected globals, attack pickles, huge
// length claims, deep nesting, memo abuse and decompression bombs. Every
// case ends in one of this package's typed errors, with allocation bounded.

// cleanErr fails unless err is one of the package's typed errors.
func cleanErr(t testing.TB, what string, err error) {
	t.Helper()
	var ue *UnsafeError
	var fe *FormatError
	var le *LimitError
	if err == nil {
		t.Errorf("%s: accepted", what)
	} else if !errors.As(err, &ue) && !errors.As(err, &fe) && !errors.As(err, &le) {
		t.Errorf("%s: untyped error %T: %v", what, err, err)
	}
}

// allocated returns the bytes f allocates (the tests using it are not
// parallel).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a) // TotalAlloc is cumulative: no GC needed
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func binUnicode(s string) []byte {
	b := []byte{'X', 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], uint32(len(s)))
	return append(b, s...)
}

const marker = "/tmp/skpickle-test-pwned"

// payloads are pickle fragments that each leave one object on the stack,
// with the global each must be refused for ("" for inert ones).
func payloads() map[string]struct {
	code   []byte
	global string
} {
	s := binUnicode
	cmd := "touch " + marker
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	type p = struct {
		code   []byte
		global string
	}
	return map[string]p{
		"GLOBAL os.system":             {cat([]byte("cos\nsystem\n"), s(cmd), []byte("\x85R")), "os.system"},
		"GLOBAL posix.system":          {cat([]byte("cposix\nsystem\n"), s(cmd), []byte("\x85R")), "posix.system"},
		"STACK_GLOBAL subprocess.call": {cat(s("subprocess"), s("call"), []byte{0x93}, s("touch"), s(marker), []byte("\x86\x85R")), "subprocess.call"},
		"REDUCE builtins.eval":         {cat([]byte("cbuiltins\neval\n"), s("__import__('os').system('"+cmd+"')"), []byte("\x85R")), "builtins.eval"},
		"REDUCE builtins.exec":         {cat([]byte("c__builtin__\nexec\n"), s("open('"+marker+"','w')"), []byte("\x85R")), "__builtin__.exec"},
		"REDUCE builtins.getattr":      {cat([]byte("cbuiltins\ngetattr\ncnumpy\ndtype\n"), s("__init__"), []byte("\x86R")), "builtins.getattr"},
		"INST os.system":               {cat([]byte("("), s(cmd), []byte("ios\nsystem\n")), "os.system"},
		"OBJ os.system":                {cat([]byte("(cos\nsystem\n"), s(cmd), []byte("o")), "os.system"},
		"NEWOBJ on numpy.dtype":        {cat([]byte("cnumpy\ndtype\n"), s("f8"), []byte("\x85\x81")), ""},
		"BUILD on a dict":              {[]byte("}}b"), ""},
		"persistent id":                {cat(s("x"), []byte("Q")), ""},
		"EXT code":                     {[]byte("\x82\x01"), ""},
		"_codecs.encode rot13":         {cat([]byte("c_codecs\nencode\n"), s("abc"), s("rot13"), []byte("\x86R")), ""},
		"numpy.frombuffer":             {[]byte("cnumpy\nfrombuffer\nC\x04abcd\x85R"), "numpy.frombuffer"},
		"numpy.load":                   {cat([]byte("cnumpy\nload\n"), s(marker), []byte("\x85R")), "numpy.load"},
		"joblib.load":                  {cat([]byte("cjoblib\nload\n"), s(marker), []byte("\x85R")), "joblib.load"},
		"copyreg._reconstructor":       {cat([]byte("ccopyreg\n_reconstructor\n"), []byte("cbuiltins\nobject\nN\x87R")), "copyreg._reconstructor"},
		"sklearn QuantileTransformer":  {[]byte("csklearn.preprocessing._data\nQuantileTransformer\n)\x81"), "sklearn.preprocessing._data.QuantileTransformer"},
	}
}

// TestHostileFiles: real attack pickles written by Python (os.system via
// __reduce__, eval, subprocess, a payload inside a fitted scaler's state, a
// zlib joblib file, an unsupported estimator) are refused naming the global.
func TestHostileFiles(t *testing.T) {
	var want map[string]string
	b, err := os.ReadFile("testdata/hostile/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil || len(want) < 7 {
		t.Fatalf("testdata/hostile/expected.json: %v", err)
	}
	for name, global := range want {
		_, err := LoadFile(filepath.Join("testdata", "hostile", name+".pkl"))
		var ue *UnsafeError
		if !errors.As(err, &ue) || ue.Global() != global {
			t.Errorf("%s: %v, want refusal of %s", name, err, global)
		}
		if strings.HasPrefix(global, "sklearn.") && !strings.Contains(err.Error(), "MinMaxScaler, StandardScaler, RobustScaler, MaxAbsScaler") {
			t.Errorf("%s: %v does not list the supported scalers", name, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a payload ran")
	}
}

func TestPayloadsAlone(t *testing.T) {
	for what, p := range payloads() {
		for _, proto := range []string{"", "\x80\x02", "\x80\x04", "\x80\x05"} {
			_, err := Load(append(append([]byte(proto), p.code...), '.'))
			cleanErr(t, what, err)
			var ue *UnsafeError
			if p.global != "" && (!errors.As(err, &ue) || ue.Global() != p.global) {
				t.Errorf("%s: %v, want refusal of %s", what, err, p.global)
			}
		}
	}
}

// opcodeStarts walks a plain pickle's opcodes (up to the first byte that is
// not one, such as joblib's array data).
func opcodeStarts(data []byte) []int {
	var out []int
	line := func(p int) int {
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			return len(data) + 1
		}
		return p + i + 1
	}
	lenArg := func(p, n int) int {
		if p+n > len(data) {
			return len(data) + 1
		}
		var l uint64
		for i := n - 1; i >= 0; i-- {
			l = l<<8 | uint64(data[p+i])
		}
		if l > uint64(len(data)) {
			return len(data) + 1
		}
		return p + n + int(l)
	}
	for p := 0; p < len(data); {
		out = append(out, p)
		op, q := data[p], p+1
		switch op {
		case '(', '.', '0', '1', '2', 'N', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u', 'Q',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
		case 0x80, 'K', 'h', 'q', 0x82:
			q++
		case 'M', 0x83:
			q += 2
		case 'J', 'j', 'r', 0x84:
			q += 4
		case 'G', 0x95:
			q += 8
		case 'c', 'i':
			q = line(line(q))
		case 'g', 'p', 'P', 'I', 'L', 'F', 'S', 'V':
			q = line(q)
		case 'U', 'C', 0x8c, 0x8a:
			q = lenArg(q, 1)
		case 'T', 'B', 'X', 0x8b:
			q = lenArg(q, 4)
		case 0x8d, 0x8e, 0x96:
			q = lenArg(q, 8)
		default:
			return out[:len(out)-1]
		}
		if op == '.' || q > len(data) {
			break
		}
		p = q
	}
	return out
}

// hostileSeeds are the real fixtures and a few golden pickles of every
// container, decompressed where the test needs the pickle itself.
func hostileSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names := []string{fixtureDir + "/scaler_X.pkl", fixtureDir + "/scaler_y.pkl"}
	for _, c := range []string{"p2", "p3", "p4", "p5", "np2-p5", "joblib-none", "joblib-zlib", "joblib-gzip", "joblib-bz2", "joblib-lzma", "joblib-xz", "joblib-p2"} {
		names = append(names, "testdata/pickles/minmax_default-"+c+".pkl")
	}
	names = append(names, "testdata/pickles/standard_feature_names-joblib-none.pkl", "testdata/pickles/robust_no_scaling-p2.pkl",
		"testdata/pickles/minmax_float32-np2-p4.pkl")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(n))+"/"+filepath.Base(n)] = b
	}
	return out
}

// TestPayloadSpliced splices each payload (and a POP) in front of every
// opcode of the seed pickles, so that it runs deep inside a real scaler's
// state: refused, with a clean error, every time.
func TestPayloadSpliced(t *testing.T) {
	n := 0
	for name, data := range hostileSeeds(t) {
		if raw, _, err := decompress(data, 1<<20); err == nil {
			data = raw
		}
		starts := opcodeStarts(data)
		if len(starts) < 20 {
			t.Fatalf("%s: %d opcodes", name, len(starts))
		}
		for what, p := range payloads() {
			for _, pos := range starts {
				mut := append(append(append(append([]byte(nil), data[:pos]...), p.code...), '0'), data[pos:]...)
				_, err := Load(mut)
				cleanErr(t, name+" + "+what, err)
				n++
			}
		}
	}
	t.Logf("%d spliced pickles refused", n)
}

func zlibBomb(t testing.TB, size int) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, 9)
	w.Write([]byte("\x80\x02"))
	chunk := bytes.Repeat([]byte("N0"), 1<<19)
	for i := 0; i < size>>20+2; i++ {
		w.Write(chunk)
	}
	w.Write([]byte("N."))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reconstruct(shape []byte, dtype string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01")
	b.Write(shape)
	b.WriteString("cnumpy\ndtype\n")
	b.Write(binUnicode(dtype))
	b.WriteString("K\x00K\x01\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C")
	b.WriteByte(byte(len(data)))
	b.Write(data)
	b.WriteString("tb.")
	return b.Bytes()
}

// longTuple is a MARK ... TUPLE of LONG1 ints.
func longTuple(ints ...[]byte) []byte {
	b := []byte{'('}
	for _, x := range ints {
		b = append(append(append(b, 0x8a), byte(len(x))), x...)
	}
	return append(b, 't')
}

func u64(op byte, n uint64, rest string) []byte {
	b := []byte{0x80, 0x04, op, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint64(b[3:], n)
	return append(b, rest...)
}

// hugeCases: length and size claims, nesting and memo abuse, bombs.
func hugeCases(t testing.TB) map[string][]byte {
	rep := func(s string, n int) []byte { return bytes.Repeat([]byte(s), n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return map[string][]byte{
		"array of 2**40 float64":      reconstruct(longTuple([]byte{0, 0, 0, 0, 0, 1}), "f8", nil),
		"array of 2**31 x 2**31":      reconstruct(longTuple([]byte{0, 0, 0, 0x80, 0}, []byte{0, 0, 0, 0x80, 0}), "f8", nil),
		"array of 2**70 elements":     reconstruct(longTuple([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0}), "f8", nil),
		"array of 2**62 x 4":          reconstruct(longTuple([]byte{0, 0, 0, 0, 0, 0, 0, 0x40}, []byte{4}), "f8", nil),
		"array of -1 elements":        reconstruct(longTuple([]byte{0xff}), "f8", nil),
		"array with 10**6 dimensions": reconstruct(cat([]byte("("), rep("K\x01", 1000000), []byte("t")), "f8", nil),
		"array of complex128":         reconstruct(longTuple([]byte{1}), "c16", make([]byte, 16)),
		"BINBYTES8 of 2**62 bytes":    u64(0x8e, 1<<62, "abc."),
		"BINUNICODE8 of 2**62 bytes":  u64(0x8d, 1<<62, "abc."),
		"BYTEARRAY8 of 2**62 bytes":   u64(0x96, 1<<62, "abc."),
		"BINBYTES8 of 2**64-1 bytes":  u64(0x8e, ^uint64(0), "abc."),
		"FRAME of 2**62 bytes":        u64(0x95, 1<<62, "N."),
		"BINUNICODE of 2**32-1":       []byte("\x80\x02X\xff\xff\xff\xffabc."),
		"LONG4 of 2**31 bytes":        []byte("\x80\x02\x8b\xff\xff\xff\x7f\x01."),
		"LONG4 negative length":       []byte("\x80\x02\x8b\xfb\xff\xff\xff\x01."),
		"BINGET past the memo":        []byte("\x80\x02h\xff."),
		"LONG_BINGET 2**32-1":         []byte("\x80\x02j\xff\xff\xff\xff."),
		"LONG_BINPUT 2**32-1":         []byte("\x80\x02Nr\xff\xff\xff\xff."),
		"memo flood":                  cat([]byte("\x80\x02N"), rep("\x94", 1<<20), []byte(".")),
		"memo flood LONG_BINPUT":      memoFlood(1 << 19),
		"MARK flood":                  cat([]byte("\x80\x02"), rep("(", 1000000), []byte("N.")),
		"EMPTY_LIST flood":            cat([]byte("\x80\x02"), rep("]", 1000000), []byte(".")),
		"nested 100k lists":           cat([]byte("\x80\x02"), rep("]", 100000), rep("a", 99999), []byte(".")),
		"DUP flood":                   cat([]byte("\x80\x02N"), rep("2", 1<<21), []byte(".")),
		"BINGET append flood":         cat([]byte("\x80\x02]q\x00"), rep("h\x00a", 1<<19), []byte(".")),
		"deep dtype state":            cat([]byte("\x80\x02cnumpy\ndtype\n"), binUnicode("f8"), []byte("\x85R"), rep("]", 100000), rep("a", 99999), []byte("b.")),
		"truncated FRAME length":      []byte("\x80\x04\x95"),
		"new FRAME inside a frame":    []byte("\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x95\x01\x00\x00\x00\x00\x00\x00\x00N."),
		"protocol 6":                  []byte("\x80\x06N."),
		"STOP on empty stack":         []byte("\x80\x02."),
		"empty file":                  nil,
		"zlib bomb":                   zlibBomb(t, 70<<20),
		"gzip garbage":                cat([]byte("\x1f\x8b"), make([]byte, 64)),
		"bz2 garbage":                 cat([]byte("BZh9"), rep("\xff", 64)),
		"xz garbage":                  cat(xzMagic, rep("\xff", 64)),
		"lzma garbage":                cat([]byte("\x5d\x00\x00"), rep("\xff", 64)),
		"lzma 4 GiB dictionary":       cat([]byte("\x5d\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff"), rep("\x00", 64)),
		"lzma 2**60 byte claim":       cat([]byte("\x5d\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x10"), rep("\x00", 64)),
		"zlib garbage":                cat([]byte("\x78\x9c"), rep("\xff", 64)),
		"lz4":                         cat([]byte("\x04\x22\x4d\x18"), rep("\x00", 16)),
		"joblib ZF":                   []byte("ZF0x10\n"),
	}
}

func memoFlood(n int) []byte {
	b := []byte("\x80\x02N")
	for i := 0; i < n; i++ {
		b = append(b, 'r', byte(i), byte(i>>8), byte(i>>16), byte(i>>24))
	}
	return append(b, '.')
}

// allocBound is what a hostile input of n bytes may make Load allocate:
// a small multiple of the input, plus a fixed allowance, and never more
// than the limits' ceiling.
func allocBound(n int) uint64 { return 48*uint64(n) + 4<<20 }

func TestHugeClaims(t *testing.T) {
	for what, data := range hugeCases(t) {
		var err error
		lim := Limits{MaxPickleSize: 8 << 20}
		a := allocated(func() { _, err = lim.Load(data) })
		cleanErr(t, what, err)
		bound := allocBound(len(data))
		if strings.Contains(what, "bomb") || strings.Contains(what, "lzma") {
			bound = 3*uint64(lim.MaxPickleSize) + 4<<20
		}
		if a > bound {
			t.Errorf("%s (%d bytes): allocated %d, bound %d", what, len(data), a, bound)
		}
		t.Logf("%-28s %8d bytes in, %9d allocated: %v", what, len(data), a, err)
	}
}
