package weights

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/nn"
)

// maxConfigSize bounds model.json, manifest.json and scaler.json.
const maxConfigSize = 16 << 20

// Bundle is a loaded model bundle: a model with its weights set, ready for
// concurrent use, and what the bundle said about itself.
type Bundle struct {
	Model        *nn.Model
	Info         ModelInfo // name, class, dialect, Keras 3 semantics
	KerasVersion string    // as declared by manifest.json or model.json; "" when unknown
	Manifest     *Manifest // nil when the bundle has no manifest.json
	// Files lists, sorted, the bundle-relative paths Load read.
	Files []string
	// ScalerJSON holds scaler.json, nil when the bundle has none (package
	// scaler parses it).
	ScalerJSON []byte
	// SelfTestError is the self-test's max |difference|, or -1 when the
	// bundle has no self-test.
	SelfTestError float64
}

// Load reads the bundle in directory dir: model.json, weights/NNN.npy, and
// the optional manifest.json (checksums, self-test) and scaler.json. Errors
// name the file by its path under dir.
func Load(dir string) (*Bundle, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("weights: %s is not a directory", dir)
	}
	return load(os.DirFS(dir), dir, LoadOptions{})
}

// LoadFS is Load reading from fsys (for example an embed.FS subtree made
// with fs.Sub), whose root is the bundle.
func LoadFS(fsys fs.FS) (*Bundle, error) {
	return load(fsys, "", LoadOptions{})
}

// LoadOptions tunes LoadFSWith.
type LoadOptions struct {
	// Layers adds layer classes of the program's own (package layers) to
	// the built-in ones the model config may use.
	Layers layers.Set
}

// LoadFSWith is LoadFS with options: a model that uses a layer class of
// the program's own loads when o.Layers supplies it.
func LoadFSWith(fsys fs.FS, o LoadOptions) (*Bundle, error) {
	return load(fsys, "", o)
}

// loader carries one Load.
type loader struct {
	fsys  fs.FS
	dir   string // shown in front of file names in errors ("" for LoadFS)
	files []string
}

// show is how errors name a bundle file.
func (l *loader) show(name string) string {
	if l.dir == "" {
		return name
	}
	return filepath.Join(l.dir, filepath.FromSlash(name))
}

func (l *loader) fail(format string, args ...any) error {
	if l.dir == "" {
		return fmt.Errorf("weights: "+format, args...)
	}
	return fmt.Errorf("weights: bundle %s: "+format, append([]any{l.dir}, args...)...)
}

// readSmall reads a JSON file; ok is false when it does not exist.
func (l *loader) readSmall(name string) (data []byte, ok bool, err error) {
	f, err := l.fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("weights: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxConfigSize {
		return nil, false, fmt.Errorf("weights: %s: %d bytes is more than the %d allowed", l.show(name), st.Size(), maxConfigSize)
	}
	data, err = fs.ReadFile(l.fsys, name)
	if err != nil {
		return nil, false, fmt.Errorf("weights: %s: %w", l.show(name), err)
	}
	l.files = append(l.files, name)
	return data, true, nil
}

func load(fsys fs.FS, dir string, o LoadOptions) (*Bundle, error) {
	l := &loader{fsys: fsys, dir: dir}
	b := &Bundle{SelfTestError: -1}

	// 1. The manifest, and every checksum it lists, before anything is parsed.
	data, ok, err := l.readSmall("manifest.json")
	if err != nil {
		return nil, err
	}
	if ok {
		if b.Manifest, err = ParseManifest(data); err != nil {
			return nil, l.fail("%w", err)
		}
		if err := b.Manifest.VerifyFiles(fsys); err != nil {
			return nil, l.fail("%w", err)
		}
	}

	// 2. The model config.
	data, ok, err = l.readSmall("model.json")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, l.fail("model.json is missing: a bundle holds model.json (model.to_json()) and weights/NNN.npy")
	}
	version := ""
	if b.Manifest != nil {
		version = b.Manifest.KerasVersion
	}
	var builders kerasconfig.Builders // nil: kerasconfig.Default()
	if o.Layers != nil {
		builders = o.Layers.Builders()
	}
	b.Model, b.Info, err = kerasconfig.Parse(data, kerasconfig.Options{KerasVersion: version, File: l.show("model.json"), Builders: builders})
	if err != nil {
		return nil, l.fail("%w", err) // the *kerasconfig.Error names the file
	}
	b.KerasVersion = b.Info.KerasVersion

	// 3. The weights.
	if err := l.loadWeights(b.Model); err != nil {
		return nil, err
	}

	// 4. The scaler, kept raw.
	if b.ScalerJSON, _, err = l.readSmall("scaler.json"); err != nil {
		return nil, err
	}

	// 5. The self-test.
	if b.Manifest != nil && b.Manifest.SelfTest != nil {
		st := b.Manifest.SelfTest
		if b.SelfTestError, err = st.Run(fsys, b.Model); err != nil {
			return nil, l.fail("refusing the model: %w", err)
		}
		l.files = append(l.files, st.Input, st.Output)
	}
	slices.Sort(l.files)
	b.Files = slices.Compact(l.files)
	return b, nil
}

