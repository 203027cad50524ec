package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/seqcast/seqcast/internal/pyjson"
	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/kerasfile"
	"github.com/seqcast/seqcast/layers"
	"github.com/seqcast/seqcast/scaler/skpickle"
	"github.com/seqcast/seqcast/weights"
)

// ScalerFormat is the "format" of the scaler.json FromKeras writes.
const ScalerFormat = "seqcast-scaler/1"

// KerasOptions are the preprocessing and labels FromKeras adds to a Keras
// file: the options of `seqcast import` and of tools/export_keras.py.
// ScalerX/ScalerY and WindowZScore are exclusive; SelfTestInput and
// SelfTestOutput go together.
type KerasOptions struct {
	// ScalerX and ScalerY are scikit-learn scaler pickles (pickle.dump or
	// joblib.dump) fitted on the model's inputs and on its targets.
	ScalerX, ScalerY string
	// WindowZScore z-scores each input window per feature, and
	// de-normalizes the outputs with the statistics of TargetFeature.
	WindowZScore bool
	// Epsilon is added to the window's population std; nil means 1e-8.
	Epsilon *float64
	// TargetFeature is the input feature whose statistics de-normalize the
	// output (window z-score only).
	TargetFeature int
	// Window is the time steps per window; 0 means the model's input length.
	Window int
	// SelfTestInput and SelfTestOutput are .npy files: model inputs
	// (already scaled) and what model.predict returned for them.
	SelfTestInput, SelfTestOutput string
	// SelfTestTolerance is the self-test's max |difference|; nil means 1e-4.
	SelfTestTolerance *float64
	// Name defaults to the file name without its extension; Version to "1".
	Name, Version string

	// Keras bounds and tunes reading the model file (nil: defaults).
	Keras *kerasfile.Options
	// Pickles bounds reading the scaler pickles (zero: skpickle's defaults).
	Pickles skpickle.Limits
	// Builders is the layer table whose classes are named when a layer's
	// class is unsupported; nil means kerasconfig.Default(), with Layers'
	// classes.
	Builders kerasconfig.Builders
	// Layers adds layer classes of the program's own (package layers): how
	// their weights are stored, unless Keras.Layers is set, and their names
	// in the supported list.
	Layers layers.Set
}

// UnsupportedLayerError is a layer of a Keras file whose class seqcast
// cannot run. Supported lists the classes it can (the builder table's).
type UnsupportedLayerError struct {
	File, Layer, Class string
	Supported          []string
	Err                error // the *kerasfile.UnsupportedClassError
}

func (e *UnsupportedLayerError) Error() string {
	return fmt.Sprintf("bundle %s: layer %q has class %s, which seqcast does not support (supported: %s); %s",
		e.File, e.Layer, e.Class, strings.Join(e.Supported, ", "), kerasconfig.CustomLayers)
}

func (e *UnsupportedLayerError) Unwrap() error { return e.Err }

