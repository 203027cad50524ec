//go:build amd64 && !purego

package nn

// asmBuilt reports whether this build has the assembly kernels (the CPU
// decides which of them run: haveAVX2FMA, haveAVX512).
const asmBuilt = true
