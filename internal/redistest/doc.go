// Package redistest runs a throwaway redis-server for tests.
//
// Start looks up redis-server on PATH. When it is missing the test fails: a
// missing tool is a failure, never a skip (`make prepare` installs it). Under
// go test -short every test that needs Redis is skipped. The server listens
// on a free loopback port with persistence off, works in t.TempDir(), and is
// killed when the test ends. StartSentinel adds a Redis Sentinel monitoring
// such a server.
package redistest
