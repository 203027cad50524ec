// Package reliability holds black-box tests of `seqcast serve` under hostile
// input, broken bundles, missing credentials and failing dependencies. It has
// no code of its own: every test builds the real binary (cmd/seqcast), starts
// it on a loopback port and talks to it over TCP, the way a client on the
// network would.
//
// `go test ./reliability/` (part of `make test`) runs the hostile-input
// catalogue (more than 60 malformed, oversized, slow and path-traversing
// requests, each with its documented status), the API-key checks with the
// server's log captured, and the bad-bundle start-up and reload checks. The
// longer runs (Redis killed and restarted under load, hot reload under load,
// SIGTERM under load, a soak) need SEQCAST_RELIABILITY_LONG=1 and run under
// `make reliability`. Everything listens on 127.0.0.1 only.
//
// The per-file bundle errors (missing files, truncated .npy, wrong dtype, NaN
// weights, shape mismatch, unknown layer, checksum mismatch) are covered by
// weights.TestLoadErrors; the tests here check what the server does with
// such a bundle.
package reliability
