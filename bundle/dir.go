package bundle

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options bounds and paces ReadDir. A zero field takes its default.
type Options struct {
	MaxFiles    int           // files in one bundle (default 10,000)
	MaxFileSize int64         // bytes in one file (default 2 GiB)
	MaxTotal    int64         // bytes in all files (default 4 GiB)
	MaxDepth    int           // directory nesting, links followed (default 16)
	Settle      time.Duration // pause before a manifest-less bundle is read again (default 300 ms)
}

func (o Options) withDefaults() Options {
	if o.MaxFiles <= 0 {
		o.MaxFiles = 10_000
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 2 << 30
	}
	if o.MaxTotal <= 0 {
		o.MaxTotal = 4 << 30
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 16
	}
	if o.Settle <= 0 {
		o.Settle = 300 * time.Millisecond
	}
	return o
}

// ErrChanged is wrapped by the error ReadDir returns when the directory
// changed while it was read (a version being rewritten in place).
var ErrChanged = errors.New("the files changed while they were read; publish a new version by writing it elsewhere and renaming it into place")

// ReadDir reads every file of the bundle directory dir into memory, once.
//
// Symbolic links are followed, to files and to directories alike (as
// Kubernetes volume and ConfigMap mounts require), so the fingerprint covers
// the bytes the links point to; a link cycle is an error. Entries whose names
// start with "." are skipped (a ConfigMap's "..data" holds the same files the
// visible links point to).
//
// The read is verified: each file's size and modification time must be the
// same before and after it is read, the directory must list the same files
// afterwards, and each must still be the same file (a replaced link target
// is a change). A bundle without manifest.json, whose checksums would catch
// a half-written version, must also read the same twice, opts.Settle apart.
// Any change is an error wrapping ErrChanged, and the caller keeps serving
// what it had.
func ReadDir(dir string, opts Options) (*Bundle, error) {
	opts = opts.withDefaults()
	st, err := os.Stat(dir)
	if err != nil {
		return nil, errorf(dir, "", err, "cannot read the directory")
	}
	if !st.IsDir() {
		return nil, errorf(dir, "", nil, "not a directory")
	}
	first, err := list(dir, opts)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(first))
	var total int64
	for _, e := range first {
		data, err := readStable(dir, e, opts.MaxFileSize)
		if err != nil {
			return nil, err
		}
		if total += int64(len(data)); total > opts.MaxTotal {
			return nil, errorf(dir, e.rel, nil, "the bundle holds more than the %d bytes allowed", opts.MaxTotal)
		}
		files[e.rel] = data
	}
	_, hasManifest := files["manifest.json"]
	if !hasManifest {
		time.Sleep(opts.Settle)
	}
	again, err := list(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := sameListing(dir, first, again); err != nil {
		return nil, err
	}
	if !hasManifest {
		for _, e := range again {
			if err := sameContents(dir, e, files[e.rel]); err != nil {
				return nil, err
			}
		}
	}
	return New(dir, files)
}

// entry is one regular file found under a bundle directory.
type entry struct {
	rel  string // slash-separated, relative to the bundle
	abs  string
	info fs.FileInfo // after following links
}

