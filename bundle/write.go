package bundle

import (
	"os"
	"path/filepath"
)

// WriteDir writes the bundle's files to the directory out the way a new
// version should be published: into a sibling temporary directory, then
// renamed into place, so a reader never sees half of it. An existing
// non-empty out is refused unless force is set and out holds a bundle
// (model.json or manifest.json) to replace.
func (b *Bundle) WriteDir(out string, force bool) error {
	out = filepath.Clean(out)
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		if !force {
			return errorf(out, "", nil, "exists and is not empty (use --force to replace a bundle)")
		}
		_, e1 := os.Stat(filepath.Join(out, "model.json"))
		_, e2 := os.Stat(filepath.Join(out, "manifest.json"))
		if e1 != nil && e2 != nil {
			return errorf(out, "", nil, "does not look like a bundle (no model.json); refusing to replace it")
		}
	} else if err == nil || !os.IsNotExist(err) {
		if st, serr := os.Stat(out); serr == nil && !st.IsDir() {
			return errorf(out, "", nil, "exists and is not a directory")
		}
	}
	tmp := out + ".tmp-import"
	if err := os.RemoveAll(tmp); err != nil {
		return errorf(out, "", err, "cannot clear %s", tmp)
	}
	for _, name := range b.names {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return errorf(out, name, err, "cannot write")
		}
		if err := os.WriteFile(p, b.files[name], 0o644); err != nil {
			return errorf(out, name, err, "cannot write")
		}
	}
	if err := os.RemoveAll(out); err != nil {
		return errorf(out, "", err, "cannot replace")
	}
	if err := os.Rename(tmp, out); err != nil {
		return errorf(out, "", err, "cannot rename %s into place", tmp)
	}
	return nil
}
