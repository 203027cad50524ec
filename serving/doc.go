// Package serving is the served model: New builds a Model from a bundle
// already read into memory (package bundle: model.json, weights/, optional
// manifest.json, scaler.json and backtest.json), touching no filesystem, so
// the network, its scaler and its fingerprint all come from the same bytes.
// A Model forecasts in original units (scale -> forward -> inverse,
// recursively for multi-step horizons) with a prediction interval taken from
// the bundle's backtest. A Registry keeps named, versioned models from
// Sources (source.go): a models dir laid out like TensorFlow Serving's model
// base path (NAME/VERSION/, each a bundle or one Keras .h5/.keras file,
// NAME/model.yaml configuring the model, links followed, bad names refused
// with a log line), a bundle directory, a Keras file, or an embedded bundle.
// Reloads are atomic and self-tested, never take a source that changed while
// it was read, and unload models and versions no longer offered (reported
// with TF Serving's state END for a while). Models also take multivariate
// windows in raw units (PredictWindows), and with Options.Batch every
// version merges concurrent small forward passes into one (dynamic
// batching; batch.go). ModelOptions (from flags or NAME/model.yaml) give a
// model version labels (TF Serving's version_labels) and a pinned default
// version (labels.go); every label must name a loaded version. Failed
// lookups are a *NotFoundError saying whether the model, the version or the
// label is missing.
//
// serving knows neither HTTP nor caching: package api sits on top of it.
package serving
