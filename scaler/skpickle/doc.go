// Package skpickle reads fitted scikit-learn scalers (MinMaxScaler,
// StandardScaler, RobustScaler, MaxAbsScaler) from the files pickle.dump
// (protocols 2 to 5) and joblib.dump (uncompressed, zlib, gzip, bz2, lzma,
// xz) write, with numpy 1.x or 2.x, in pure Go and without running anything
// from the file.
//
//	s, err := skpickle.LoadFile("scaler_X.pkl")
//	doc, err := s.MarshalJSON()   // the seqcast-scaler/1 SCALER object
//	sc, err := s.Scaler()         // or a scaler.Scaler directly
//
// A pickle is a program for a small stack machine; this package runs it on
// a VM of its own that only builds inert values. The one opcode family that
// names code, the globals, is resolved against an allow-list of exactly
// what scaler pickles use: the scaler classes, numpy's array, dtype and
// scalar reconstruction (numpy.core.* and numpy._core.*), _codecs.encode
// as protocol 2's bytes literal, and joblib's NumpyArrayWrapper. Each
// resolves to a fixed Go function; any other global (os.system,
// builtins.eval, a QuantileTransformer) stops the load with an
// *UnsafeError naming module.name. Persistent ids and extension codes are
// refused the same way.
//
// The result is what tools/seqcast_export/safe_pickle.py's scaler_json
// produces for the same file (the tests run both on every golden file), and
// Scaler.MarshalJSON writes it with Python's number and string formatting,
// so a scaler.json encoded around it with encoding/json (indent "  ",
// SetEscapeHTML(false)) is byte-identical to the exporter's. A
// MaxAbsScaler, which the Python exporter does not read, becomes
// {"kind": "standard", "mean": null, "scale": scale_}: exactly its
// transform.
//
// Hostile or corrupt files end in a *FormatError (corrupt, truncated, or
// not a fitted scaler this package supports, with the offending class,
// dtype or opcode named), an *UnsafeError or a *LimitError; Limits bounds
// the file, the decompressed stream and the number of values the pickle
// creates, and every length or shape claim is checked against the bytes
// actually present before anything is allocated. Nothing here keeps state
// between calls; Load is safe for concurrent use.
//
// The golden pickles in testdata are written by tools/scaler_pickles.py
// with Debian's scikit-learn (`/usr/bin/python3 tools/scaler_pickles.py`);
// the real joblib files of scikit-learn 1.6.1 and numpy 2 are the parity
// fixture's (parity/testdata/fixtures/airquality-cnn-bilstm). See
// docs/decisions/0005-scaler-pickles-in-go.md for why the VM is our own.
package skpickle
