package serving

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/seqcast/seqcast/bundle"
	"github.com/seqcast/seqcast/layers"
)

// Found is one model version a Source offers: its name, its version, and a
// way to read its bundle. Read is called on every load and reload; each call
// reads the source again, into a new immutable bundle.
type Found struct {
	Name    string
	Version int64
	Origin  string // a path or "embedded:NAME", for logs and status
	Kind    string // "bundle", "keras" or "embedded", for logs
	// Read reads the version; custom (Options.Layers) supplies the layer
	// classes of the program's own that a Keras file may use.
	Read func(custom layers.Set) (*bundle.Bundle, error)
	// Options holds the model's settings from its configuration file
	// (NAME/model.yaml in a models dir); nil when it has none.
	Options     *ModelOptions
	OptionsFile string // where Options came from
}

// Source lists the model versions to serve. Scan is called at start-up and
// again on every reload, so a models directory picks up new versions and
// drops removed ones. Scan logs (to log) what it refuses and skips, naming
// the folder, and fails only when it can offer nothing at all.
type Source interface {
	Scan(log *slog.Logger) ([]Found, error)
	String() string
}

// MaxModelNameLen bounds a model name's length.
const MaxModelNameLen = 128

// CheckModelName reports whether s may be a model name: 1 to 128 bytes of
// ASCII letters, digits, '.', '_' and '-', not starting with '.'. Names
// appear in URLs, cache keys, log lines and metric labels, so they are kept
// to characters that need no escaping anywhere.
func CheckModelName(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("model name %q is not valid UTF-8", s)
	}
	if s == "" || len(s) > MaxModelNameLen {
		return fmt.Errorf("model name %q: want 1 to %d characters", s, MaxModelNameLen)
	}
	if s[0] == '.' {
		return fmt.Errorf("model name %q starts with '.'", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("model name %q: character %q is not allowed (want ASCII letters, digits, '.', '_' or '-')", s, s[i:i+1])
		}
	}
	return nil
}

// ParseVersionDir reads a version folder's name: a canonical positive
// integer (no sign, no leading zero, at most int64), as TF Serving's version
// folders. "01", "+3", "0" and "1.0" are refused, so one version can never be
// offered by two folders.
func ParseVersionDir(s string) (int64, error) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, fmt.Errorf("version folder %q: want a positive integer without sign or leading zeros", s)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("version folder %q: want a positive integer without sign or leading zeros", s)
	}
	return v, nil
}

// ModelsDir serves every NAME/VERSION/ folder under root, TensorFlow
// Serving's model base path layout:
//
//   - NAME is a model name (see CheckModelName); VERSION a canonical
//     positive integer (see ParseVersionDir). The highest version is the
//     model's default unless its configuration says otherwise.
//   - A version folder holds a bundle (model.json, weights/, ...), or exactly
//     one Keras .h5 or .keras file (with, optionally, the scaler pickles
//     NAME/model.yaml names, and a backtest.json for intervals, as
//     `seqcast backtest --out` writes it).
//   - NAME/model.yaml (or model.yml, model.json) configures the model; see
//     ModelConfig.
//   - Symbolic links are followed, for NAME and VERSION folders as for the
//     files inside them (Kubernetes volumes and ConfigMaps are links).
//     Entries starting with '.' are skipped (a ConfigMap's ..data, a
//     version being written as .tmp-3 before it is renamed into place).
//
// Folders that break these rules are refused with a log line naming them;
// the rest are served. Scan fails only when no version at all remains.
func ModelsDir(root string) Source { return modelsDir{root: root} }

type modelsDir struct{ root string }

func (d modelsDir) String() string { return "models dir " + d.root }

// folder quotes a path for a log line, escaping bytes that are not UTF-8.
func folder(p string) string { return strconv.Quote(p) }

