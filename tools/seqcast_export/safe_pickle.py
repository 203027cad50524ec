"""Read scikit-learn scaler pickles without running any code from them.

A pickle is a small program: unpickling one with the standard library may
import any module and call any function it names.  This module unpickles
with an allow-list instead.  Every global the stream asks for is looked up
in ALLOWED; anything else (os.system, builtins.eval, subprocess.Popen, ...)
stops the load with UnsafePickleError naming "module.name".  Even the allowed
names resolve to local stand-ins, never to the real objects: scikit-learn and
joblib are not imported, and no numpy function named by the stream is called.
Stand-ins only record the state they are given; arrays are rebuilt here with
numpy.frombuffer from the raw bytes.

Beyond the scalers and numpy array/dtype/scalar reconstruction, the only
allowed name is _codecs.encode, accepted solely as (text, "latin1"): how
protocol 2 writes a bytes literal.

Supported containers:
  * plain pickle.dump / pickle.dumps (protocols 2-5), numpy 1.x and 2.x
    (numpy.core.* and numpy._core.* names);
  * joblib.dump, uncompressed (array bytes follow the NumpyArrayWrapper
    object directly in the stream, after an alignment pad) and compressed
    with zlib, gzip, bz2, lzma or xz (detected by magic bytes).
"""

import bz2
import gzip
import io
import lzma
import pickle
import struct
import zlib

import numpy as np

MAX_DECOMPRESSED = 256 << 20  # a scaler is a few KiB; refuse archive bombs


class UnsafePickleError(pickle.UnpicklingError):
    """The stream names a global that is not on the allow-list."""


class ScalerPickleError(ValueError):
    """The file could be read but is not something seqcast can use."""


# --- stand-ins -----------------------------------------------------------


class EstimatorState:
    """Stand-in for an allowed scikit-learn class: records its state only."""

    qualname = "?"

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise ScalerPickleError("%s: state is %s, not a dict" % (self.qualname, type(state).__name__))
        self.state = state

    def __repr__(self):
        return "<%s state=%r>" % (self.qualname, sorted(getattr(self, "state", {})))


def _estimator(qualname):
    return type("StandIn_" + qualname.rsplit(".", 1)[1], (EstimatorState,), {"qualname": qualname})


_ALLOWED_DTYPE_KINDS = "fiub"


class _DType:
    """Stand-in for numpy.dtype(descr, align, copy) followed by BUILD(state)."""

    def __init__(self, descr, align=False, copy=False):
        if not isinstance(descr, str):
            raise ScalerPickleError("numpy.dtype: descriptor %r is not a string" % (descr,))
        try:
            dt = np.dtype(descr)
        except TypeError as e:
            raise ScalerPickleError("numpy.dtype: bad descriptor %r: %s" % (descr, e)) from None
        if dt.kind not in _ALLOWED_DTYPE_KINDS and dt.kind != "O":
            raise ScalerPickleError("numpy.dtype %r (kind %r) is not supported" % (descr, dt.kind))
        self.dtype = dt

    def __setstate__(self, state):
        # (version, byteorder, subdescr, names, fields, elsize, alignment, flags[, metadata])
        if not isinstance(state, tuple) or len(state) < 2:
            raise ScalerPickleError("numpy.dtype: unexpected state %r" % (state,))
        if state[2] is not None or state[3] is not None or state[4] is not None:
            raise ScalerPickleError("numpy.dtype: structured dtypes are not supported")
        order = state[1]
        if order in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(order)


def _as_dtype(d, where):
    if isinstance(d, _DType):
        return d.dtype
    raise ScalerPickleError("%s: dtype is %r, not a numpy.dtype" % (where, d))


def _from_bytes(data, dtype, shape, fortran, where):
    if dtype.kind == "O":
        raise ScalerPickleError("%s: object array given as raw bytes" % where)
    if isinstance(data, str):  # protocol 0-2 pickles from Python 2 era store latin-1 text
        data = data.encode("latin-1")
    data = bytes(data)
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    if len(data) != count * dtype.itemsize:
        raise ScalerPickleError("%s: %d bytes for %d values of %s" % (where, len(data), count, dtype))
    arr = np.frombuffer(data, dtype=dtype, count=count).copy()
    if fortran:
        return arr.reshape(tuple(shape)[::-1]).T.copy()
    return arr.reshape(tuple(shape))


