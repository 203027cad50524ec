// Package backtest measures a served model on a user's own series: a
// rolling-origin backtest through the same path /predict uses
// (serving.Model: scaler, forward pass, inverse, recursive steps up to the
// horizon), one batched forward pass per step over every test window.
//
// ReadCSV reads the series (a target column, optionally several input
// columns and a date column, with line-numbered errors); Run computes, per
// horizon step, MAE, RMSE, MAPE, sMAPE and MASE beside the naive (last
// value) and seasonal naive forecasts, and the error quantiles; File is
// what Run writes as backtest.json, in the format serving reads
// (seqcast-backtest/1), so a model given it gets honest prediction
// intervals and confidence labels. Install writes it into a bundle
// (keeping the manifest's checksums true) or beside a Keras file; Plot
// draws the test period and the error distribution as a self-contained
// SVG.
//
// Dates, when given, are checked against the series' own inferred
// frequency (InferFrequency: business days for daily market data, so
// weekends are not gaps).
package backtest
