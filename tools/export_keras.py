#!/usr/bin/python3
"""Export a saved Keras model (+ optional scikit-learn scalers) to a seqcast bundle.

    /usr/bin/python3 tools/export_keras.py SRC --out DIR
        [--scaler-x X.pkl] [--scaler-y Y.pkl] | [--window-zscore [--epsilon E] [--target-feature K]]
        [--window N] [--self-test-input X.npy --self-test-output Y.npy [--self-test-tolerance T]]
        [--name NAME] [--version V] [--force]

SRC is a Keras 2.x or 3 .h5 file (model.save("m.h5")) or a .keras archive
(Keras 2.13+ / 3). Needs only numpy and h5py: no TensorFlow, Keras or
scikit-learn. Scaler pickles (pickle.dump or joblib.dump, any compression)
are read WITHOUT executing pickle code: only MinMaxScaler, StandardScaler and
RobustScaler plus numpy arrays are accepted, anything else is refused.

The self-test pair is the model's own input and output (scaled space, what
model.predict(X) returned); seqcast refuses to serve the model if it cannot
reproduce Y within the tolerance.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from seqcast_export import bundle, keras_reader, safe_pickle  # noqa: E402
from seqcast_export.keras_reader import ExportError  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(prog="export_keras.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", help="Keras .h5 or .keras file")
    p.add_argument("--out", required=True, help="bundle directory to write")
    p.add_argument("--scaler-x", help="pickle/joblib of the scaler fitted on the model inputs")
    p.add_argument("--scaler-y", help="pickle/joblib of the scaler fitted on the targets (its inverse is applied to outputs)")
    p.add_argument("--window-zscore", action="store_true",
                   help="per-window z-score of the input, outputs de-normalized with the same window's stats")
    p.add_argument("--epsilon", type=float, default=1e-8, help="window z-score: added to the population std (default 1e-8)")
    p.add_argument("--target-feature", type=int, default=0,
                   help="window z-score: input feature whose stats de-normalize the output (default 0)")
    p.add_argument("--window", type=int, help="time steps per window (default: the model's input length)")
    p.add_argument("--self-test-input", help=".npy (N, T, F): model inputs, already scaled")
    p.add_argument("--self-test-output", help=".npy: what model.predict returned for them")
    p.add_argument("--self-test-tolerance", type=float, default=1e-4)
    p.add_argument("--name", help="model name (default: SRC file name without extension)")
    p.add_argument("--version", default="1", help="model version string (default 1)")
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")
    a = p.parse_args(argv)
    if a.window_zscore and (a.scaler_x or a.scaler_y):
        p.error("--window-zscore and --scaler-x/--scaler-y are exclusive")
    if bool(a.self_test_input) != bool(a.self_test_output):
        p.error("--self-test-input and --self-test-output go together")
    return a


def scaler_doc(a, shape):
    """The scaler.json document, or None."""
    if not (a.window_zscore or a.scaler_x or a.scaler_y):
        if a.window is not None:
            raise ExportError("--window needs --scaler-x/--scaler-y or --window-zscore")
        return None
    T = shape[0] if shape and len(shape) == 2 else None
    F = shape[1] if shape and len(shape) == 2 else None
    window = a.window if a.window is not None else T
    if window is None:
        raise ExportError("the model's input length is not fixed in its config; pass --window N")
    if T is not None and window != T:
        raise ExportError("--window %d differs from the model's input length %d" % (window, T))
    if window <= 0:
        raise ExportError("--window must be positive")
    if a.window_zscore:
        if F is not None and not 0 <= a.target_feature < F:
            raise ExportError("--target-feature %d: model has %d input features" % (a.target_feature, F))
        if not a.epsilon >= 0:
            raise ExportError("--epsilon must be >= 0")
        inp = {"kind": "window_zscore", "epsilon": a.epsilon}
        out = {"kind": "window_zscore", "epsilon": a.epsilon, "target_feature": a.target_feature}
    else:
        inp = safe_pickle.load_scaler_json(a.scaler_x) if a.scaler_x else {"kind": "identity"}
        out = safe_pickle.load_scaler_json(a.scaler_y) if a.scaler_y else {"kind": "identity"}
        n = _nfeat(inp)
        if n is not None and F is not None and n != F:
            raise ExportError("--scaler-x %s was fitted on %d features, the model takes %d" % (a.scaler_x, n, F))
    return {"format": bundle.SCALER_FORMAT, "window": window, "input": inp, "output": out}


def _nfeat(s):
    for k in ("scale", "mean", "center", "min"):
        if s.get(k) is not None:
            return len(s[k])
    return None


def self_test_arrays(a, shape):
    if not a.self_test_input:
        return None
    x = np.load(a.self_test_input, allow_pickle=False)
    y = np.load(a.self_test_output, allow_pickle=False)
    for what, arr in (("--self-test-input", x), ("--self-test-output", y)):
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)):
            raise ExportError("%s: must hold finite floats (dtype %s)" % (what, arr.dtype))
    if shape is not None and None not in shape and tuple(x.shape[1:]) != tuple(shape):
        raise ExportError("--self-test-input has shape %s, the model takes (N, %s)"
                          % (x.shape, ", ".join(map(str, shape))))
    if y.shape[0] != x.shape[0]:
        raise ExportError("--self-test-output has %d rows, input has %d" % (y.shape[0], x.shape[0]))
    return x.astype(np.float32), y.astype(np.float32), a.self_test_tolerance


def export(argv):
    a = parse_args(argv)
    config, kv, backend, weights = keras_reader.read_model(a.src)
    shape = bundle.input_shape(config)
    scaler = scaler_doc(a, shape)
    st = self_test_arrays(a, shape)
    files = bundle.build_files(config, kv, backend, weights, scaler, st)
    name = a.name or os.path.splitext(os.path.basename(a.src))[0]
    files["manifest.json"] = bundle.manifest(files, name, a.version, kv, st[2] if st else None)
    bundle.write_dir(a.out, files, force=a.force)
    return a, weights, files


def main(argv=None):
    try:
        a, weights, files = export(sys.argv[1:] if argv is None else argv)
    except (ExportError, safe_pickle.ScalerPickleError, safe_pickle.UnsafePickleError, OSError) as e:
        print("export_keras: error: %s" % e, file=sys.stderr)
        return 1
    n = sum(int(np.prod(w[2].shape)) for w in weights)
    print("export_keras: wrote %s: %d weight arrays, %d parameters, %d files"
          % (a.out, len(weights), n, len(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
