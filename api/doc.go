// Package api is seqcast's HTTP layer (Gin): the seed-compatible /predict
// endpoints, TensorFlow Serving's REST predict/status/metadata API, health,
// readiness, Prometheus metrics and the API docs, with request ids, JSON
// logs, API keys, rate limiting, CORS and a prediction cache. Requests name a
// model version by number ("2", "2.0") or label, in the body or the query
// string (version.go); /health reports the models and, through a background
// PING (Server.MonitorCache), whether Redis answers.
//
// api knows HTTP, not math: every forecast comes from a serving.Model found
// in a serving.Registry. A request flows one way: decode -> validate -> cache
// lookup -> (scale -> forward -> inverse, in serving) -> cache store ->
// respond. Configuration arrives as a Config value; the package has no
// mutable package-level state.
package api
