// Package serving is the served model: it loads a seqcast bundle (model.json,
// weights/, optional manifest.json, scaler.json and backtest.json) from a
// directory or an fs.FS into a Model that forecasts in original units (scale
// -> forward -> inverse, recursively for multi-step horizons) with a
// prediction interval taken from the bundle's backtest, and keeps a Registry
// of named, versioned models laid out like TensorFlow Serving's model base
// path (NAME/VERSION/) with atomic, self-tested reloads. Models also take
// multivariate windows in raw units (PredictWindows), and with
// Options.Batch every version merges concurrent small forward passes into
// one (dynamic batching; batch.go). Options.Models gives a model version
// labels (TF Serving's version_labels) and a pinned default version
// (labels.go); every label must name a loaded version. Failed lookups are a
// *NotFoundError saying whether the model, the version or the label is
// missing.
//
// serving knows neither HTTP nor caching: package api sits on top of it.
package serving
