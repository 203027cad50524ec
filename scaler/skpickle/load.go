package skpickle

import (
	"fmt"
	"io"
	"os"
)

// Limits bound what a file may make Load allocate. Every claim is checked
// before anything of its size is allocated; arrays and strings are slices
// of the (decompressed) pickle, never copies sized by a length field.
type Limits struct {
	// MaxFileSize bounds the file as read (compressed or not).
	MaxFileSize int64
	// MaxPickleSize bounds the pickle stream after decompression.
	MaxPickleSize int64
	// MaxValues bounds the values the pickle creates: stack pushes, MARKs
	// and memo entries together (a fitted scaler needs a few hundred).
	MaxValues int64
}

// DefaultLimits: 64 MiB files and streams, 262,144 values.
func DefaultLimits() Limits {
	return Limits{MaxFileSize: 64 << 20, MaxPickleSize: 64 << 20, MaxValues: 1 << 18}
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxPickleSize <= 0 {
		l.MaxPickleSize = d.MaxPickleSize
	}
	if l.MaxValues <= 0 {
		l.MaxValues = d.MaxValues
	}
	return l
}

// Load reads a scikit-learn scaler from the bytes of a pickle.dump or
// joblib.dump file, with DefaultLimits.
func Load(data []byte) (*Scaler, error) { return DefaultLimits().Load(data) }

// LoadFile reads the scaler pickle at path, with DefaultLimits. Errors are
// prefixed with the path and wrap the typed errors of this package.
func LoadFile(path string) (*Scaler, error) { return DefaultLimits().LoadFile(path) }

// LoadFile reads the scaler pickle at path within l.
func (l Limits) LoadFile(path string) (*Scaler, error) {
	l = l.orDefault()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, l.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > l.MaxFileSize {
		return nil, fmt.Errorf("%s: %w", path, &LimitError{What: "file size", Limit: l.MaxFileSize, Claimed: -1})
	}
	s, err := l.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Load reads a scaler from the bytes of a pickle within l.
func (l Limits) Load(data []byte) (*Scaler, error) {
	l = l.orDefault()
	if int64(len(data)) > l.MaxFileSize {
		return nil, &LimitError{What: "file size", Limit: l.MaxFileSize, Claimed: int64(len(data))}
	}
	raw, comp, err := decompress(data, l.MaxPickleSize)
	if err != nil {
		return nil, err
	}
	budget := l.MaxValues
	v, err := newVM(raw, 0, &budget, l.MaxValues, 0).run()
	if err != nil {
		return nil, err
	}
	s, err := fromEstimator(v)
	if err != nil {
		return nil, err
	}
	s.Compression = comp
	return s, nil
}