// FromKeras reads a Keras .h5 or .keras file (and the scaler pickles and
// self-test arrays opts names) into a bundle holding exactly the files
// tools/export_keras.py writes for the same inputs:
//
//   - model.json: the stored config with "keras_version" and "backend" set,
//     written as Python's json.dumps writes it;
//   - weights/NNN.npy: the weights in get_weights() order, byte-identical
//     to np.save (float64 arrays stay float64);
//   - scaler.json: from the pickles or the window z-score options;
//   - self_test/input.npy, self_test/output.npy (float32);
//   - manifest.json: name, version, keras_version, every file's sha256,
//     and the self-test with its tolerance.
//
// It refuses what the exporter refuses, with its messages: a scaler fitted
// on another feature count than the model's, a window that is not the
// model's input length, exclusive options, self-test arrays that are not
// finite floats of the model's input shape: those are *Error. A layer whose
// weights cannot be mapped is an *UnsupportedLayerError; a file that is not
// a readable Keras file is package kerasfile's *kerasfile.Error or
// *kerasfile.LimitError, naming the file (and the layer and class). FromKeras does not build the network:
// load the bundle's FS with package weights for that.
func FromKeras(path string, opts KerasOptions) (*Bundle, error) {
	fail := func(err error, format string, args ...any) error { return errorf(path, "", err, format, args...) }
	if opts.WindowZScore && (opts.ScalerX != "" || opts.ScalerY != "") {
		return nil, fail(nil, "--window-zscore and --scaler-x/--scaler-y are exclusive")
	}
	if (opts.SelfTestInput == "") != (opts.SelfTestOutput == "") {
		return nil, fail(nil, "--self-test-input and --self-test-output go together")
	}
	kopts := opts.Keras
	if opts.Layers != nil && (kopts == nil || kopts.Layers == nil) {
		k := kerasfile.Options{}
		if kopts != nil {
			k = *kopts
		}
		k.Layers = opts.Layers.Table()
		kopts = &k
	}
	m, err := readKeras(path, kopts)
	if err != nil {
		var uc *kerasfile.UnsupportedClassError
		if errors.As(err, &uc) {
			b := opts.Builders
			if b == nil {
				b = opts.Layers.Builders()
			}
			return nil, &UnsupportedLayerError{File: path, Layer: uc.Layer, Class: uc.Class, Supported: b.Classes(), Err: err}
		}
		var ke *kerasfile.Error
		var le *kerasfile.LimitError
		if errors.As(err, &ke) || errors.As(err, &le) {
			return nil, err // names the file, and the layer and class when there is one
		}
		return nil, fail(err, "cannot read the Keras file")
	}
	var top map[string]any
	if err := json.Unmarshal(m.Config, &top); err != nil {
		return nil, fail(err, "the model config is not a JSON object")
	}
	shape := inputShape(top)
	files := map[string][]byte{}

	if files["model.json"], err = modelJSON(m); err != nil {
		return nil, fail(err, "cannot re-encode the model config")
	}
	width := max(3, len(strconv.Itoa(max(len(m.Weights)-1, 0))))
	for i := range m.Weights {
		w := &m.Weights[i]
		// Sized for the header (at most 128 bytes for any shape Keras
		// writes) and the data, so the buffer never grows: growing doubles
		// a large weight's bytes, three times over.
		var buf bytes.Buffer
		buf.Grow(128 + 4*len(w.Data) + 8*len(w.Float64))
		if w.Float64 != nil {
			err = weights.WriteNPY64(&buf, w.Float64, w.Shape)
		} else {
			err = weights.WriteNPY(&buf, w.Data, w.Shape)
		}
		if err != nil {
			return nil, fail(err, "layer %q (%s): weight %s", w.Layer, w.Class, w.Name)
		}
		files[fmt.Sprintf("weights/%0*d.npy", width, i)] = buf.Bytes()
		w.Data, w.Float64 = nil, nil // held once, as .npy bytes
	}

	sc, err := scalerJSON(opts, shape)
	if err != nil {
		return nil, fail(err, "%s", "preprocessing")
	}
	if sc != nil {
		files["scaler.json"] = sc
	}

	var tol *float64
	if opts.SelfTestInput != "" {
		t := 1e-4
		if opts.SelfTestTolerance != nil {
			t = *opts.SelfTestTolerance
		}
		if !(t >= 0) || math.IsInf(t, 0) {
			return nil, fail(nil, "--self-test-tolerance %v must be a finite number >= 0", t)
		}
		tol = &t
		if files["self_test/input.npy"], files["self_test/output.npy"], err = selfTest(opts, shape); err != nil {
			return nil, fail(err, "%s", "self-test")
		}
	}

	name := opts.Name
	if name == "" {
		name = stem(filepath.Base(path))
	}
	version := opts.Version
	if version == "" {
		version = "1"
	}
	if files["manifest.json"], err = manifestJSON(files, name, version, m.KerasVersion, tol); err != nil {
		return nil, fail(err, "manifest.json")
	}
	return New(path, files)
}

// stem is Python's os.path.splitext(base)[0]: the name without its last
// extension, leading dots being part of the name (".keras" stays ".keras").
func stem(base string) string {
	i := strings.LastIndexByte(base, '.')
	if i <= 0 || strings.Trim(base[:i], ".") == "" {
		return base
	}
	return base[:i]
}

// smallKeras is the size up to which a Keras file is read into memory in
// one read before it is parsed (hundreds of small reads otherwise); a
// larger one is parsed through its ReaderAt, so that only its weights are
// held in memory.
const smallKeras = 64 << 20

