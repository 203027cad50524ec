package parity

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time the calling OS thread has used; benchmarks lock
// their goroutine to a thread and report it next to wall time, which on a
// shared machine says more than ns/op.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
