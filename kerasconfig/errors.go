package kerasconfig

import (
	"errors"
)

// ErrUnsupported is wrapped by every error about a Keras class, option or
// value that seqcast cannot run.
var ErrUnsupported = errors.New("not supported")