func (d modelsDir) Scan(log *slog.Logger) ([]Found, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names, err := os.ReadDir(d.root)
	if err != nil {
		return nil, fmt.Errorf("serving: models dir: %w", err)
	}
	var out []Found
	refused := 0
	for _, ne := range names {
		name := ne.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(d.root, name)
		st, err := os.Stat(p) // follows links
		if err != nil {
			log.Warn("models dir: entry refused: cannot read it (a dangling link?)", "folder", folder(p), "err", err.Error())
			refused++
			continue
		}
		if !st.IsDir() {
			continue // a file beside the model folders is not a model
		}
		if err := CheckModelName(name); err != nil {
			log.Warn("models dir: model folder refused", "folder", folder(p), "reason", err.Error())
			refused++
			continue
		}
		fs, err := d.scanModel(log, name, p)
		if err != nil {
			log.Warn("models dir: model folder refused", "folder", folder(p), "reason", err.Error())
			refused++
			continue
		}
		if len(fs) == 0 {
			log.Warn("models dir: model folder has no version folder; not served", "folder", folder(p))
			continue
		}
		out = append(out, fs...)
	}
	if len(out) == 0 {
		msg := "no NAME/VERSION/ folders (VERSION a positive integer)"
		if refused > 0 {
			msg += fmt.Sprintf("; %d folders refused (see the log)", refused)
		}
		return nil, fmt.Errorf("serving: models dir %s: %s", d.root, msg)
	}
	sortFound(out)
	return out, nil
}

// scanModel lists one model folder's versions with its configuration.
func (d modelsDir) scanModel(log *slog.Logger, name, dir string) ([]Found, error) {
	vers, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	cfg, cfgErr := readModelConfig(dir)
	var opts *ModelOptions
	var optsFile string
	if cfgErr == nil && cfg != nil {
		o, err := cfg.modelOptions(name)
		if err != nil {
			cfgErr = &ConfigError{File: cfg.file, Err: err}
		} else {
			opts, optsFile = &o, cfg.file
		}
	}
	var out []Found
	for _, ve := range vers {
		vn := ve.Name()
		if strings.HasPrefix(vn, ".") {
			continue
		}
		vp := filepath.Join(dir, vn)
		st, err := os.Stat(vp)
		if err != nil {
			log.Warn("models dir: version folder refused: cannot read it (a dangling link?)", "folder", folder(vp), "err", err.Error())
			continue
		}
		if !st.IsDir() {
			continue // model.yaml, a README
		}
		v, err := ParseVersionDir(vn)
		if err != nil {
			log.Warn("models dir: version folder refused", "folder", folder(vp), "reason", err.Error())
			continue
		}
		f := Found{Name: name, Version: v, Origin: vp, Kind: "bundle", Options: opts, OptionsFile: optsFile}
		if cfgErr != nil {
			err := cfgErr
			f.Read = func(layers.Set) (*bundle.Bundle, error) { return nil, err }
		} else {
			var k *KerasConfig
			if cfg != nil {
				k = cfg.Keras
			}
			if kf, _ := kerasFileIn(vp); kf != "" {
				f.Kind = "keras"
			}
			f.Read = func(custom layers.Set) (*bundle.Bundle, error) { return readVersion(vp, name, v, k, custom) }
		}
		out = append(out, f)
	}
	return out, nil
}

// isKerasFile reports whether a file name has a Keras model extension.
func isKerasFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".h5" || ext == ".keras"
}

// kerasFileIn finds the Keras file of a version folder: "" when the folder
// holds a bundle (model.json) or no Keras file; an error when it holds more
// than one.
func kerasFileIn(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var keras []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		if n == "model.json" {
			return "", nil
		}
		if isKerasFile(n) {
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
				keras = append(keras, n)
			}
		}
	}
	switch len(keras) {
	case 0:
		return "", nil
	case 1:
		return filepath.Join(dir, keras[0]), nil
	}
	sort.Strings(keras)
	return "", fmt.Errorf("holds %d Keras files (%s): want exactly one .h5 or .keras file, or a bundle", len(keras), strings.Join(keras, ", "))
}

// readVersion reads one version folder: a bundle, or its one Keras file with
// the preprocessing k describes (nil: none) and the layers custom adds.
func readVersion(dir, name string, version int64, k *KerasConfig, custom layers.Set) (*bundle.Bundle, error) {
	kf, err := kerasFileIn(dir)
	if err != nil {
		return nil, &bundle.Error{Origin: dir, Reason: err.Error()}
	}
	if kf == "" {
		return bundle.ReadDir(dir, bundle.Options{})
	}
	opts := k.options(dir)
	opts.Name, opts.Version = name, strconv.FormatInt(version, 10)
	opts.Layers = custom
	return readKeras(kf, opts, KerasSettle)
}

