package skpickle

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// Compression names a joblib compression, as detected from the magic bytes.
type Compression string

// The compressions Load reads (joblib.dump's compress= names).
const (
	CompressionNone Compression = "none"
	CompressionZlib Compression = "zlib"
	CompressionGzip Compression = "gzip"
	CompressionBz2  Compression = "bz2"
	CompressionXz   Compression = "xz"
	CompressionLzma Compression = "lzma"
)

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// detect mirrors safe_pickle._decompress's magic-byte tests, in its order.
func detect(data []byte) (Compression, error) {
	switch {
	case bytes.HasPrefix(data, []byte("ZF")):
		return "", stateErr("joblib < 0.10 compressed format is not supported; re-save it with joblib.dump")
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		return CompressionGzip, nil
	case bytes.HasPrefix(data, []byte("BZh")):
		return CompressionBz2, nil
	case bytes.HasPrefix(data, xzMagic):
		return CompressionXz, nil
	case bytes.HasPrefix(data, []byte{0x5d, 0x00, 0x00}):
		return CompressionLzma, nil
	case bytes.HasPrefix(data, []byte{0x04, 0x22, 0x4d, 0x18}):
		return "", stateErr("lz4-compressed joblib files are not supported; re-save with compress=('zlib', 3)")
	case bytes.HasPrefix(data, []byte{0x78}):
		return CompressionZlib, nil
	}
	return CompressionNone, nil
}

// decompress returns the pickle bytes of a (possibly compressed) file, never
// more than max bytes.
func decompress(data []byte, max int64) ([]byte, Compression, error) {
	c, err := detect(data)
	if err != nil {
		return nil, "", err
	}
	var r io.Reader
	switch c {
	case CompressionNone:
		return data, c, nil
	case CompressionGzip:
		r, err = gzip.NewReader(bytes.NewReader(data))
	case CompressionZlib:
		r, err = zlib.NewReader(bytes.NewReader(data))
	case CompressionBz2:
		r = bzip2.NewReader(bytes.NewReader(data))
	case CompressionLzma, CompressionXz:
		dec := lzmaAlone
		if c == CompressionXz {
			dec = xzDecode
		}
		out, err := dec(data, max)
		if err != nil {
			return nil, c, err
		}
		return out, c, nil
	}
	if err != nil {
		return nil, c, stateErr("%s: %v", c, err)
	}
	out, err := readBounded(r, max, string(c))
	return out, c, err
}

func readBounded(r io.Reader, max int64, what string) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, stateErr("%s stream: %v", what, err)
	}
	if int64(len(out)) > max {
		return nil, &LimitError{What: "decompressed " + what + " stream", Limit: max, Claimed: -1}
	}
	return out, nil
}

// dictCap bounds an LZMA dictionary: a window larger than everything the
// stream may inflate to is never used, so clamping it to max changes
// nothing for a stream within the limit and stops a header claiming 4 GiB
// from allocating it.
func dictCap(claimed, max int64) int {
	c := min(claimed, max)
	return int(max64(c, lzma.MinDictCap))
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// lzmaAlone decodes a legacy .lzma stream (joblib's "lzma" compression):
// 13-byte header of properties, dictionary size, uncompressed size.
func lzmaAlone(data []byte, max int64) ([]byte, error) {
	if len(data) < lzma.HeaderLen {
		return nil, stateErr("lzma: truncated header")
	}
	dict := int64(binary.LittleEndian.Uint32(data[1:5]))
	size := binary.LittleEndian.Uint64(data[5:13])
	// liblzma's checks for a .lzma file detected by its first bytes, which
	// Python applies: properties in range, a dictionary of 2^n or
	// 2^n + 2^(n-1) bytes, a known size below 2^38.
	d := uint32(dict) - 1
	d |= d >> 2
	d |= d >> 3
	d |= d >> 4
	d |= d >> 8
	d |= d >> 16
	if data[0] > 224 || (uint32(dict) != ^uint32(0) && d+1 != uint32(dict)) || (size != ^uint64(0) && size >= 1<<38) {
		return nil, stateErr("lzma: not a .lzma stream (bad properties, dictionary size or length)")
	}
	if size != ^uint64(0) && size > uint64(max) {
		return nil, &LimitError{What: "lzma stream's uncompressed size", Limit: max, Claimed: int64(min(size, 1<<62))}
	}
	out, _, err := twoStage(dict, len(data), max, "lzma", func(dc int) (io.Reader, *bytes.Reader, error) {
		hdr := append([]byte(nil), data[:lzma.HeaderLen]...)
		binary.LittleEndian.PutUint32(hdr[1:5], uint32(dc))
		r, err := lzma.ReaderConfig{DictCap: dc}.NewReader(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(data[lzma.HeaderLen:])))
		return r, nil, err
	})
	return out, err
}

