// Package weights turns a model bundle into a ready nn.Model.
//
// A bundle is a directory (or an fs.FS, for go:embed) holding:
//
//	model.json         the Keras config, exactly as model.to_json() writes it
//	weights/000.npy    model.get_weights()[0], then 001.npy, ... (float32 or float64)
//	manifest.json      optional: name, version, keras_version, sha256 of files, self-test
//	scaler.json        optional: seqcast-scaler/1 (parsed by package scaler)
//
// Load and LoadFS verify the manifest's checksums first, then parse the
// config (package kerasconfig: Keras <= 2.12, 2.13-2.15 and 3 dialects,
// Sequential and single-input single-output Functional models), then read
// the weights in numeric order, checking each array's shape against the
// layer's before reading its data, and refusing NaN and Inf. Last, the
// self-test, when the manifest has one, runs a recorded input through the
// model and refuses the model if any output differs from the recorded one by
// more than the tolerance (DefaultTolerance, 1e-4, unless the manifest says
// otherwise).
//
// Everything seqcast cannot run (return_state, channels_first,
// grouped convolutions, mixed precision, unknown layers or activations, ...)
// is refused at load with an error naming the layer, the option, its value
// and what is supported; such errors wrap ErrUnsupported (the same value as
// kerasconfig.ErrUnsupported). Options without meaning at inference
// (initializers, regularizers, constraints, dropout rates, trainable) are
// accepted and ignored.
//
// ReadNPY and WriteNPY (WriteNPY64 for float64) read and write the .npy
// arrays the command line and the tests exchange; what they write is byte
// for byte what numpy's np.save writes. See docs/bundle-format.md for the format.
package weights