// KerasSettle is how long a Keras file (and its scaler pickles) must have
// been left unchanged before a read of it is trusted: a file modified more
// recently is read, then checked again once it is that old. (A bundle
// directory without a manifest is read twice this far apart by
// bundle.ReadDir, for the same reason.)
const KerasSettle = 300 * time.Millisecond

// readKeras reads a Keras file and its pickles with bundle.FromKeras, and
// refuses the result (an error wrapping bundle.ErrChanged) if any of the
// files changed while it was read, or within settle after their last change.
func readKeras(path string, opts bundle.KerasOptions, settle time.Duration) (*bundle.Bundle, error) {
	files := []string{path}
	bt := backtestBeside(path)
	for _, p := range []string{opts.ScalerX, opts.ScalerY, bt} {
		if p != "" {
			files = append(files, p)
		}
	}
	before := make([]fs.FileInfo, len(files))
	var newest time.Time
	for i, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			return nil, &bundle.Error{Origin: path, File: p, Reason: "cannot read", Err: err}
		}
		before[i] = st
		if st.ModTime().After(newest) {
			newest = st.ModTime()
		}
	}
	b, err := bundle.FromKeras(path, opts)
	if wait := settle - time.Since(newest); wait > 0 {
		time.Sleep(wait)
	}
	for i, p := range files {
		st, serr := os.Stat(p)
		if serr != nil || st.Size() != before[i].Size() || !st.ModTime().Equal(before[i].ModTime()) || !os.SameFile(st, before[i]) {
			return nil, &bundle.Error{Origin: path, File: p, Reason: "changed while being read", Err: bundle.ErrChanged}
		}
	}
	if err != nil {
		return nil, err
	}
	return withBacktest(b, bt)
}

// BundleDir serves the single bundle in dir under name, at version (0: the
// manifest's version if it is an integer, else 1).
func BundleDir(name string, version int64, dir string) Source {
	return single{f: Found{Name: name, Version: version, Origin: dir, Kind: "bundle",
		Read: func(layers.Set) (*bundle.Bundle, error) { return bundle.ReadDir(dir, bundle.Options{}) }}, check: dir}
}

// KerasFile serves a Keras .h5 or .keras file under name, at version (0:
// 1), with the preprocessing opts describes (scaler pickles or window
// z-score, as `seqcast import` takes them). Each load reads the file again,
// with the registry's Options.Layers unless opts.Layers is set.
func KerasFile(name string, version int64, path string, opts bundle.KerasOptions) Source {
	opts.Name = name
	if version > 0 {
		opts.Version = strconv.FormatInt(version, 10)
	}
	return single{f: Found{Name: name, Version: version, Origin: path, Kind: "keras",
		Read: func(custom layers.Set) (*bundle.Bundle, error) {
			o := opts
			if o.Layers == nil {
				o.Layers = custom
			}
			return readKeras(path, o, KerasSettle)
		}}, check: path}
}

// Embedded serves a bundle compiled into the binary (see package models),
// at version (0: as for BundleDir). It is read into memory once.
func Embedded(name string, version int64, fsys fs.FS) Source {
	origin := "embedded:" + name
	read := sync.OnceValues(func() (*bundle.Bundle, error) { return bundle.FromFS(fsys, origin, bundle.Options{}) })
	return single{f: Found{Name: name, Version: version, Origin: origin, Kind: "embedded",
		Read: func(layers.Set) (*bundle.Bundle, error) { return read() }}}
}

// single is a source of one model version.
type single struct {
	f     Found
	check string // a path that must exist, "" for none
}

func (s single) String() string { return s.f.Origin }

func (s single) Scan(*slog.Logger) ([]Found, error) {
	if s.check != "" {
		if _, err := os.Stat(s.check); err != nil {
			return nil, fmt.Errorf("serving: model %s: %w", s.f.Name, err)
		}
	}
	return []Found{s.f}, nil
}

func sortFound(fs []Found) { sort.Slice(fs, func(i, j int) bool { return less(fs[i], fs[j]) }) }
func less(a, b Found) bool { return a.Name < b.Name || a.Name == b.Name && a.Version < b.Version }

// errChanged reports whether err says a source changed while it was read.
func errChanged(err error) bool { return errors.Is(err, bundle.ErrChanged) }
