// Package positional is a complete custom layer, written the way a team
// adds its own Keras layer class to seqcast: the sinusoidal
// PositionalEncoding of the epidemic-transformer fixture
// (kerasfile/testdata/survey/epidemic-transformer; its README gives the
// formula), a layer its author defined in a notebook and no engine knows.
//
// Build is a kerasconfig.Builder: it reads the layer's config and returns
// an nn.Layer, which gets its input shape in Build (the table is sized by
// it) and has no weights. A program registers it in a layers.Set under
// the class name the file stores:
//
//	custom := layers.Set{"PositionalEncoding": {Build: positional.Build}}
//
// and passes the Set to the loader (see the Example) or to server.Main
// (cmd/epidemic-server, a static binary serving the model).
package positional