class _Array:
    """Stand-in for numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') + BUILD."""

    def __init__(self, subtype=None, shape=None, dtype=None):
        if subtype is not _NDARRAY:
            raise ScalerPickleError("numpy array subclass %r is not supported" % (subtype,))
        self.array = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            raise ScalerPickleError("numpy.ndarray: unexpected state of length %s" % len(state))
        _, shape, dtype, fortran, data = state
        dt = _as_dtype(dtype, "numpy.ndarray")
        if dt.kind == "O":
            if not isinstance(data, list):
                raise ScalerPickleError("numpy.ndarray: object array data is not a list")
            for v in data:
                if not isinstance(v, (str, bytes, int, float, bool)) and v is not None:
                    raise ScalerPickleError("numpy.ndarray: object array holds %s" % type(v).__name__)
            arr = np.empty(len(data), dtype=object)
            arr[:] = data
            self.array = arr.reshape(tuple(shape), order="F" if fortran else "C")
        else:
            self.array = _from_bytes(data, dt, shape, fortran, "numpy.ndarray")


class _NdarraySentinel:
    """What the name numpy.ndarray resolves to: a marker, not the real class."""


_NDARRAY = _NdarraySentinel()


def _scalar(dtype, data=None):
    dt = _as_dtype(dtype, "numpy scalar")
    if dt.kind == "O":
        raise ScalerPickleError("numpy scalar of object dtype is not supported")
    return _from_bytes(data, dt, (), False, "numpy scalar")[()]


def _frombuffer(buf, dtype, shape, order):
    """Stand-in for numpy.core.numeric._frombuffer (protocol 5 in-band arrays)."""
    dt = dtype.dtype if isinstance(dtype, _DType) else None
    if dt is None:
        raise ScalerPickleError("numpy _frombuffer: dtype is %r" % (dtype,))
    return _from_bytes(bytes(buf), dt, shape, order == "F", "numpy._frombuffer")


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    """Stand-in for _codecs.encode: protocol 2 pickles write bytes as
    _codecs.encode(text, 'latin1'). Only that use is accepted."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise ScalerPickleError("_codecs.encode(%r, %r) is not a bytes literal" % (type(obj).__name__, encoding))
    return obj.encode("latin-1")


class _NumpyArrayWrapper:
    """Stand-in for joblib.numpy_pickle.NumpyArrayWrapper: its array bytes
    follow it in the stream and are read by _SafeUnpickler.load_build."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise ScalerPickleError("joblib NumpyArrayWrapper: state is not a dict")
        self.state = state

    def read(self, unpickler):
        st = self.state
        if st.get("subclass") is not _NDARRAY:
            raise ScalerPickleError("joblib array subclass %r is not supported" % (st.get("subclass"),))
        dt = _as_dtype(st.get("dtype"), "joblib array")
        shape = tuple(st.get("shape", ()))
        order = st.get("order", "C")
        if dt.kind == "O":
            # joblib pickles object arrays with a nested pickle.dump; read it
            # with the same restrictions.
            nested = _SafeUnpickler(unpickler.raw_file).load()
            if not isinstance(nested, np.ndarray) or nested.shape != shape:
                raise ScalerPickleError("joblib object array: nested pickle is not an array of shape %s" % (shape,))
            return nested
        if st.get("numpy_array_alignment_bytes") is not None:
            pad = unpickler.read(1)
            if len(pad) != 1:
                raise ScalerPickleError("joblib array: stream ends before the alignment byte")
            if pad[0]:
                unpickler.read(pad[0])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        nbytes = count * dt.itemsize
        data = unpickler.read(nbytes)
        if len(data) != nbytes:
            raise ScalerPickleError("joblib array: want %d bytes of array data, stream has %d" % (nbytes, len(data)))
        return _from_bytes(data, dt, shape, order == "F", "joblib array")


SKLEARN_CLASSES = (
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.RobustScaler",
)

ALLOWED = {}
for _q in SKLEARN_CLASSES:
    ALLOWED[tuple(_q.rsplit(".", 1))] = _estimator(_q)
    # sklearn < 0.22 kept the scalers in sklearn.preprocessing.data
    ALLOWED[("sklearn.preprocessing.data", _q.rsplit(".", 1)[1])] = ALLOWED[tuple(_q.rsplit(".", 1))]
