// Package allocbound lets fuzz targets check that a hostile input costs no
// more memory than a small multiple of its size.
package allocbound

import (
	"runtime"
	"testing"
)

// Base is the allocation every checked call may make whatever its input; on
// top of it a call may allocate PerByte per input byte.
const (
	Base    = 64 << 20
	PerByte = 512
)

// Check runs f and fails t when f allocated more than Base + PerByte*n bytes
// for an input of n bytes.
func Check(t testing.TB, n int, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(Base+PerByte*n); got > limit {
		t.Fatalf("allocated %d bytes for %d input bytes (limit %d)", got, n, limit)
	}
}
