//go:build !amd64 || purego

package nn

// asmBuilt reports whether this build has the assembly kernels.
const asmBuilt = false
