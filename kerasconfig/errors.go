package kerasconfig

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported is wrapped by every error about a Keras class, option or
// value that seqcast cannot run.
var ErrUnsupported = errors.New("not supported")

// CustomLayers is what an error about an unknown layer class says after the
// supported list: how a program adds a class of its own.
const CustomLayers = "a program can add a layer class of its own with package github.com/seqcast/seqcast/layers (docs/byo-model.md, Custom layers)"

// Error is what Parse returns when a config cannot be built: every error
// Parse returns is an *Error (find it with errors.As). Its message names
// the file (when Options.File does), the layer and its class, the option
// and its value, and what is supported, for example
//
//	mymodel/model.json: model config: layer "lstm_1" (LSTM): option stateful=true is not supported (supported: false)
//
// The fields say the same for programs.
type Error struct {
	// File is Options.File: the file the config was read from ("" when the
	// caller gave none).
	File string
	// Within lists the layers that wrap Layer (a Bidirectional or
	// TimeDistributed), outermost first.
	Within []LayerID
	// Layer and Class name the layer the error is about; both are "" when it
	// is about the model as a whole (its JSON, class, inputs or outputs),
	// and when a layer's Build refused its input shapes: package nn names
	// the layer and class in Err's text, not in fields.
	Layer, Class string
	// Option is the option at fault ("" when the error is not about one),
	// and Value its value as JSON text.
	Option, Value string
	// Supported lists what seqcast supports instead, when the error wraps
	// ErrUnsupported and the list is known: option values, or the layer
	// classes of the builder table (Builders.Classes) for an unknown class.
	Supported []string
	// Err is the reason, without the file and layer; it wraps
	// ErrUnsupported when the config asks for something seqcast cannot run.
	Err error
}

// LayerID names a layer by its Keras name and class.
type LayerID struct {
	Name, Class string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	b.WriteString("model config: ")
	for _, w := range e.Within {
		fmt.Fprintf(&b, "layer %q (%s): ", w.Name, w.Class)
	}
	if e.Layer != "" || e.Class != "" {
		fmt.Fprintf(&b, "layer %q (%s): ", e.Layer, e.Class)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the reason, so that errors.Is(err, ErrUnsupported) tells
// what seqcast cannot run from what is malformed.
func (e *Error) Unwrap() error { return e.Err }

// unsupported is the reason for a value outside supported.
func unsupported(what string, supported []string) error {
	return fmt.Errorf("%s is %w (supported: %s)", what, ErrUnsupported, strings.Join(supported, ", "))
}

// asError makes err an *Error, keeping one that already is.
func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Err: err}
}
