#!/usr/bin/python3
"""Scaler pickles for scaler/skpickle's tests, and the Python side of its cross-check.

    /usr/bin/python3 tools/scaler_pickles.py            # regenerate scaler/skpickle/testdata
    /usr/bin/python3 tools/scaler_pickles.py --json F…  # safe_pickle.scaler_json of each file, one JSON line each

Regenerating needs Debian's python3-sklearn, python3-joblib and python3-numpy
(run with /usr/bin/python3). It fits each scaler case on a small fixed data
set and writes, under scaler/skpickle/testdata:

  pickles/CASE-pP.pkl          pickle.dump, protocols 2 to 5
  pickles/CASE-joblib-C.pkl    joblib.dump, compress none, zlib, gzip, bz2, lzma, xz
                               (and joblib protocols 2 and 5, uncompressed)
  pickles/CASE-np2-pP.pkl      numpy 2.x module names (numpy._core.*): Debian's
                               numpy is 1.x, so these are the protocol 2, 4 and 5
                               pickles with numpy.core.* rewritten to numpy._core.*
                               opcode by opcode (string lengths and FRAME sizes
                               recomputed); joblib's numpy 2 files are the real
                               fixtures in parity/testdata/fixtures
  expected/CASE.json           the seqcast-scaler/1 object: safe_pickle.scaler_json
                               of every file of the case (asserted equal across
                               them and to the fitted estimator's attributes), as
                               json.dumps writes it. MaxAbsScaler, which
                               safe_pickle does not read, is written from the
                               estimator: {"kind": "standard", "mean": null,
                               "scale": scale_} is exactly its transform.
  expected/airquality_scaler_{X,y}.json
                               safe_pickle.scaler_json of the real joblib fixtures
                               (sklearn 1.6.1, numpy 2) in parity/testdata/fixtures
  hostile/NAME.pkl             real attack pickles (__reduce__ to os.system, eval,
                               subprocess.call; one hidden inside a fitted scaler's
                               state; one in a zlib joblib file) and
  hostile/expected.json        the global each must be refused for

The files are golden files: regenerate, never edit them by hand.
"""

import io
import json
import os
import pickle
import pickletools
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
OUT = os.path.join(ROOT, "scaler", "skpickle", "testdata")

from seqcast_export import safe_pickle  # noqa: E402


def cases():
    import numpy as np
    from sklearn import preprocessing as pre
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 4)) * [1, 100, 0.01, 3] + [0, 1000, 3, -7]
    X[:, 2] = 4.0  # a constant column: zero range / zero variance
    named = pre.StandardScaler().fit(X)
    named.feature_names_in_ = np.array(["T", "RH (%)", "CO \"gt\"", "\u00e9t\u00e9 \u2103"], dtype=object)
    return {
        "minmax_default": pre.MinMaxScaler().fit(X),
        "minmax_range_clip": pre.MinMaxScaler(feature_range=(-1, 2), clip=True).fit(X),
        "minmax_float32": pre.MinMaxScaler().fit(X.astype(np.float32)),
        "standard_default": pre.StandardScaler().fit(X),
        "standard_no_mean": pre.StandardScaler(with_mean=False).fit(X),
        "standard_no_std": pre.StandardScaler(with_std=False).fit(X),
        "standard_feature_names": named,
        "robust_default": pre.RobustScaler().fit(X),
        "robust_no_centering": pre.RobustScaler(with_centering=False, quantile_range=(5, 95)).fit(X),
        "robust_no_scaling": pre.RobustScaler(with_scaling=False).fit(X),
        "maxabs_default": pre.MaxAbsScaler().fit(X),
    }


