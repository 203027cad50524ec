// Package kerasflags defines the preprocessing flags a Keras file takes on
// the command line (seqcast import and serve; the same names as
// tools/export_keras.py's), and turns them into bundle.KerasOptions.
package kerasflags
