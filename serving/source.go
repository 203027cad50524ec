package serving

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Found is one bundle a Source offers: a model name, a version and the
// bundle's files.
type Found struct {
	Name    string
	Version int64
	FS      fs.FS
	Origin  string // a path or "embedded:NAME", for logs and status
}

// Source lists the bundles to serve. Scan is called at start-up and again on
// every reload, so a models directory picks up new versions.
type Source interface {
	Scan() ([]Found, error)
	String() string
}

// ModelsDir serves every NAME/VERSION/ bundle under root, TensorFlow
// Serving's model base path layout: VERSION is a positive integer and the
// highest one is the model's default. Other entries are ignored.
func ModelsDir(root string) Source { return modelsDir(root) }

type modelsDir string

func (d modelsDir) String() string { return "models dir " + string(d) }

func (d modelsDir) Scan() ([]Found, error) {
	root := string(d)
	names, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("serving: models dir: %w", err)
	}
	var out []Found
	for _, ne := range names {
		if !ne.IsDir() || ne.Name()[0] == '.' {
			continue
		}
		vers, err := os.ReadDir(filepath.Join(root, ne.Name()))
		if err != nil {
			return nil, fmt.Errorf("serving: models dir: %w", err)
		}
		for _, ve := range vers {
			v, err := strconv.ParseInt(ve.Name(), 10, 64)
			if !ve.IsDir() || err != nil || v <= 0 {
				continue
			}
			p := filepath.Join(root, ne.Name(), ve.Name())
			out = append(out, Found{Name: ne.Name(), Version: v, FS: os.DirFS(p), Origin: p})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("serving: models dir %s: no NAME/VERSION/ bundles (VERSION a positive integer)", root)
	}
	sortFound(out)
	return out, nil
}

// BundleDir serves the single bundle in dir under name, at version (0: the
// manifest's version if it is an integer, else 1).
func BundleDir(name string, version int64, dir string) Source {
	return bundleDir{name: name, version: version, dir: dir}
}

type bundleDir struct {
	name    string
	version int64
	dir     string
}

func (b bundleDir) String() string { return "bundle " + b.dir }

func (b bundleDir) Scan() ([]Found, error) {
	st, err := os.Stat(b.dir)
	if err != nil {
		return nil, fmt.Errorf("serving: model dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("serving: model dir %s: not a directory", b.dir)
	}
	return []Found{{Name: b.name, Version: b.version, FS: os.DirFS(b.dir), Origin: b.dir}}, nil
}

// Embedded serves a bundle compiled into the binary (see package models),
// at version (0: as for BundleDir).
func Embedded(name string, version int64, fsys fs.FS) Source {
	return embedded{Found{Name: name, Version: version, FS: fsys, Origin: "embedded:" + name}}
}

type embedded struct{ f Found }

func (e embedded) String() string         { return e.f.Origin }
func (e embedded) Scan() ([]Found, error) { return []Found{e.f}, nil }
func sortFound(fs []Found)                { sort.Slice(fs, func(i, j int) bool { return less(fs[i], fs[j]) }) }
func less(a, b Found) bool                { return a.Name < b.Name || a.Name == b.Name && a.Version < b.Version }
