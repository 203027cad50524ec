package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Bundle is a model's files, read once. It is immutable: nothing may change
// the slices File returns.
type Bundle struct {
	files       map[string][]byte
	names       []string // sorted
	origin      string
	fingerprint string
	size        int64
}

// New makes a bundle of files (slash-separated relative paths -> contents).
// It takes ownership of the map and its slices.
func New(origin string, files map[string][]byte) (*Bundle, error) {
	b := &Bundle{files: files, origin: origin}
	for p, data := range files {
		if !fs.ValidPath(p) || p == "." {
			return nil, &Error{Origin: origin, File: p, Reason: "not a valid relative path"}
		}
		b.names = append(b.names, p)
		b.size += int64(len(data))
	}
	slices.Sort(b.names)
	b.fingerprint = fingerprint(b.names, files)
	return b, nil
}

// fingerprint hashes every file, path and contents in path order: any change
// to the model, weights, scaler or backtest gives a new fingerprint. (The
// scheme is the one serving used before bundles were read into memory, so
// fingerprints, and the cache keys built on them, did not change.)
func fingerprint(names []string, files map[string][]byte) string {
	h := sha256.New()
	for _, p := range names {
		io.WriteString(h, p)
		h.Write([]byte{0})
		h.Write(files[p])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Origin says where the bundle came from: a directory, a Keras file, or
// "embedded:NAME".
func (b *Bundle) Origin() string { return b.origin }

// Fingerprint is the SHA-256 (hex) over every file's path and contents.
func (b *Bundle) Fingerprint() string { return b.fingerprint }

// Names lists the files, sorted.
func (b *Bundle) Names() []string { return slices.Clone(b.names) }

// Size is the total size of the files in bytes.
func (b *Bundle) Size() int64 { return b.size }

// File returns a file's contents; ok is false when the bundle lacks it. The
// slice is shared: do not modify it.
func (b *Bundle) File(name string) (data []byte, ok bool) {
	data, ok = b.files[name]
	return data, ok
}

// FS serves the bundle's files as a read-only fs.FS.
func (b *Bundle) FS() fs.FS { return memFS{b} }

// memFS is the fs.FS over a Bundle. Directories are implied by file paths.
type memFS struct{ b *Bundle }

func (m memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m.b.files[name]; ok {
		return &memFile{info: fileInfo{name: path.Base(name), size: int64(len(data))}, r: bytes.NewReader(data)}, nil
	}
	entries := m.dirEntries(name)
	if entries == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memDir{info: fileInfo{name: path.Base(name), dir: true}, entries: entries}, nil
}

// ReadFile is fs.ReadFileFS: it returns a copy, keeping the bundle immutable.
func (m memFS) ReadFile(name string) ([]byte, error) {
	if data, ok := m.b.files[name]; ok {
		return bytes.Clone(data), nil
	}
	return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrNotExist}
}

// dirEntries lists the directory name, nil when it does not exist.
func (m memFS) dirEntries(name string) []fs.DirEntry {
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	var out []fs.DirEntry
	seen := map[string]bool{}
	for _, p := range m.b.names {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		child, _, isDir := strings.Cut(rest, "/")
		if seen[child] {
			continue
		}
		seen[child] = true
		fi := fileInfo{name: child, dir: isDir}
		if !isDir {
			fi.size = int64(len(m.b.files[p]))
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	if out == nil && name == "." {
		return []fs.DirEntry{}
	}
	return out
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (f fileInfo) Name() string { return f.name }
func (f fileInfo) Size() int64  { return f.size }
func (f fileInfo) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.dir }
func (f fileInfo) Sys() any           { return nil }

type memFile struct {
	info fileInfo
	r    *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error)                { return f.info, nil }
func (f *memFile) Read(p []byte) (int, error)                { return f.r.Read(p) }
func (f *memFile) ReadAt(p []byte, off int64) (int, error)   { return f.r.ReadAt(p, off) }
func (f *memFile) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }
func (f *memFile) Close() error                              { return nil }

type memDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *memDir) Close() error { return nil }
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return slices.Clone(rest), nil
}

// Error is a bundle that cannot be read: which source, which file, why.
type Error struct {
	Origin string
	File   string // relative path; "" for the bundle as a whole
	Reason string
	Err    error // the underlying error, if any
}

func (e *Error) Error() string {
	s := "bundle " + e.Origin
	if e.File != "" {
		s += ": " + e.File
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(origin, file string, err error, format string, args ...any) *Error {
	return &Error{Origin: origin, File: file, Reason: fmt.Sprintf(format, args...), Err: err}
}
