// Package bundle reads a model's files once, into an immutable in-memory
// value: a bundle directory (model.json, weights/NNN.npy, manifest.json,
// scaler.json, backtest.json, self_test/...), or, through FromKeras, a Keras
// .h5 or .keras file with its scikit-learn scaler pickles, turned into the
// same files.
//
// Everything downstream (package weights, which checks the manifest and
// builds the network; package serving, which adds the scaler and backtest)
// reads from the value's FS, so the bytes that were checksummed and
// fingerprinted are exactly the bytes that were parsed, and a reload that
// reads a directory while it is being rewritten is refused rather than
// served as a mixture of two models.
package bundle
