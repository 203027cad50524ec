package kerasfile_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/seqcast/seqcast/hdf5"
	"github.com/seqcast/seqcast/kerasfile"
)

// testdata/layouts/ holds files in the exact layouts Keras writes, written
// by tools/tests/keras_layouts.py through testdata/pyread.py --layouts DIR.

func layout(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/layouts/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(b []byte, opt *kerasfile.Options) (*kerasfile.Model, error) {
	return kerasfile.Read(bytes.NewReader(b), int64(len(b)), "input", opt)
}

// Allocation bound: allocBase plus allocPerByte per input byte. A deflated
// member may expand Options.MaxRatio (20) times beyond its first MiB, so the
// per-byte figure covers that and the arrays decoded from it.
const (
	allocBase    = 4 << 20
	allocPerByte = 64
)

func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func typedError(err error) bool {
	var e *kerasfile.Error
	var ue *kerasfile.UnsupportedClassError
	var le *kerasfile.LimitError
	return errors.As(err, &e) || errors.As(err, &ue) || errors.As(err, &le)
}

// FuzzRead: any input ends in a model or a typed error, never a panic, and
// allocates within the bound. Seeds: the smallest Keras layouts of
// testdata/layouts (large seeds make the fuzzer spend its time minimising).
func FuzzRead(f *testing.F) {
	for _, n := range []string{"keras3_deflated.keras", "keras213_deflated.keras", "tiny_keras2.h5"} {
		f.Add(layout(f, n))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		if got := allocated(func() { _, err = read(data, nil) }); got > allocBase+allocPerByte*uint64(len(data)) {
			t.Fatalf("allocated %d bytes for a %d-byte input (%v)", got, len(data), err)
		}
		if err != nil && !typedError(err) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}

type member struct {
	name   string
	data   []byte
	method uint16
	// raw, when set, is written as is under a header claiming size bytes.
	raw  []byte
	size uint64
}

func makeZip(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, m := range ms {
		if m.raw != nil {
			w, err := z.CreateRaw(&zip.FileHeader{Name: m.name, Method: m.method, CRC32: 0,
				CompressedSize64: uint64(len(m.raw)), UncompressedSize64: m.size})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(m.raw)
			continue
		}
		w, err := z.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// members of testdata/layouts/keras3.keras
func keras3Members(t testing.TB) (cfg, meta, weights []byte) {
	b := layout(t, "keras3.keras")
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	get := func(n string) []byte {
		rc, err := z.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		d, _ := io.ReadAll(rc)
		return d
	}
	return get("config.json"), get("metadata.json"), get("model.weights.h5")
}

// TestHostileArchives: zip bombs, lying headers, truncation, duplicates and
// hostile configs are refused with a typed error naming the problem, within
// the allocation bound.
func TestHostileArchives(t *testing.T) {
	cfg, meta, weights := keras3Members(t)
	good := makeZip(t, member{name: "metadata.json", data: meta}, member{name: "config.json", data: cfg},
		member{name: "model.weights.h5", data: weights})
	if _, err := read(good, nil); err != nil {
		t.Fatalf("the unmutated archive: %v", err)
	}
	zeros := make([]byte, 64<<20)
	bomb := deflate(zeros)
	badCRC := bytes.Clone(good)
	if i := bytes.Index(badCRC, []byte("HDF\r\n")); i > 0 {
		badCRC[i+200] ^= 0xff
	}
	cdir := bytes.LastIndex(good, []byte("PK\x01\x02"))
	deep := strings.Repeat(`{"class_name":"TimeDistributed","config":{"layer":`, 4000) + `{"class_name":"Dense","config":{}}` + strings.Repeat("}}", 4000)
	withCfg := func(c string) []byte {
		return makeZip(t, member{name: "config.json", data: []byte(c)}, member{name: "model.weights.h5", data: weights})
	}
	tests := []struct {
		name, want string
		data       []byte
		opt        *kerasfile.Options
	}{
		{"zip bomb: 64 MiB of zeros deflated", "more than the 20:1 allowed",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", raw: bomb, size: uint64(len(zeros)), method: zip.Deflate}), nil},
		{"zip bomb: header claims 100 MiB from a few KiB", "more than deflate can expand",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", raw: deflate(weights), size: 100 << 20, method: zip.Deflate}), nil},
		{"zip bomb: headers claim 1 TiB in all", "bytes uncompressed",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", raw: deflate(weights), size: 1 << 40, method: zip.Deflate}), nil},
		{"member over MaxWeightsSize", "over the limit",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", data: weights, method: zip.Deflate}), &kerasfile.Options{MaxWeightsSize: 1000}},
		{"config.json over MaxJSONSize", "over the limit", good, &kerasfile.Options{MaxJSONSize: 100}},
		{"file over MaxFileSize", "over the limit", good, &kerasfile.Options{MaxFileSize: 1000}},
		{"deflated member longer than declared", "model.weights.h5",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", raw: deflate(weights), size: uint64(len(weights)) / 2, method: zip.Deflate}), nil},
		{"deflated member shorter than declared", "model.weights.h5",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", raw: deflate(weights[:len(weights)/2]), size: uint64(len(weights)), method: zip.Deflate}), nil},
		{"stored member with a bad CRC", "CRC", badCRC, nil},
		{"unsupported compression method", "compression method",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", raw: []byte("xx"), size: 2, method: 12}), nil},
		{"two members of one name", "two members",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", data: weights}), nil},
		{"no model.weights.h5", "no model.weights.h5", makeZip(t, member{name: "config.json", data: cfg}), nil},
		{"truncated in a local header", "not a zip", good[:20], nil},
		{"truncated in the data", "not a zip", good[:len(good)/2], nil},
		{"truncated in the central directory", "not a zip", good[:cdir+10], nil},
		{"config.json is not JSON", "not JSON", withCfg(`{"class_name":`), nil},
		{"top-level class is not a model", "not Sequential", withCfg(`{"class_name":"Dense","config":{}}`), nil},
		{"nested model", "nested models", withCfg(`{"class_name":"Sequential","config":{"layers":[{"class_name":"Functional","config":{}}]}}`), nil},
		{"wrappers nested 4000 deep", "", withCfg(`{"class_name":"Sequential","config":{"layers":[` + deep + `]}}`), nil},
		{"h5 inside is not HDF5", "model.weights.h5",
			makeZip(t, member{name: "config.json", data: cfg}, member{name: "model.weights.h5", data: []byte("hello")}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			got := allocated(func() { _, err = read(tc.data, tc.opt) })
			if err == nil {
				t.Fatal("read without error")
			}
			if !typedError(err) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if limit := allocBase + allocPerByte*uint64(len(tc.data)); got > limit {
				t.Fatalf("allocated %d bytes for %d input bytes (limit %d)", got, len(tc.data), limit)
			}
			t.Logf("%.300v", err)
		})
	}
}

// TestTruncatedArchives cuts small .keras and .h5 files at every length (in
// steps for the larger ones): always a typed error, never a panic.
func TestTruncatedArchives(t *testing.T) {
	for _, n := range []string{"keras3_deflated.keras", "keras213_deflated.keras", "keras3.h5", "keras3.keras"} {
		b := layout(t, n)
		step := max(1, len(b)/3000)
		for i := 0; i < len(b); i += step {
			_, err := read(b[:i], nil)
			if err == nil || !typedError(err) {
				t.Fatalf("%s cut at %d of %d: %v", n, i, len(b), err)
			}
		}
	}
}

// TestHDF5ErrorsReachable: an HDF5 refusal inside a Keras file is an
// *hdf5.UnsupportedError for errors.As, wrapped in a kerasfile.Error that
// names the file.
func TestHDF5ErrorsReachable(t *testing.T) {
	b := layout(t, "keras3.h5")
	c := bytes.Clone(b)
	c[8] = 2 // superblock version 2
	_, err := read(c, nil)
	var ue *hdf5.UnsupportedError
	var ke *kerasfile.Error
	if !errors.As(err, &ue) || !errors.As(err, &ke) || ke.File != "input" {
		t.Fatalf("%v", err)
	}
}
