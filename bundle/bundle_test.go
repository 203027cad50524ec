package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"testing/fstest"
	"time"
)

const gold = "../testdata/bench/gold"

// oldFingerprint is how serving fingerprinted a bundle directory before
// bundles were read into memory: the cache keys must not change.
func oldFingerprint(t *testing.T, fsys fs.FS) string {
	t.Helper()
	var paths []string
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\x00", p)
		h.Write(data)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestReadDirGold(t *testing.T) {
	b, err := ReadDir(gold, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Fingerprint(), oldFingerprint(t, os.DirFS(gold)); got != want {
		t.Errorf("fingerprint %s, want %s (the pre-bundle scheme)", got, want)
	}
	if _, ok := b.File("model.json"); !ok {
		t.Error("no model.json")
	}
	var names []string
	for _, n := range b.Names() {
		names = append(names, n)
	}
	if err := fstest.TestFS(b.FS(), names...); err != nil {
		t.Fatal(err)
	}
	if got := oldFingerprint(t, b.FS()); got != b.Fingerprint() {
		t.Errorf("the FS's files fingerprint to %s, the bundle says %s", got, b.Fingerprint())
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// A ConfigMap-style mount: visible files are links into ..data, itself a link
// to a timestamped directory that an update replaces.
func TestReadDirFollowsConfigMapLinks(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "..v1", "model.json"), `{"a":1}`)
	write(t, filepath.Join(root, "..v1", "weights", "000.npy"), "one")
	write(t, filepath.Join(root, "..v2", "model.json"), `{"a":2}`)
	write(t, filepath.Join(root, "..v2", "weights", "000.npy"), "two")
	symlink(t, "..v1", filepath.Join(root, "..data"))
	symlink(t, "..data/model.json", filepath.Join(root, "model.json"))
	symlink(t, "..data/weights", filepath.Join(root, "weights"))

	b1, err := ReadDir(root, Options{Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := b1.Names(); fmt.Sprint(got) != "[model.json weights/000.npy]" {
		t.Fatalf("files %v", got)
	}
	if d, _ := b1.File("weights/000.npy"); string(d) != "one" {
		t.Fatalf("weights/000.npy = %q", d)
	}
	if b1.Fingerprint() == oldFingerprint(t, fstest.MapFS{}) {
		t.Fatal("fingerprint of nothing: links were skipped")
	}
	os.Remove(filepath.Join(root, "..data"))
	symlink(t, "..v2", filepath.Join(root, "..data"))
	b2, err := ReadDir(root, Options{Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if b1.Fingerprint() == b2.Fingerprint() {
		t.Fatal("the link target changed but the fingerprint did not")
	}
}

func TestReadDirRefuses(t *testing.T) {
	t.Run("link cycle", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "model.json"), "{}")
		symlink(t, ".", filepath.Join(root, "loop"))
		_, err := ReadDir(root, Options{})
		var be *Error
		if !errors.As(err, &be) || be.File != "loop" {
			t.Fatalf("err = %v, want an *Error naming loop", err)
		}
	})
	t.Run("dangling link", func(t *testing.T) {
		root := t.TempDir()
		symlink(t, "nowhere", filepath.Join(root, "model.json"))
		if _, err := ReadDir(root, Options{}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("too many files", func(t *testing.T) {
		root := t.TempDir()
		for i := range 3 {
			write(t, filepath.Join(root, fmt.Sprint(i)), "x")
		}
		if _, err := ReadDir(root, Options{MaxFiles: 2}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("file too large", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "model.json"), "0123456789")
		if _, err := ReadDir(root, Options{MaxFileSize: 9}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("total too large", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "a"), "01234")
		write(t, filepath.Join(root, "b"), "56789")
		if _, err := ReadDir(root, Options{MaxTotal: 9}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		root := t.TempDir()
		write(t, filepath.Join(root, "f"), "x")
		if _, err := ReadDir(filepath.Join(root, "f"), Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}

// A manifest-less bundle rewritten between its two reads is refused.
func TestReadDirRewrittenWithoutManifest(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "model.json"), `{"v":1}`)
	write(t, filepath.Join(root, "weights", "000.npy"), "aaaa")
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(100 * time.Millisecond)
		// Same size and, where the clock is coarse, maybe the same mtime: the
		// second read must still see it.
		f, err := os.OpenFile(filepath.Join(root, "weights", "000.npy"), os.O_WRONLY, 0)
		if err == nil {
			io.WriteString(f, "bbbb")
			f.Close()
		}
	}()
	_, err := ReadDir(root, Options{Settle: time.Second})
	<-done
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	// Left alone, it reads.
	if _, err := ReadDir(root, Options{Settle: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

func TestWriteDirRoundTrip(t *testing.T) {
	b, err := ReadDir(gold, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy")
	if err := b.WriteDir(out, false); err != nil {
		t.Fatal(err)
	}
	c, err := ReadDir(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Fingerprint() != c.Fingerprint() {
		t.Fatal("a written bundle reads back with another fingerprint")
	}
	if err := b.WriteDir(out, false); err == nil {
		t.Fatal("overwrote a bundle without force")
	}
	if err := b.WriteDir(out, true); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	write(t, filepath.Join(other, "precious.txt"), "x")
	if err := b.WriteDir(other, true); err == nil {
		t.Fatal("replaced a directory that is not a bundle")
	}
}

func TestNewRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"../x", "/abs", "a//b", "."} {
		if _, err := New("t", map[string][]byte{p: nil}); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}
