// Package redistest runs a throwaway redis-server for tests.
//
// Start looks up redis-server on PATH. When it is missing the test is
// skipped, unless the CI environment variable is set, in which case it fails
// (CI must exercise the Redis paths). The server listens on a free loopback
// port with persistence off, works in t.TempDir(), and is killed when the
// test ends. StartSentinel adds a Redis Sentinel monitoring such a server.
package redistest