// twoStage decodes an LZMA stream whose header claims a dictionary of
// claimed bytes. Encoders claim megabytes for kilobyte files, and the
// decoder allocates the whole dictionary up front; so the first attempt
// uses one of at most 64 times the input (and 4 KiB at least), enough for
// any stream that inflates to less than that. Only a stream that inflated
// beyond it and then failed is decoded again with the claimed dictionary
// (never above max, which a stream within the limit cannot need).
func twoStage(claimed int64, inLen int, max int64, what string, open func(dict int) (io.Reader, *bytes.Reader, error)) ([]byte, *bytes.Reader, error) {
	full := dictCap(claimed, max)
	small := min(full, dictCap(64*int64(inLen), max))
	for _, dc := range []int{small, full} {
		r, br, err := open(dc)
		if err != nil {
			return nil, nil, stateErr("%s: %v", what, err)
		}
		out, err := io.ReadAll(io.LimitReader(r, max+1))
		if int64(len(out)) > max {
			return nil, nil, &LimitError{What: "decompressed " + what + " stream", Limit: max, Claimed: -1}
		}
		if err == nil {
			return out, br, nil
		}
		if dc == full || int64(len(out)) < int64(dc) {
			return nil, nil, stateErr("%s stream: %v", what, err)
		}
	}
	panic("unreachable")
}

// xzDecode reads the first stream of an .xz file: its blocks, each a single
// LZMA2 filter, with their integrity checks. The container is parsed here
// so that every block's dictionary claim is bounded before the LZMA2
// decoder allocates it.
func xzDecode(data []byte, max int64) ([]byte, error) {
	bad := func(format string, args ...any) error {
		return stateErr("xz: "+format, args...)
	}
	if len(data) < 12 {
		return nil, bad("truncated stream header")
	}
	flags := data[6:8]
	if crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(data[8:12]) {
		return nil, bad("stream header checksum mismatch")
	}
	if flags[0] != 0 || flags[1]&0xf0 != 0 {
		return nil, bad("unsupported stream flags")
	}
	check := flags[1]
	var newHash func() hash.Hash
	var checkLen int
	switch check {
	case 0x00:
	case 0x01:
		newHash, checkLen = func() hash.Hash { return crc32.NewIEEE() }, 4
	case 0x04:
		newHash, checkLen = func() hash.Hash { return crc64.New(crc64.MakeTable(crc64.ECMA)) }, 8
	case 0x0a:
		newHash, checkLen = sha256.New, 32
	default:
		return nil, bad("unsupported check type %d", check)
	}
	pos := 12
	var out []byte
	var records [][2]uint64 // unpadded and uncompressed size of each block
	for {
		if pos >= len(data) {
			return nil, bad("truncated: no index")
		}
		if data[pos] == 0 { // index indicator: every block has been read
			if err := xzIndex(data[pos:], records); err != nil {
				return nil, err
			}
			return out, nil
		}
		hsize := (int(data[pos]) + 1) * 4
		if hsize > len(data)-pos {
			return nil, bad("truncated block header")
		}
		h := data[pos : pos+hsize]
		if crc32.ChecksumIEEE(h[:hsize-4]) != binary.LittleEndian.Uint32(h[hsize-4:]) {
			return nil, bad("block header checksum mismatch")
		}
		bflags := h[1]
		if bflags&0x3c != 0 || bflags&0x03 != 0 {
			return nil, bad("only a single LZMA2 filter is supported")
		}
		p := 2
		varint := func() (uint64, bool) { return readVarint(h[:hsize-4], &p) }
		compSize, uncompSize := int64(-1), int64(-1)
		if bflags&0x40 != 0 {
			v, ok := varint()
			if !ok || v == 0 || v > uint64(len(data)) {
				return nil, bad("bad compressed size")
			}
			compSize = int64(v)
		}
		if bflags&0x80 != 0 {
			v, ok := varint()
			if !ok {
				return nil, bad("bad uncompressed size")
			}
			if v > uint64(max) {
				return nil, &LimitError{What: "xz block's uncompressed size", Limit: max, Claimed: int64(min(v, 1<<62))}
			}
			uncompSize = int64(v)
		}
		id, ok1 := varint()
		psize, ok2 := varint()
		if !ok1 || !ok2 || id != 0x21 || psize != 1 || p >= hsize-4 {
			return nil, bad("only the LZMA2 filter is supported")
		}
		prop := h[p]
		p++
		if prop > 40 {
			return nil, bad("bad LZMA2 dictionary size")
		}
		for ; p < hsize-4; p++ {
			if h[p] != 0 {
				return nil, bad("non-zero block header padding")
			}
		}
		dict := int64(0xffffffff)
		if prop < 40 {
			dict = int64(2|(prop&1)) << (prop/2 + 11)
		}
		if uncompSize >= 0 {
			dict = min(dict, uncompSize)
		}
		pos += hsize
		block, br, err := twoStage(dict, len(data), max-int64(len(out)), "xz", func(dc int) (io.Reader, *bytes.Reader, error) {
			br := bytes.NewReader(data[pos:])
			r, err := lzma.Reader2Config{DictCap: dc}.NewReader2(br)
			return r, br, err
		})
		if err != nil {
			return nil, err
		}
		used := int64(len(data)-pos) - int64(br.Len())
		if (compSize >= 0 && used != compSize) || (uncompSize >= 0 && int64(len(block)) != uncompSize) {
			return nil, bad("block sizes disagree with its header")
		}
		pos += int(used)
		for pad := (4 - used%4) % 4; pad > 0; pad-- {
			if pos >= len(data) || data[pos] != 0 {
				return nil, bad("bad block padding")
			}
			pos++
		}
		if checkLen > len(data)-pos {
			return nil, bad("truncated block check")
		}
		if newHash != nil && !bytes.Equal(checkBytes(newHash, block), data[pos:pos+checkLen]) {
			return nil, bad("block check mismatch")
		}
		pos += checkLen
		out = append(out, block...)
		records = append(records, [2]uint64{uint64(hsize) + uint64(used) + uint64(checkLen), uint64(len(block))})
	}
}