// list walks dir following links, in path order.
func list(dir string, opts Options) ([]entry, error) {
	var out []entry
	var visiting []fs.FileInfo // the directories on the current path, for cycles
	var walk func(abs, rel string, depth int) error
	walk = func(abs, rel string, depth int) error {
		if depth > opts.MaxDepth {
			return errorf(dir, rel, nil, "directories nested more than %d deep", opts.MaxDepth)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return errorf(dir, rel, err, "cannot read")
		}
		for _, v := range visiting {
			if os.SameFile(v, st) {
				return errorf(dir, rel, nil, "a symbolic link loops back to a directory above it")
			}
		}
		visiting = append(visiting, st)
		defer func() { visiting = visiting[:len(visiting)-1] }()
		ents, err := os.ReadDir(abs)
		if err != nil {
			return errorf(dir, rel, err, "cannot list")
		}
		for _, de := range ents {
			name := de.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			childAbs := filepath.Join(abs, name)
			childRel := path.Join(rel, name)
			fi, err := os.Stat(childAbs) // follows links
			if err != nil {
				return errorf(dir, childRel, err, "cannot read (a dangling link?)")
			}
			switch {
			case fi.IsDir():
				if err := walk(childAbs, childRel, depth+1); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				if len(out) >= opts.MaxFiles {
					return errorf(dir, childRel, nil, "the bundle holds more than the %d files allowed", opts.MaxFiles)
				}
				out = append(out, entry{rel: childRel, abs: childAbs, info: fi})
			default:
				return errorf(dir, childRel, nil, "not a regular file or directory (%s)", fi.Mode().Type())
			}
		}
		return nil
	}
	if err := walk(dir, "", 0); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })
	return out, nil
}

// readStable reads one file, refusing one that grows past max or changes
// while it is read.
func readStable(dir string, e entry, max int64) ([]byte, error) {
	if e.info.Size() > max {
		return nil, errorf(dir, e.rel, nil, "%d bytes is more than the %d allowed for one file", e.info.Size(), max)
	}
	f, err := os.Open(e.abs)
	if err != nil {
		return nil, errorf(dir, e.rel, err, "cannot open")
	}
	defer f.Close()
	// One allocation of the size stat gave, and one byte more to see a
	// file that grew (a bytes.Buffer would double its capacity to look for
	// EOF: three times a large weights file).
	data := make([]byte, e.info.Size()+1)
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, errorf(dir, e.rel, err, "cannot read")
	}
	after, err := f.Stat()
	if err != nil {
		return nil, errorf(dir, e.rel, err, "cannot read")
	}
	if int64(n) != e.info.Size() || !sameStat(e.info, after) {
		return nil, errorf(dir, e.rel, ErrChanged, "changed while being read (size %d, then %d or more bytes read)", e.info.Size(), n)
	}
	return data[:n:n], nil
}

func sameStat(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

// sameListing checks that a second walk found the same files, unchanged.
func sameListing(dir string, a, b []entry) error {
	if len(a) != len(b) {
		return errorf(dir, "", ErrChanged, "%d files, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].rel != b[i].rel {
			return errorf(dir, a[i].rel, ErrChanged, "listed, then %s in its place", b[i].rel)
		}
		if !sameStat(a[i].info, b[i].info) {
			return errorf(dir, a[i].rel, ErrChanged, "changed after it was read")
		}
	}
	return nil
}

// sameContents reads a file again and compares it with what was read.
func sameContents(dir string, e entry, want []byte) error {
	f, err := os.Open(e.abs)
	if err != nil {
		return errorf(dir, e.rel, err, "cannot open")
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, int64(len(want))+1))
	if err != nil {
		return errorf(dir, e.rel, err, "cannot read")
	}
	if sum := sha256.Sum256(want); n != int64(len(want)) || !bytes.Equal(h.Sum(nil), sum[:]) {
		return errorf(dir, e.rel, ErrChanged, "read twice with different contents")
	}
	return nil
}

// FromFS reads every regular file of fsys (an embedded bundle, say) into a
// bundle named origin.
func FromFS(fsys fs.FS, origin string, opts Options) (*Bundle, error) {
	opts = opts.withDefaults()
	files := map[string][]byte{}
	var total int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if len(files) >= opts.MaxFiles {
			return fmt.Errorf("more than the %d files allowed", opts.MaxFiles)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if total += int64(len(data)); total > opts.MaxTotal {
			return fmt.Errorf("more than the %d bytes allowed", opts.MaxTotal)
		}
		files[p] = data
		return nil
	})
	if err != nil {
		return nil, errorf(origin, "", err, "cannot read")
	}
	return New(origin, files)
}