for _core in ("numpy.core", "numpy._core"):
    ALLOWED[(_core + ".multiarray", "_reconstruct")] = _Array
    ALLOWED[(_core + ".multiarray", "scalar")] = _scalar
    ALLOWED[(_core + ".numeric", "_frombuffer")] = _frombuffer
ALLOWED[("numpy", "ndarray")] = _NDARRAY
ALLOWED[("_codecs", "encode")] = _codecs_encode
ALLOWED[("numpy", "dtype")] = _DType
ALLOWED[("joblib.numpy_pickle", "NumpyArrayWrapper")] = _NumpyArrayWrapper
ALLOWED[("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper")] = _NumpyArrayWrapper


class _SafeUnpickler(pickle._Unpickler):  # the pure-Python unpickler: we need its byte reader
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, f):
        super().__init__(f)
        self.raw_file = f
        self.size = len(f.getbuffer())  # no length field may claim more than the whole pickle

    def load_bytearray8(self):
        # pickle's own version allocates the claimed length (up to 2**63) before reading
        n, = struct.unpack("<Q", self.read(8))
        if n > self.size:
            raise ScalerPickleError("BYTEARRAY8 claims %d bytes, but the whole pickle has %d" % (n, self.size))
        b = bytearray(n)
        self.readinto(b)
        self.append(b)

    def find_class(self, module, name):
        obj = ALLOWED.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                "refusing to load %s.%s: only scikit-learn scalers and numpy arrays may appear in a scaler pickle"
                % (module, name))
        return obj

    def persistent_load(self, pid):
        raise UnsafePickleError("refusing persistent id %r" % (pid,))

    def load_build(self):
        stack = self.stack
        state = stack.pop()
        inst = stack[-1]
        setstate = getattr(type(inst), "__setstate__", None)
        if not isinstance(inst, (EstimatorState, _DType, _Array, _NumpyArrayWrapper)) or setstate is None:
            raise UnsafePickleError("refusing BUILD on %s" % type(inst).__name__)
        inst.__setstate__(state)
        if isinstance(inst, (_NumpyArrayWrapper, _Array)):
            arr = inst.read(self) if isinstance(inst, _NumpyArrayWrapper) else inst.array
            stack[-1] = arr
            # the stand-in was memoized before BUILD; later references must see the array
            for k, v in self.memo.items():
                if v is inst:
                    self.memo[k] = arr

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.BYTEARRAY8[0]] = load_bytearray8


def _decompress(data, path):
    """Return the pickle bytes of a (possibly compressed) joblib/pickle file."""
    def bounded(d, what):
        out = d.decompress(data, MAX_DECOMPRESSED + 1) if hasattr(d, "unconsumed_tail") else d.decompress(data, max_length=MAX_DECOMPRESSED + 1)
        if len(out) > MAX_DECOMPRESSED:
            raise ScalerPickleError("%s: %s stream inflates beyond %d bytes" % (path, what, MAX_DECOMPRESSED))
        return out

    if data[:2] == b"ZF":
        raise ScalerPickleError("%s: joblib < 0.10 compressed format is not supported; re-save it with joblib.dump" % path)
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
            out = g.read(MAX_DECOMPRESSED + 1)
        if len(out) > MAX_DECOMPRESSED:
            raise ScalerPickleError("%s: gzip stream inflates beyond %d bytes" % (path, MAX_DECOMPRESSED))
        return out
    if data[:3] == b"BZh":
        return bounded(bz2.BZ2Decompressor(), "bz2")
    if data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"\x5d\x00\x00":
        return bounded(lzma.LZMADecompressor(format=lzma.FORMAT_AUTO), "lzma")
    if data[:4] == b"\x04\x22\x4d\x18":
        raise ScalerPickleError("%s: lz4-compressed joblib files are not supported; re-save with compress=('zlib', 3)" % path)
    if data[:1] == b"\x78":
        return bounded(zlib.decompressobj(), "zlib")
    return data


def load(path):
    """Unpickle path under the allow-list and return the resulting object
    (an EstimatorState for a scaler)."""
    with open(path, "rb") as f:
        data = f.read()
    return loads(data, path)


