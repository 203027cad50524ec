package skpickle

import (
	"fmt"
	"strings"
)

// UnsafeError reports something a scaler pickle may never make the reader
// load: a global off the allow-list (Module and Name set, for example
// "os" and "system"), a persistent id or an extension code (What set).
// Nothing named by the file is ever imported or run; the error is raised
// when the name is read.
type UnsafeError struct {
	Module, Name string
	What         string
}

func (e *UnsafeError) Error() string {
	if e.Module == "" && e.Name == "" {
		return "skpickle: refusing " + e.What
	}
	msg := fmt.Sprintf("skpickle: refusing to load %s.%s: only scikit-learn scalers and numpy arrays may appear in a scaler pickle", e.Module, e.Name)
	if strings.HasPrefix(e.Module, "sklearn.") {
		msg += " (supported: " + strings.Join(SupportedClasses(), ", ") + ")"
	}
	return msg
}

// Global is "module.name" of a refused global, or "" for other refusals.
func (e *UnsafeError) Global() string {
	if e.Module == "" && e.Name == "" {
		return ""
	}
	return e.Module + "." + e.Name
}

// FormatError reports a file that is corrupt, truncated, or not a fitted
// scaler seqcast supports (an unsupported compression, dtype, opcode or
// state). Offset is the position in the (decompressed) pickle stream where
// the problem was found, or -1.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return "skpickle: " + e.Msg
	}
	return fmt.Sprintf("skpickle: at byte %d: %s", e.Offset, e.Msg)
}

// LimitError reports a size, count or nesting claim beyond a Limits bound,
// refused before anything of that size was allocated.
type LimitError struct {
	What    string
	Limit   int64
	Claimed int64 // -1 when unknown (for example a stream that keeps inflating)
}

func (e *LimitError) Error() string {
	if e.Claimed < 0 {
		return fmt.Sprintf("skpickle: %s exceeds the limit of %d", e.What, e.Limit)
	}
	return fmt.Sprintf("skpickle: %s: %d exceeds the limit of %d", e.What, e.Claimed, e.Limit)
}

func formatErr(off int, format string, args ...any) error {
	return &FormatError{Offset: int64(off), Msg: fmt.Sprintf(format, args...)}
}

func stateErr(format string, args ...any) error {
	return &FormatError{Offset: -1, Msg: fmt.Sprintf(format, args...)}
}
