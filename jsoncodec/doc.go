// Package jsoncodec is seqcast's hand-written JSON codec for the prediction
// routes: it decodes the request bodies of POST /predict, /predict/batch and
// TensorFlow Serving's :predict (row "instances" and columnar "inputs"
// formats), and encodes the prediction responses byte for byte as
// encoding/json would, without reflection.
//
// Requests are read in two steps (request.go): the object first, keeping the
// arrays as raw JSON text, then each array against the shape the resolved
// model takes (Bounds: steps, features, most windows, largest value), with
// the bounds checked while reading (arrays.go). A value past a bound (one
// feature too many, one time step too many, one window past the maximum) is
// refused as soon as it is reached, before anything is allocated for it, so
// a rejected request costs a small multiple of its body; a longer history
// than the model's window is kept in a ring of one window. Shape and value
// errors are an *Error naming the field and the position inside it; the
// server maps it to HTTP (422). Values quoted in messages are cut to
// MaxEcho bytes.
//
// The package has no I/O, no HTTP and no package-level mutable state.
package jsoncodec