# Whatever a hostile or corrupt file makes the decompressors, the unpickler or
# the stand-ins raise is reported as ScalerPickleError; nothing else escapes.
_CORRUPT = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError,
            struct.error, MemoryError, OverflowError, RecursionError, OSError, lzma.LZMAError, zlib.error)


def loads(data, path="<bytes>"):
    try:
        raw = _decompress(data, path)
        return _SafeUnpickler(io.BytesIO(raw)).load()
    except UnsafePickleError as e:
        raise UnsafePickleError("%s: %s" % (path, e)) from None
    except ScalerPickleError as e:
        raise ScalerPickleError("%s: %s" % (path, e)) from None
    except _CORRUPT as e:
        raise ScalerPickleError("%s: not a readable pickle (%s: %s)" % (path, type(e).__name__, str(e)[:200])) from None


# --- scaler.json ---------------------------------------------------------


def _vec(state, key, n, where, allow_none=False):
    v = state.get(key)
    if v is None:
        if allow_none:
            return None
        raise ScalerPickleError("%s: missing %s" % (where, key))
    a = np.asarray(v)
    if a.dtype.kind not in "fiub":
        raise ScalerPickleError("%s: %s has dtype %s" % (where, key, a.dtype))
    a = a.astype(np.float64).reshape(-1)
    if n is not None and a.shape[0] != n:
        raise ScalerPickleError("%s: %s has %d values, n_features_in_ is %d" % (where, key, a.shape[0], n))
    if not np.all(np.isfinite(a)):
        raise ScalerPickleError("%s: %s holds NaN or Inf" % (where, key))
    return [float(x) for x in a]


def scaler_json(obj, where="scaler"):
    """Convert an unpickled scaler stand-in to a seqcast-scaler/1 SCALER dict."""
    try:
        return _scaler_json(obj, where)
    except (ScalerPickleError, UnsafePickleError):
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as e:
        raise ScalerPickleError("%s: malformed scaler state (%s: %s)" % (where, type(e).__name__, str(e)[:200])) from None


def _scaler_json(obj, where):
    if not isinstance(obj, EstimatorState) or not hasattr(obj, "state"):
        raise ScalerPickleError("%s: pickle holds %r, not a fitted MinMaxScaler, StandardScaler or RobustScaler"
                                % (where, type(obj).__name__))
    st = obj.state
    kind = obj.qualname.rsplit(".", 1)[1]
    n = st.get("n_features_in_")
    n = int(n) if n is not None else None
    out = {}
    if kind == "MinMaxScaler":
        if "scale_" not in st:
            raise ScalerPickleError("%s: MinMaxScaler is not fitted (no scale_)" % where)
        fr = st.get("feature_range", (0, 1))
        out = {
            "kind": "minmax",
            "feature_range": [float(fr[0]), float(fr[1])],
            "clip": bool(st.get("clip", False)),
            "data_min": _vec(st, "data_min_", n, where),
            "data_max": _vec(st, "data_max_", n, where),
            "scale": _vec(st, "scale_", n, where),
            "min": _vec(st, "min_", n, where),
        }
    elif kind == "StandardScaler":
        with_mean = bool(st.get("with_mean", True))
        with_std = bool(st.get("with_std", True))
        if "n_samples_seen_" not in st and "mean_" not in st and "scale_" not in st:
            raise ScalerPickleError("%s: StandardScaler is not fitted" % where)
        out = {
            "kind": "standard",
            "mean": _vec(st, "mean_", n, where) if with_mean else None,
            "scale": _vec(st, "scale_", n, where) if with_std else None,
        }
    elif kind == "RobustScaler":
        wc = bool(st.get("with_centering", True))
        ws = bool(st.get("with_scaling", True))
        out = {
            "kind": "robust",
            "center": _vec(st, "center_", n, where) if wc else None,
            "scale": _vec(st, "scale_", n, where) if ws else None,
        }
    else:  # pragma: no cover - ALLOWED holds only the three above
        raise ScalerPickleError("%s: unsupported scaler %s" % (where, obj.qualname))
    names = st.get("feature_names_in_")
    if names is not None:
        out["feature_names"] = [str(x) for x in np.asarray(names).reshape(-1)]
    return out


def load_scaler_json(path):
    return scaler_json(load(path), where=str(path))
