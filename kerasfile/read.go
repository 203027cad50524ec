package kerasfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/seqcast/seqcast/hdf5"
)

// Format is the kind of file a model was read from.
type Format string

const (
	// FormatH5 is a whole-model HDF5 file, model.save("m.h5"), from Keras 2
	// (byte-string names, ":0" suffixes) or Keras 3 (str names prefixed with
	// the model name).
	FormatH5 Format = "h5"
	// FormatKeras is a Keras 3 .keras archive (weights under layers/).
	FormatKeras Format = "keras"
	// FormatKeras213 is a Keras 2.13-2.15 .keras archive (weights under
	// _layer_checkpoint_dependencies/).
	FormatKeras213 Format = "keras-2.13"
)

// Model is what a Keras file holds, as tools/export_keras.py reads it.
type Model struct {
	Source string // the name the file was read under
	Format Format
	// Config is the model config JSON exactly as stored: the model_config
	// attribute of an .h5, config.json of a .keras.
	Config       []byte
	KerasVersion string // "" when the file does not say
	Backend      string // "" when the file does not say
	// Weights in model.get_weights() order.
	Weights []Weight
}

// Weight is one weight array.
type Weight struct {
	Layer string // the config layer it belongs to
	Class string // that layer's class
	// Name labels it as the Python exporter does: the weight name for an
	// .h5 ("dense_9/kernel:0", "sequential_8/dense_20/bias"), the HDF5
	// path for a .keras ("layers/dense/vars/0").
	Name  string
	Shape []int
	// Data holds the values as float32 (a float16 array widened exactly).
	// For a float64 array it is their rounding, and Float64 holds the
	// stored values.
	Data    []float32
	Float64 []float64
}

// Options tunes Read. The zero value (or nil) reads with DefaultLayers and
// the default limits.
type Options struct {
	// Layers orders the weights of each layer class; nil means
	// DefaultLayers(). Add entries for classes of your own.
	Layers Table
	// MaxFileSize bounds the file (default 4 GiB).
	MaxFileSize int64
	// MaxJSONSize bounds config.json and metadata.json in a .keras (default 64 MiB each).
	MaxJSONSize int64
	// MaxWeightsSize bounds model.weights.h5 uncompressed (default 4 GiB).
	MaxWeightsSize int64
	// MaxRatio bounds how many times a deflated member may expand
	// (default 20, beyond a first MiB; Keras itself stores members uncompressed).
	MaxRatio int64
}

const (
	defaultMaxFile    = 4 << 30
	defaultMaxJSON    = 64 << 20
	defaultMaxWeights = 4 << 30
)

type reader struct {
	src     string
	layers  Table
	opt     Options
	zipSize uint64
}

// ReadFile reads the Keras model file at path (.h5 or .keras, told apart by
// content). The file is read through its ReaderAt: a stored (uncompressed)
// model.weights.h5 is not copied into memory, only its weights are.
func ReadFile(path string, opt *Options) (*Model, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	return Read(fh, st.Size(), path, opt)
}

// Read reads a Keras model from r, which holds size bytes; name is used in
// errors and Model.Source.
func Read(r io.ReaderAt, size int64, name string, opt *Options) (*Model, error) {
	rd := &reader{src: name}
	if opt != nil {
		rd.opt = *opt
	}
	rd.layers = rd.opt.Layers
	if rd.layers == nil {
		rd.layers = DefaultLayers()
	}
	if rd.opt.MaxFileSize <= 0 {
		rd.opt.MaxFileSize = defaultMaxFile
	}
	if rd.opt.MaxJSONSize <= 0 {
		rd.opt.MaxJSONSize = defaultMaxJSON
	}
	if rd.opt.MaxWeightsSize <= 0 {
		rd.opt.MaxWeightsSize = defaultMaxWeights
	}
	if rd.opt.MaxRatio <= 0 {
		rd.opt.MaxRatio = defaultMaxRatio
	}
	if size > rd.opt.MaxFileSize {
		return nil, &LimitError{File: name, Size: uint64(size), Limit: uint64(rd.opt.MaxFileSize)}
	}
	magic := make([]byte, 8)
	n, _ := r.ReadAt(magic, 0)
	magic = magic[:n]
	switch {
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")):
		return rd.readZip(r, size)
	case bytes.Equal(magic, []byte("\x89HDF\r\n\x1a\n")):
		f, err := hdf5.Open(r, size)
		if err != nil {
			return nil, &Error{File: name, Err: err}
		}
		return rd.readH5(f)
	}
	return nil, &Error{File: name, Msg: "neither a .keras zip nor an HDF5 file"}
}

func (rd *reader) err(l *layer, path, format string, args ...any) *Error {
	e := &Error{File: rd.src, Path: path, Msg: fmt.Sprintf(format, args...)}
	if l != nil {
		e.Layer, e.Class = l.name, l.class
	}
	return e
}

func (rd *reader) wrap(l *layer, path string, err error) *Error {
	e := &Error{File: rd.src, Path: path, Err: err}
	if l != nil {
		e.Layer, e.Class = l.name, l.class
	}
	return e
}

func (rd *reader) unsupported(l *layer, class, path string) error {
	return &UnsupportedClassError{File: rd.src, Layer: l.name, Class: class, Path: path, Supported: rd.layers.Classes()}
}

// expected is the layer's weight names in get_weights() order; known is
// false for a class (or a wrapped class, named by class) not in the table.
func (rd *reader) expected(l *layer) (names []string, known bool, class string, err error) {
	names, known, err = rd.layers.WeightNames(l.obj)
	var ui errUnknownInner
	if errors.As(err, &ui) {
		return nil, false, ui.class, nil
	}
	if err != nil {
		return nil, false, l.class, rd.err(l, "", "%v", err)
	}
	return names, known, l.class, nil
}

// intWeightClass says whether a class holds an integer weight the model never computes with:
// an adapted Normalization's count (an int64 scalar in Keras files;
// inference reads only mean and variance). It is read as float32, as the
// Python exporter's astype does.
func intWeightClass(class string) bool { return class == "Normalization" }

// readWeight reads a float dataset (or an integer one of an intWeightClass)
// into a Weight.
func (rd *reader) readWeight(l *layer, g *hdf5.Group, rel, label, where string) (Weight, error) {
	ds, err := g.Dataset(rel)
	if err != nil {
		return Weight{}, rd.wrap(l, where, err)
	}
	w := Weight{Layer: l.name, Class: l.class, Name: label, Shape: ds.Shape()}
	if ds.DType.Class == hdf5.ClassInt && intWeightClass(l.class) {
		v, err := ds.ReadInt64()
		if err != nil {
			return Weight{}, rd.wrap(l, where, err)
		}
		w.Data = make([]float32, len(v))
		for i, x := range v {
			w.Data[i] = float32(x)
		}
		return w, nil
	}
	if ds.DType.Class != hdf5.ClassFloat {
		return Weight{}, rd.err(l, where, "dtype %s is not a float type", ds.DType)
	}
	if ds.DType.Size <= 4 { // float32, or float16 widened exactly as the exporter's astype does
		w.Data, err = ds.ReadFloat32()
	} else {
		w.Float64, err = ds.ReadFloat64()
		if err == nil {
			w.Data = make([]float32, len(w.Float64))
			for i, v := range w.Float64 {
				w.Data[i] = float32(v)
			}
		}
	}
	if err != nil {
		return Weight{}, rd.wrap(l, where, err)
	}
	return w, nil
}

func validName(s string) bool { return utf8.ValidString(s) }
