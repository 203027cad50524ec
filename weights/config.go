package weights

import (
	"github.com/seqcast/seqcast/kerasconfig"
	"github.com/seqcast/seqcast/nn"
)

// The Keras model config is parsed by package kerasconfig; what follows
// keeps the names weights used to export for it.

// ModelInfo is what the config said about the model besides its layers.
type ModelInfo = kerasconfig.ModelInfo

// ErrUnsupported is wrapped by every error about a Keras class, option or
// value that seqcast cannot run (kerasconfig.ErrUnsupported).
var ErrUnsupported = kerasconfig.ErrUnsupported

// ParseConfig is kerasconfig.Parse with the default layer builders.
//
// Deprecated: use kerasconfig.Parse.
func ParseConfig(data []byte, kerasVersion string) (*nn.Model, ModelInfo, error) {
	return kerasconfig.Parse(data, kerasconfig.Options{KerasVersion: kerasVersion})
}