func readKeras(path string, opts *kerasfile.Options) (*kerasfile.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > smallKeras {
		return kerasfile.Read(f, st.Size(), path, opts)
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return kerasfile.Read(bytes.NewReader(data), int64(len(data)), path, opts)
}

// modelJSON is build_files' model.json: json.dumps of the config with
// keras_version and backend set (in place when the config has them,
// appended otherwise), then "\n".
func modelJSON(m *kerasfile.Model) ([]byte, error) {
	var set []pyjson.Member
	for _, kv := range [][2]string{{"keras_version", m.KerasVersion}, {"backend", m.Backend}} {
		if kv[1] != "" {
			set = append(set, pyjson.Member{Key: kv[0], Value: pyjson.AppendString(nil, kv[1])})
		}
	}
	out, err := pyjson.Reformat(m.Config, set...)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// inputShape is tools/seqcast_export/bundle.py's input_shape: the
// per-sample input shape (-1 for a None dimension), nil when the config
// does not say.
func inputShape(top map[string]any) []int {
	var cands [][]any
	inner, _ := top["config"].(map[string]any)
	if bis, ok := inner["build_input_shape"].([]any); ok && len(bis) > 0 {
		if _, nested := bis[0].([]any); !nested {
			cands = append(cands, bis)
		}
	}
	var layers []any
	switch c := top["config"].(type) {
	case []any:
		layers = c
	case map[string]any:
		layers, _ = c["layers"].([]any)
	}
	for _, l := range layers {
		lm, _ := l.(map[string]any)
		c, _ := lm["config"].(map[string]any)
		for _, k := range []string{"batch_shape", "batch_input_shape"} {
			if s, ok := c[k].([]any); ok {
				cands = append(cands, s)
			}
		}
		if len(cands) > 0 {
			break
		}
	}
	if len(cands) == 0 || len(cands[0]) == 0 {
		return nil
	}
	out := make([]int, 0, len(cands[0])-1)
	for _, d := range cands[0][1:] {
		f, ok := d.(float64)
		if !ok {
			out = append(out, -1)
			continue
		}
		out = append(out, int(f))
	}
	return out
}

// scalerJSON is export_keras.py's scaler_doc, written as _dump_json writes
// it (indent=2); nil when no preprocessing was asked for.
func scalerJSON(o KerasOptions, shape []int) ([]byte, error) {
	if !o.WindowZScore && o.ScalerX == "" && o.ScalerY == "" {
		if o.Window != 0 {
			return nil, errors.New("--window needs --scaler-x/--scaler-y or --window-zscore")
		}
		return nil, nil
	}
	T, F := -1, -1
	if len(shape) == 2 {
		T, F = shape[0], shape[1]
	}
	window := o.Window
	if window == 0 {
		if T < 0 {
			return nil, errors.New("the model's input length is not fixed in its config; pass --window N")
		}
		window = T
	}
	if T >= 0 && window != T {
		return nil, fmt.Errorf("--window %d differs from the model's input length %d", window, T)
	}
	if window <= 0 {
		return nil, errors.New("--window must be positive")
	}
	var in, out []byte
	if o.WindowZScore {
		if F >= 0 && !(o.TargetFeature >= 0 && o.TargetFeature < F) {
			return nil, fmt.Errorf("--target-feature %d: model has %d input features", o.TargetFeature, F)
		}
		eps := 1e-8
		if o.Epsilon != nil {
			eps = *o.Epsilon
		}
		if !(eps >= 0) || math.IsInf(eps, 0) {
			return nil, errors.New("--epsilon must be >= 0")
		}
		in = append(pyjson.AppendFloat([]byte(`{"kind": "window_zscore", "epsilon": `), eps), '}')
		out = pyjson.AppendFloat([]byte(`{"kind": "window_zscore", "epsilon": `), eps)
		out = append(strconv.AppendInt(append(out, `, "target_feature": `...), int64(o.TargetFeature), 10), '}')
	} else {
		var err error
		if in, err = pickleJSON(o.Pickles, o.ScalerX, F, "--scaler-x"); err != nil {
			return nil, err
		}
		if out, err = pickleJSON(o.Pickles, o.ScalerY, -1, "--scaler-y"); err != nil {
			return nil, err
		}
	}
	doc := pyjson.AppendString([]byte(`{"format": `), ScalerFormat)
	doc = strconv.AppendInt(append(doc, `, "window": `...), int64(window), 10)
	doc = append(append(doc, `, "input": `...), in...)
	doc = append(append(doc, `, "output": `...), out...)
	doc = append(doc, '}')
	return indent(doc)
}

// pickleJSON reads a scaler pickle into its SCALER object ({"kind":
// "identity"} when path is ""), checking its feature count against want
// (-1: any).
func pickleJSON(l skpickle.Limits, path string, want int, flag string) ([]byte, error) {
	if path == "" {
		return []byte(`{"kind": "identity"}`), nil
	}
	s, err := l.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if n := s.NumFeatures(); n >= 0 && want >= 0 && n != want {
		return nil, fmt.Errorf("%s %s was fitted on %d features, the model takes %d", flag, path, n, want)
	}
	return s.MarshalJSON()
}

// indent is json.dumps(indent=2) of compact Python-style JSON, plus "\n".
// (encoding/json's Indent writes ": " and ",\n" with the same empty [] and
// {} and keeps the number and string bytes as they are.)
func indent(compact []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// selfTest is export_keras.py's self_test_arrays: the two arrays as
// float32 .npy, checked against the model's input shape.
func selfTest(o KerasOptions, shape []int) (in, out []byte, err error) {
	x, xs, err := readNPY(o.SelfTestInput, "--self-test-input")
	if err != nil {
		return nil, nil, err
	}
	y, ys, err := readNPY(o.SelfTestOutput, "--self-test-output")
	if err != nil {
		return nil, nil, err
	}
	if shape != nil && !slices.Contains(shape, -1) && (len(xs) == 0 || !slices.Equal(xs[1:], shape)) {
		dims := make([]string, len(shape))
		for i, d := range shape {
			dims[i] = strconv.Itoa(d)
		}
		return nil, nil, fmt.Errorf("--self-test-input has shape %s, the model takes (N, %s)", weights.FormatShape(xs), strings.Join(dims, ", "))
	}
	if len(xs) == 0 || len(ys) == 0 {
		return nil, nil, fmt.Errorf("--self-test-input %s and --self-test-output %s must be arrays of samples, not scalars",
			weights.FormatShape(xs), weights.FormatShape(ys))
	}
	if ys[0] != xs[0] {
		return nil, nil, fmt.Errorf("--self-test-output has %d rows, input has %d", ys[0], xs[0])
	}
	var bx, by bytes.Buffer
	if err := weights.WriteNPY(&bx, x, xs); err != nil {
		return nil, nil, err
	}
	if err := weights.WriteNPY(&by, y, ys); err != nil {
		return nil, nil, err
	}
	return bx.Bytes(), by.Bytes(), nil
}

// maxSelfTestSize bounds each self-test file.
const maxSelfTestSize = 256 << 20

func readNPY(path, flag string) ([]float32, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", flag, err)
	}
	defer f.Close()
	x, shape, err := weights.ReadNPYLimit(io.LimitReader(f, maxSelfTestSize), maxSelfTestSize/4)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: must hold finite floats: %w", flag, path, err)
	}
	if i := weights.CheckFinite(x); i >= 0 {
		return nil, nil, fmt.Errorf("%s %s: must hold finite floats (value %d is %v)", flag, path, i, x[i])
	}
	return x, shape, nil
}

// manifestJSON is bundle.py's manifest: name, version, keras_version, the
// sha256 of every file, and the self-test, written as _dump_json writes it.
func manifestJSON(files map[string][]byte, name, version, kerasVersion string, tol *float64) ([]byte, error) {
	b := pyjson.AppendString([]byte(`{"name": `), name)
	b = pyjson.AppendString(append(b, `, "version": `...), version)
	if kerasVersion != "" {
		b = pyjson.AppendString(append(b, `, "keras_version": `...), kerasVersion)
	}
	b = append(b, `, "files": {`...)
	for i, p := range slices.Sorted(maps.Keys(files)) {
		if i > 0 {
			b = append(b, ", "...)
		}
		sum := sha256.Sum256(files[p])
		b = pyjson.AppendString(b, p)
		b = pyjson.AppendString(append(b, ": "...), hex.EncodeToString(sum[:]))
	}
	b = append(b, '}')
	if tol != nil {
		b = append(b, `, "self_test": {"input": "self_test/input.npy", "output": "self_test/output.npy", "tolerance": `...)
		b = append(pyjson.AppendFloat(b, *tol), '}')
	}
	b = append(b, '}')
	return indent(b)
}