// checkBytes is a block check as xz stores it: CRC32 and CRC64 little
// endian, SHA-256 as is.
func checkBytes(newHash func() hash.Hash, block []byte) []byte {
	h := newHash()
	h.Write(block)
	sum := h.Sum(nil)
	if h.Size() == 4 || h.Size() == 8 {
		for i, j := 0, len(sum)-1; i < j; i, j = i+1, j-1 {
			sum[i], sum[j] = sum[j], sum[i]
		}
	}
	return sum
}

// xzIndex checks the index (which must list exactly the blocks read) and
// the stream footer that follows it.
func xzIndex(data []byte, records [][2]uint64) error {
	bad := func(what string) error { return stateErr("xz: %s", what) }
	p := 1
	varint := func() (uint64, bool) { return readVarint(data, &p) }
	n, ok := varint()
	if !ok || n != uint64(len(records)) {
		return bad("index does not list the blocks read")
	}
	for _, r := range records {
		u, ok1 := varint()
		c, ok2 := varint()
		if !ok1 || !ok2 || u != r[0] || c != r[1] {
			return bad("index disagrees with the blocks read")
		}
	}
	for p%4 != 0 {
		if p >= len(data) || data[p] != 0 {
			return bad("bad index padding")
		}
		p++
	}
	if len(data)-p < 4+12 {
		return bad("truncated index or stream footer")
	}
	if crc32.ChecksumIEEE(data[:p]) != binary.LittleEndian.Uint32(data[p:p+4]) {
		return bad("index checksum mismatch")
	}
	f := data[p+4 : p+16]
	if string(f[10:12]) != "YZ" || crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[0:4]) {
		return bad("bad stream footer")
	}
	if uint64(binary.LittleEndian.Uint32(f[4:8])+1)*4 != uint64(p+4) {
		return bad("stream footer's index size disagrees with the index")
	}
	return nil
}

// readVarint reads xz's multibyte integer at b[*p], advancing *p.
func readVarint(b []byte, p *int) (uint64, bool) {
	var v uint64
	for i := 0; i < 9 && *p < len(b); i++ {
		c := b[*p]
		*p++
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, true
		}
	}
	return 0, false
}
