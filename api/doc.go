// Package api is seqcast's HTTP layer (Gin): the seed-compatible /predict
// endpoints, TensorFlow Serving's REST predict/status/metadata API, health,
// readiness, Prometheus metrics, the API docs and the forecast page (/ui,
// ui.go: embedded HTML, CSS and JavaScript that call the API), with request ids, JSON
// logs, API keys, rate limiting, CORS and a prediction cache. Requests name a
// model version by number ("2", "2.0") or label, in the body or the query
// string (version.go); /health reports the models and, through a background
// PING (Server.MonitorCache), whether Redis answers.
//
// api knows HTTP, not math: every forecast comes from a serving.Model found
// in a serving.Registry. A request flows one way: decode the object
// (package jsoncodec) -> resolve the model -> read the arrays against the
// model's bounds (jsoncodec, checked while reading: steps, features,
// --max-batch, value range) -> cache lookup -> (scale -> forward -> inverse,
// in serving) -> cache store -> respond. Errors are typed (*jsoncodec.Error,
// *serving.InputError, *serving.NotFoundError) and mapped to HTTP in one
// place, errors.go; values a client sent are quoted cut short. The rate
// limiter runs before authentication (a wrong key costs a token), remembers
// a bounded number of clients (IPv6 by /64), and every GET route answers
// HEAD. A zero Config.CacheTTL means no caching. Configuration arrives as a
// Config value; the package has no mutable package-level state and does not
// change gin's global mode (cmd/seqcast sets release mode once).
package api
