// Package kerasfile reads a saved Keras model, in pure Go, into its config,
// versions and weight arrays: what tools/export_keras.py (numpy + h5py)
// reads, in the same order, with the same names and the same bits.
//
// Files, told apart by content (see ../shared/docs/keras-formats.md):
//
//   - Keras 2.x legacy .h5 (model.save("m.h5")): byte-string names, ":0"
//     suffixes, session-global cell counters; weights follow layer_names,
//     then each layer's weight_names, which are checked against the class's
//     order (FormatH5);
//   - Keras 3 legacy .h5: str names prefixed with the model name (FormatH5);
//   - Keras 3 .keras zip: config.json, metadata.json, model.weights.h5 with
//     layers/<snake_case(class)[_n]>/vars/<i>; the n-th layer of a class maps
//     to the n-th key of that class, and the vars group's name attribute, when
//     present, must agree (FormatKeras);
//   - Keras 2.13-2.15 .keras zip: _layer_checkpoint_dependencies/ root,
//     counters with gaps, no name attributes, keys from Keras 2's
//     to_snake_case (conv_lst_m2d for ConvLSTM2D; keys.go) (FormatKeras213).
//
// Weights come in model.get_weights() order. The weight names of each layer
// class come from a Table (DefaultLayers, the exporter's list: Dense, Conv*,
// LSTM, GRU, SimpleRNN, ConvLSTM1D and ConvLSTM2D (layers_convlstm.go: where
// each Keras format keeps their weights), Bidirectional, TimeDistributed,
// BatchNormalization, LayerNormalization, PReLU, Embedding, the attention
// layers, keras-tcn's TCN (layers_tcn.go: its residual blocks' groups, by
// path) and the weightless layers). Pass a table of your own in Options to
// add classes; there is no package-level
// registry. A layer of a class the table lacks that holds weights is refused
// with an *UnsupportedClassError naming the layer, its class and the
// supported list; any other refusal is an *Error naming the file, the layer
// and its class, and the HDF5 path or zip member; a size over a limit, or a
// zip bomb, is a *LimitError. HDF5 errors (package hdf5) stay reachable with
// errors.As.
//
// A .keras member stored uncompressed (as Keras writes them) is read in
// place through the io.ReaderAt after a CRC check, not copied; a deflated one
// is decompressed within Options.MaxWeightsSize and Options.MaxRatio. Every
// read is bounded by package hdf5's budget of six times the file's size.
//
// The test suite reads every Keras file in the repository and the
// exporter's generated layouts through both this package and the Python
// reader (testdata/pyread.py) and requires identical results.
package kerasfile