// loadWeights reads weights/NNN.npy in numeric order into the model.
func (l *loader) loadWeights(m *nn.Model) error {
	refs := m.Weights()
	entries, err := fs.ReadDir(l.fsys, "weights")
	if errors.Is(err, fs.ErrNotExist) && len(refs) == 0 {
		return m.SetWeights(nil)
	}
	if err != nil {
		return l.fail("weights/: %w (the model needs %d weight arrays)", err, len(refs))
	}
	byIndex := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		stem, isNPY := strings.CutSuffix(name, ".npy")
		if !isNPY || e.IsDir() {
			continue // README files and the like
		}
		i, err := strconv.Atoi(stem)
		if err != nil || i < 0 || strings.HasPrefix(stem, "+") || strings.HasPrefix(stem, "-") {
			return l.fail("%s: the name is not an array index (want 000.npy, 001.npy, ...)", l.show("weights/"+name))
		}
		if prev, dup := byIndex[i]; dup {
			return l.fail("%s and %s both hold array %d", l.show("weights/"+prev), l.show("weights/"+name), i)
		}
		byIndex[i] = name
	}
	for i, r := range refs {
		if _, ok := byIndex[i]; !ok {
			return l.fail("%s is missing: array %d is layer %q %s %s (the model needs %d arrays, found %d files)",
				l.show(fmt.Sprintf("weights/%03d.npy", i)), i, r.Layer, r.Name, FormatShape(r.Shape), len(refs), len(byIndex))
		}
	}
	if len(byIndex) != len(refs) {
		extra := slices.Sorted(func(yield func(int) bool) {
			for i := range byIndex {
				if i >= len(refs) && !yield(i) {
					return
				}
			}
		})
		return l.fail("%s: the model needs only %d weight arrays (weights/000.npy to weights/%03d.npy), found %d files",
			l.show("weights/"+byIndex[extra[0]]), len(refs), len(refs)-1, len(byIndex))
	}
	arrays := make([][]float32, len(refs))
	for i, r := range refs {
		name := "weights/" + byIndex[i]
		if arrays[i], err = l.readWeight(name, r); err != nil {
			return err
		}
		l.files = append(l.files, name)
	}
	if err := m.SetWeights(arrays); err != nil {
		return l.fail("%w", err)
	}
	return nil
}

// readWeight reads one array, checking its shape against the model's before
// allocating, and refusing NaN and Inf.
func (l *loader) readWeight(name string, r nn.WeightRef) ([]float32, error) {
	what := fmt.Sprintf("layer %q %s (%s)", r.Layer, r.Name, l.show(name))
	f, err := l.fsys.Open(name)
	if err != nil {
		return nil, l.fail("%s: %w", what, err)
	}
	defer f.Close()
	nr, err := NewNPYReader(f)
	if err != nil {
		return nil, l.fail("%s: %w", what, err)
	}
	if !slices.Equal(nr.Header.Shape, []int(r.Shape)) {
		return nil, l.fail("%s: want %s, got %s", what, FormatShape(r.Shape), FormatShape(nr.Header.Shape))
	}
	data, err := nr.Read()
	if err != nil {
		return nil, l.fail("%s: %w", what, err)
	}
	if i := CheckFinite(data); i >= 0 {
		return nil, l.fail("%s: value %d of %s is %v", what, i, FormatShape(r.Shape), data[i])
	}
	return data, nil
}
