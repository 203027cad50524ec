package skpickle

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// farMatch is data an LZMA encoder compresses more than 64-fold and whose
// tail repeats its head from a megabyte back: an encoder that finds that
// match (ulikunitz/xz's xz writer does) makes a stream the small first
// dictionary cannot decode, so it must be retried with the claimed one.
func farMatch() []byte {
	rng := rand.New(rand.NewSource(1))
	head := make([]byte, 4096)
	rng.Read(head)
	return append(append(append([]byte(nil), head...), make([]byte, 1<<20)...), head...)
}

func TestLZMADictionaryRetry(t *testing.T) {
	want := farMatch()
	var alone, x bytes.Buffer
	w, err := lzma.WriterConfig{DictCap: 4 << 20}.NewWriter(&alone)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(want)
	w.Close()
	xw, err := xz.WriterConfig{DictCap: 4 << 20}.NewWriter(&x)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(want)
	xw.Close()
	for name, data := range map[string][]byte{"lzma": alone.Bytes(), "xz": x.Bytes()} {
		if len(want) < 64*len(data) {
			t.Fatalf("%s: ratio %d, the test needs > 64", name, len(want)/len(data))
		}
		got, c, err := decompress(data, 64<<20)
		if err != nil || !bytes.Equal(got, want) || string(c) != name {
			t.Errorf("%s: %d bytes (%v), %v", name, len(got), c, err)
		}
		// Within a limit smaller than the stream: a LimitError, whatever the dictionary.
		_, _, err = decompress(data, 512<<10)
		var le *LimitError
		if !errors.As(err, &le) {
			t.Errorf("%s under a 512 KiB limit: %v", name, err)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		head string
		want Compression
		bad  bool
	}{
		{"\x80\x04\x95", CompressionNone, false},
		{"\x78\x9c", CompressionZlib, false},
		{"\x1f\x8b\x08", CompressionGzip, false},
		{"BZh9", CompressionBz2, false},
		{"\xfd7zXZ\x00", CompressionXz, false},
		{"\x5d\x00\x00\x10", CompressionLzma, false},
		{"ZF0x", "", true},
		{"\x04\x22\x4d\x18", "", true},
	} {
		c, err := detect([]byte(tc.head))
		if c != tc.want || (err != nil) != tc.bad {
			t.Errorf("%q: %q, %v", tc.head, c, err)
		}
	}
}
