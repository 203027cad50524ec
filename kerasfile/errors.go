package kerasfile

import (
	"fmt"
	"strings"
)

// Error is a model file that cannot be read as a Keras model. File names the
// file; Layer and Class the layer concerned, when there is one; Path the
// HDF5 path or zip member. Err, when set, is the underlying error (an
// *hdf5.UnsupportedError, *hdf5.FormatError, a JSON syntax error, ...), so
// errors.As reaches it.
type Error struct {
	File  string
	Layer string
	Class string
	Path  string
	Msg   string
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kerasfile: ")
	b.WriteString(e.File)
	if e.Layer != "" {
		fmt.Fprintf(&b, ": layer %q", e.Layer)
		if e.Class != "" {
			fmt.Fprintf(&b, " (%s)", e.Class)
		}
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// UnsupportedClassError is a layer whose class is not in the layer table
// (Options.Layers) and that holds weights, so their order and meaning are
// unknown. Supported is the table's class list.
type UnsupportedClassError struct {
	File      string
	Layer     string
	Class     string
	Path      string // where its weights are, when known
	Supported []string
}

func (e *UnsupportedClassError) Error() string {
	where := ""
	if e.Path != "" {
		where = " at " + e.Path
	}
	return fmt.Sprintf("kerasfile: %s: layer %q has class %s, whose weights%s seqcast cannot map; supported classes: %s",
		e.File, e.Layer, e.Class, where, strings.Join(e.Supported, ", "))
}

// LimitError is a file, or a member of a .keras archive, larger than the
// limit Options set for it (or a zip member whose declared sizes are
// impossible, as in a zip bomb).
type LimitError struct {
	File   string
	Member string
	Size   uint64
	Limit  uint64
	Msg    string
}

func (e *LimitError) Error() string {
	m := ""
	if e.Member != "" {
		m = ": " + e.Member
	}
	if e.Msg != "" {
		return fmt.Sprintf("kerasfile: %s%s: %s", e.File, m, e.Msg)
	}
	return fmt.Sprintf("kerasfile: %s%s: %d bytes is over the limit of %d", e.File, m, e.Size, e.Limit)
}
