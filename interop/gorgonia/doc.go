// Package gorgonia lets Go programs that already hold their data in
// gorgonia.org/tensor run a seqcast model on it: a *tensor.Dense of shape
// (N, ...input shape) goes in, a *tensor.Dense of shape (N, ...output shape)
// comes out.
//
// The package is deliberately separate from nn and is not imported by the
// seqcast binary or by any other seqcast package, so only programs that
// import it pay for gorgonia.org/tensor (about 10 MB of binary; see
// docs/decisions/0003-gorgonia-interop.md). A test in this package fails if
// the seqcast command ever starts depending on a gorgonia.org module.
//
// gorgonia.org/tensor v0.9.24 imports go4.org/unsafe/assume-no-moving-gc,
// whose old versions panic at program start on recent Go releases. seqcast's
// go.mod requires a version of that module that asks the runtime instead
// (v0.0.0-20231121144256-b99613f794b6 or later); a program that uses this
// package from another module needs the same:
//
//	go get go4.org/unsafe/assume-no-moving-gc@latest
//
// Tensors are converted, never aliased: Predict reads the input into a new
// row-major float32 slice (materialising views, transposes and column-major
// tensors; Float64 is converted) and returns a tensor that owns its output.
package gorgonia