def synthetic_cases():
    """Fitted scalers whose state is rewritten to reach the rarer array
    encodings: Fortran-ordered 2-D arrays, big-endian, float16, float32 and
    integer dtypes, numpy scalars (multiarray.scalar) for counts and flags.
    Their expected document is safe_pickle's."""
    import numpy as np
    from sklearn import preprocessing as pre
    X = np.arange(16.0).reshape(4, 4) ** 1.5 + 1
    st = pre.StandardScaler().fit(X)
    st.mean_ = np.asfortranarray(st.mean_.reshape(2, 2))
    st.scale_ = st.scale_.astype(">f4")
    st.n_features_in_ = np.int64(4)
    st.n_samples_seen_ = np.int64(4)
    rb = pre.RobustScaler().fit(X)
    rb.center_ = rb.center_.astype(np.float16)
    rb.scale_ = np.array([1, 2, 3, 400000], dtype=">i4")
    rb.with_centering = np.bool_(True)
    mm = pre.MinMaxScaler(feature_range=(-1.5, 2)).fit(X)
    mm.feature_range = [-1.5, 2]
    mm.clip = np.bool_(True)
    mm.data_min_ = mm.data_min_.astype(np.uint16)
    mm.data_max_ = mm.data_max_.astype(np.int8)
    return {"synthetic_fortran_bigendian": st, "synthetic_float16_int": rb, "synthetic_minmax_ints": mm}


def expected_from_estimator(sc):
    """The scaler.json object from the fitted estimator's own attributes."""
    kind = type(sc).__name__
    if kind == "MinMaxScaler":
        out = {"kind": "minmax", "feature_range": [float(v) for v in sc.feature_range], "clip": bool(sc.clip),
               "data_min": sc.data_min_.astype(float).tolist(), "data_max": sc.data_max_.astype(float).tolist(),
               "scale": sc.scale_.astype(float).tolist(), "min": sc.min_.astype(float).tolist()}
    elif kind == "StandardScaler":
        out = {"kind": "standard", "mean": sc.mean_.tolist() if sc.with_mean else None,
               "scale": sc.scale_.tolist() if sc.with_std else None}
    elif kind == "RobustScaler":
        out = {"kind": "robust", "center": sc.center_.tolist() if sc.with_centering else None,
               "scale": sc.scale_.tolist() if sc.with_scaling else None}
    elif kind == "MaxAbsScaler":
        out = {"kind": "standard", "mean": None, "scale": sc.scale_.tolist()}
    else:
        raise SystemExit("no expected document for %s" % kind)
    if hasattr(sc, "feature_names_in_"):
        out["feature_names"] = [str(x) for x in sc.feature_names_in_]
    return out


def rewrite_numpy2(data):
    """A plain pickle with numpy.core.* globals renamed numpy._core.*."""
    def rename(s):
        return "numpy._core." + s[len("numpy.core."):] if s.startswith("numpy.core.") else s

    ops = list(pickletools.genops(io.BytesIO(data)))
    out, frame, in_frame = [], None, False
    for i, (op, arg, pos) in enumerate(ops):
        end = ops[i + 1][2] if i + 1 < len(ops) else len(data)
        raw = data[pos:end]
        if op.name == "FRAME":
            if frame is not None:
                out.append(b"\x95" + len(frame).to_bytes(8, "little") + frame)
            frame = b""
            continue
        if op.name == "GLOBAL":
            mod, name = arg.split(" ", 1)
            raw = b"c" + rename(mod).encode() + b"\n" + name.encode() + b"\n"
        elif op.name == "SHORT_BINUNICODE" and arg.startswith("numpy.core."):
            new = rename(arg).encode()
            raw = b"\x8c" + bytes([len(new)]) + new
        if frame is not None:
            frame += raw
        else:
            out.append(raw)
    if frame is not None:
        out.append(b"\x95" + len(frame).to_bytes(8, "little") + frame)
    new = b"".join(out)
    assert b"numpy.core" not in new and b"numpy._core" in new
    return new


def generate():
    import joblib
    import numpy as np
    assert np.__version__.startswith("1."), "the numpy._core variants are written by renaming numpy 1.x pickles"
    for sub in ("pickles", "expected", "hostile"):
        shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
        os.makedirs(os.path.join(OUT, sub))
    tmp = os.path.join(OUT, "pickles", ".tmp.pkl")
    synthetic = synthetic_cases()
    for case, sc in list(cases().items()) + list(synthetic.items()):
        files = {}
        for proto in (2, 3, 4, 5):
            files["%s-p%d.pkl" % (case, proto)] = pickle.dumps(sc, protocol=proto)
        for proto in (2, 4, 5):
            files["%s-np2-p%d.pkl" % (case, proto)] = rewrite_numpy2(pickle.dumps(sc, protocol=proto))
        for comp in ("none", "zlib", "gzip", "bz2", "lzma", "xz"):
            joblib.dump(sc, tmp, compress=0 if comp == "none" else (comp, 3))
            with open(tmp, "rb") as f:
                files["%s-joblib-%s.pkl" % (case, comp)] = f.read()
        for proto in (2, 5):
            joblib.dump(sc, tmp, protocol=proto)
            with open(tmp, "rb") as f:
                files["%s-joblib-p%d.pkl" % (case, proto)] = f.read()
        os.remove(tmp)
        if case in synthetic:
            want = safe_pickle.scaler_json(safe_pickle.loads(files[case + "-p4.pkl"]))
        else:
            want = expected_from_estimator(sc)
        for name, data in sorted(files.items()):
            with open(os.path.join(OUT, "pickles", name), "wb") as f:
                f.write(data)
            if type(sc).__name__ == "MaxAbsScaler":
                continue  # safe_pickle refuses it; skpickle reads it from the estimator's state
            got = safe_pickle.scaler_json(safe_pickle.loads(data, name), name)
            assert got == want, (name, got, want)
        with open(os.path.join(OUT, "expected", case + ".json"), "w") as f:
            f.write(json.dumps(want) + "\n")
        print("%-24s %d files" % (case, len(files)))
    fixtures = os.path.join(ROOT, "parity", "testdata", "fixtures", "airquality-cnn-bilstm")
    for which in ("X", "y"):
        doc = safe_pickle.load_scaler_json(os.path.join(fixtures, "scaler_%s.pkl" % which))
        with open(os.path.join(OUT, "expected", "airquality_scaler_%s.json" % which), "w") as f:
            f.write(json.dumps(doc) + "\n")
    names = {}
    for name, (data, glob) in sorted(hostile().items()):
        try:
            safe_pickle.scaler_json(safe_pickle.loads(data, name), name)
            raise SystemExit("%s: safe_pickle accepted it" % name)
        except safe_pickle.UnsafePickleError as e:
            assert glob in str(e), (name, str(e))
        with open(os.path.join(OUT, "hostile", name + ".pkl"), "wb") as f:
            f.write(data)
        names[name] = glob
    with open(os.path.join(OUT, "hostile", "expected.json"), "w") as f:
        f.write(json.dumps(names, indent=2, sort_keys=True) + "\n")
    print("hostile                  %d files" % len(names))


class _Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def hostile():
    import os as os_mod
    import subprocess
    import joblib
    import numpy as np
    from sklearn import preprocessing as pre
    cmd = "touch /tmp/skpickle-pwned"
    sc = pre.MinMaxScaler().fit(np.arange(6.0).reshape(3, 2))
    sc.scale_ = _Evil(os_mod.system, cmd)
    out = {
        "os_system": (pickle.dumps(_Evil(os_mod.system, cmd), protocol=2), "posix.system"),
        "os_system_p5": (pickle.dumps(_Evil(os_mod.system, cmd), protocol=5), "posix.system"),
        "builtins_eval": (pickle.dumps(_Evil(eval, "__import__('os').system(%r)" % cmd), protocol=4), "builtins.eval"),
        "subprocess_call": (pickle.dumps(_Evil(subprocess.call, ["touch", "/tmp/skpickle-pwned"]), protocol=3),
                            "subprocess.call"),
        "nested_in_scaler": (pickle.dumps(sc, protocol=4), "posix.system"),
        "quantile_transformer": (pickle.dumps(pre.QuantileTransformer(n_quantiles=3).fit(np.arange(6.0)[:, None]),
                                              protocol=4), "sklearn.preprocessing._data.QuantileTransformer"),
    }
    tmp = os.path.join(OUT, "hostile", ".tmp.pkl")
    joblib.dump({"x": _Evil(os_mod.system, cmd)}, tmp, compress=("zlib", 3))
    with open(tmp, "rb") as f:
        out["joblib_zlib"] = (f.read(), "posix.system")
    os.remove(tmp)
    return out


def scaler_json_lines(paths):
    """One JSON line per path: {"path", "ok": SCALER} or {"path", "error", "message"}."""
    for p in paths:
        try:
            line = {"path": p, "ok": safe_pickle.load_scaler_json(p)}
        except (safe_pickle.ScalerPickleError, safe_pickle.UnsafePickleError) as e:
            line = {"path": p, "error": type(e).__name__, "message": str(e)}
        print(json.dumps(line))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--json":
        scaler_json_lines(sys.argv[2:])
    else:
        generate()
