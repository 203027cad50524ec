"""Hostile scaler pickles: mutated fixtures must fail cleanly, and run nothing.

tools/export_keras.py reads scikit-learn scaler pickles with
seqcast_export.safe_pickle.  Here the fixture pickles (the joblib files in
parity/testdata/fixtures and pickle.dumps of Debian's scikit-learn scalers)
are truncated at every offset, have bytes flipped, get GLOBAL os.system /
REDUCE builtins.eval payloads injected, and ask for huge allocations.  Every
load must either succeed or raise ScalerPickleError / UnsafePickleError (what
the exporter turns into a one-line error and exit status 1): no other
exception, no process-level effect.  An audit hook (sys.addaudithook) records
process, exec/compile and import events for the duration of each load, and
the payloads try to create a marker file.
"""

import io
import os
import pickle
import pickletools
import random
import struct
import sys
import threading
import zlib

import numpy as np
import pytest

from seqcast_export import safe_pickle
from seqcast_export.safe_pickle import ScalerPickleError, UnsafePickleError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "parity", "testdata", "fixtures", "airquality-cnn-bilstm")
CLEAN = (ScalerPickleError, UnsafePickleError)

# Open findings against seqcast_export/safe_pickle.py (none now: the eight
# found by this suite were fixed together with it). While one is listed here, the mutation tests that hit it
# end as xfailed instead of failed, and the matching single cases are strict
# xfails: fixing safe_pickle turns them into XPASS failures, which says to
# empty these two sets. Any other unclean exception fails the tests.
KNOWN_OPEN_TYPES = {}
KNOWN_OPEN_CASES = set()


def _judge(failures):
    """failures: exception type name -> example. Fail on unknown types, xfail on known open ones."""
    unknown = {k: v for k, v in failures.items() if k not in KNOWN_OPEN_TYPES}
    assert not unknown, "unclean failures by type: %s" % unknown
    if failures:
        pytest.xfail("known open safe_pickle findings: %s" % failures)

# --- watching for side effects ---------------------------------------------

_FORBIDDEN_EVENTS = {"os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                     "os.forkpty", "os.kill", "os.remove", "os.rename", "os.mkdir", "shutil.rmtree",
                     "socket.connect", "socket.bind", "ctypes.dlopen", "exec", "compile", "builtins.input",
                     "webbrowser.open", "code.__new__", "function.__new__", "object.__setattr__"}
_FORBIDDEN_IMPORTS = ("os", "posix", "nt", "subprocess", "socket", "shutil", "builtins", "importlib", "ctypes",
                      "pty", "webbrowser", "runpy", "code", "sys", "pickle", "marshal", "io", "tempfile")
_watch = threading.local()


def _hook(event, args):
    seen = getattr(_watch, "seen", None)
    if seen is None:
        return
    if event in _FORBIDDEN_EVENTS:
        seen.append((event, repr(args)[:200]))
    elif event == "import" and args and args[0] in _FORBIDDEN_IMPORTS:
        seen.append((event, args[0]))
    elif event == "open" and args and args[1] not in (None, "r", "rb") and "w" in str(args[1]):
        seen.append((event, repr(args)[:200]))


sys.addaudithook(_hook)  # cannot be removed; inert unless _watch.seen is set


def _load(data):
    """safe_pickle.loads + scaler_json under watch; returns the outcome."""
    _watch.seen = []
    try:
        obj = safe_pickle.loads(data, "<fuzz>")
        if isinstance(obj, safe_pickle.EstimatorState):
            safe_pickle.scaler_json(obj, "<fuzz>")
        outcome = "ok"
    except CLEAN as e:
        outcome = e
    finally:
        seen, _watch.seen = _watch.seen, None
    assert not seen, "loading ran forbidden operations: %r" % seen
    return outcome


# --- fixtures ----------------------------------------------------------------


def _fixtures():
    out = {}
    for name in ("scaler_X.pkl", "scaler_y.pkl"):
        with open(os.path.join(FIXTURES, name), "rb") as f:
            out[name] = f.read()
    import sklearn.preprocessing as pre
    X = np.arange(12.0).reshape(4, 3) * [1, 10, 100]
    for proto in (2, 4, 5):
        out["minmax-p%d" % proto] = pickle.dumps(pre.MinMaxScaler().fit(X), protocol=proto)
    out["standard-p3"] = pickle.dumps(pre.StandardScaler().fit(X), protocol=3)
    out["robust-p4"] = pickle.dumps(pre.RobustScaler().fit(X), protocol=4)
    return out


@pytest.fixture(scope="module")
def fixtures():
    fx = _fixtures()
    for name, data in fx.items():  # the unmutated fixtures load
        assert _load(data) == "ok", name
    return fx


# --- mutations ---------------------------------------------------------------


def test_truncated_at_every_offset(fixtures):
    failures = {}
    for name, data in fixtures.items():
        for n in range(len(data)):
            try:
                out = _load(data[:n])
            except AssertionError:
                raise
            except Exception as e:  # noqa: BLE001 - the point is to catch the unclean ones
                failures.setdefault(type(e).__name__, "%s truncated to %d bytes: %s" % (name, n, e))
                continue
            assert out != "ok", "%s truncated to %d bytes loaded" % (name, n)
    _judge(failures)


def test_byte_flips(fixtures):
    rng = random.Random(20261122)
    failures = {}
    for name, data in fixtures.items():
        for _ in range(300):
            b = bytearray(data)
            for _ in range(rng.choice((1, 1, 2, 4))):
                i = rng.randrange(len(b))
                b[i] = rng.choice((b[i] ^ (1 << rng.randrange(8)), rng.randrange(256), 0xff, 0x00))
            try:
                _load(bytes(b))
            except AssertionError:
                raise
            except Exception as e:  # noqa: BLE001
                failures.setdefault(type(e).__name__, "%s: %s" % (name, str(e)[:120]))
    _judge(failures)


def _payloads(marker):
    """Pickle fragments that each leave one object on the stack."""
    cmd = ("touch %s" % marker).encode()
    s = lambda b: b"X" + struct.pack("<I", len(b)) + b  # BINUNICODE  # noqa: E731
    return {
        "GLOBAL os.system": b"cos\nsystem\n" + s(cmd) + b"\x85R",
        "GLOBAL posix.system": b"cposix\nsystem\n" + s(cmd) + b"\x85R",
        "STACK_GLOBAL subprocess.call": s(b"subprocess") + s(b"call") + b"\x93" + s(b"touch") + s(str(marker).encode()) + b"\x86\x85R",
        "REDUCE builtins.eval": b"cbuiltins\neval\n" + s(b"__import__('os').system('" + cmd + b"')") + b"\x85R",
        "REDUCE builtins.exec": b"c__builtin__\nexec\n" + s(b"open('" + str(marker).encode() + b"','w')") + b"\x85R",
        "REDUCE builtins.getattr": b"cbuiltins\ngetattr\n" + b"cnumpy\ndtype\n" + s(b"__init__") + b"\x86R",
        "INST os.system": b"(" + s(cmd) + b"ios\nsystem\n",
        "OBJ os.system": b"(cos\nsystem\n" + s(cmd) + b"o",
        "NEWOBJ on numpy.dtype": b"cnumpy\ndtype\n" + s(b"f8") + b"\x85\x81",
        "BUILD on a dict with __setstate__": b"}" + b"}" + b"b",
        "persistent id": s(b"x") + b"Q",
        "EXT code": b"\x82\x01",
        "_codecs.encode rot13": b"c_codecs\nencode\n" + s(b"abc") + s(b"rot13") + b"\x86R",
        "numpy.frombuffer": b"cnumpy\nfrombuffer\n" + b"C\x04abcd" + b"\x85R",
        "numpy.load": b"cnumpy\nload\n" + s(str(marker).encode()) + b"\x85R",
        "joblib.load": b"cjoblib\nload\n" + s(str(marker).encode()) + b"\x85R",
    }


# Payloads that name nothing dangerous: a clean error or an inert object.
_INERT = {"NEWOBJ on numpy.dtype", "BUILD on a dict with __setstate__", "persistent id", "EXT code", "_codecs.encode rot13"}


def _opcode_starts(data):
    """Offsets of the opcodes of a plain (uncompressed) pickle."""
    out = []
    try:
        for _, _, pos in pickletools.genops(io.BytesIO(data)):
            out.append(pos)
    except Exception:  # noqa: BLE001 - joblib appends raw array bytes the parser stops at
        pass
    return out


def test_opcode_injection(fixtures, tmp_path):
    marker = tmp_path / "pwned"
    payloads = _payloads(marker)
    # On its own, as a whole pickle.
    for what, p in payloads.items():
        for proto in (b"", b"\x80\x02", b"\x80\x04", b"\x80\x05"):
            out = _load(proto + p + b".")
            if what in _INERT:
                continue  # an inert stand-in may come back; it is never a scaler
            assert isinstance(out, UnsafePickleError), (what, out)
    # Spliced in front of every opcode of the fixture pickles (and in front of
    # the STOP), so that the payload runs deep inside a legitimate scaler state.
    rng = random.Random(7)
    failures = {}
    for name, data in fixtures.items():
        if not data.startswith(b"\x80"):
            data = zlib.decompress(data) if data[:1] == b"\x78" else data
        starts = _opcode_starts(data)
        assert starts, name
        for what, p in payloads.items():
            for pos in rng.sample(starts, min(25, len(starts))) + [len(data) - 1]:
                # The payload pushes one object; POP it so the rest of the stream is undisturbed.
                try:
                    _load(data[:pos] + p + b"0" + data[pos:])
                except AssertionError:
                    raise
                except Exception as e:  # noqa: BLE001
                    failures.setdefault(type(e).__name__, "%s + %s at %d: %s" % (name, what, pos, str(e)[:120]))
    assert not marker.exists()
    _judge(failures)


def _reconstruct(shape, dtype=b"f8", data=b""):
    """A pickle of numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') with
    BUILD state (1, shape, dtype, False, data)."""
    s = lambda b: b"X" + struct.pack("<I", len(b)) + b  # noqa: E731
    return (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
            b"(K\x01" + shape + b"cnumpy\ndtype\n" + s(dtype) + b"K\x00K\x01\x87R"
            b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb" + b"\x89C" + bytes([len(data)]) + data + b"tb.")


def _tuple(*ints):
    body = b"".join(b"\x8a" + bytes([len(x)]) + x for x in
                    (i.to_bytes((i.bit_length() + 8) // 8, "little", signed=True) for i in ints))
    return b"(" + body + b"t"


def _zlib_bomb():
    """A zlib stream inflating past safe_pickle.MAX_DECOMPRESSED, built in chunks."""
    z = zlib.compressobj(9)
    out = [z.compress(b"\x80\x02")]
    chunk = b"N0" * (1 << 19)  # 1 MiB
    for _ in range((safe_pickle.MAX_DECOMPRESSED >> 20) + 2):
        out.append(z.compress(chunk))
    out.append(z.compress(b"N."))
    out.append(z.flush())
    return b"".join(out)


_S = lambda b: b"X" + struct.pack("<I", len(b)) + b  # noqa: E731 - BINUNICODE

HUGE = {
    "array of 2**40 float64": lambda: _reconstruct(_tuple(1 << 40)),
    "array of 2**31 x 2**31": lambda: _reconstruct(_tuple(1 << 31, 1 << 31)),
    "array of 2**70 elements": lambda: _reconstruct(_tuple(1 << 70)),
    "array of -1 elements": lambda: _reconstruct(_tuple(-1)),
    "array with 10**6 dimensions": lambda: _reconstruct(b"(" + b"K\x01" * 1000000 + b"t"),
    "BINBYTES8 of 2**62 bytes": lambda: b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62) + b"abc.",
    "BINUNICODE8 of 2**62 bytes": lambda: b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b"abc.",
    "BYTEARRAY8 of 2**62 bytes": lambda: b"\x80\x05\x96" + struct.pack("<Q", 1 << 62) + b"abc.",
    "FRAME of 2**62 bytes": lambda: b"\x80\x04\x95" + struct.pack("<Q", 1 << 62) + b"N.",
    "LONG4 of 2**31 bytes": lambda: b"\x80\x02\x8b" + struct.pack("<i", (1 << 31) - 1) + b"\x01.",
    "LONG4 negative length": lambda: b"\x80\x02\x8b" + struct.pack("<i", -5) + b"\x01.",
    "BINGET past the memo": lambda: b"\x80\x02h\xff.",
    "LONG_BINGET 2**32-1": lambda: b"\x80\x02j\xff\xff\xff\xff.",
    "LONG_BINPUT 2**32-1": lambda: b"\x80\x02N" + b"r\xff\xff\xff\xff.",
    "MARK flood": lambda: b"\x80\x02" + b"(" * 1000000 + b"N.",
    "EMPTY_LIST flood": lambda: b"\x80\x02" + b"]" * 1000000 + b".",
    "nested 100k lists": lambda: b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b".",
    "deep dtype state": lambda: b"\x80\x02cnumpy\ndtype\n" + _S(b"f8") + b"\x85R" + b"]" * 100000 + b"a" * 99999 + b"b.",
    "truncated FRAME length": lambda: b"\x80\x04\x95",
    "zlib bomb": lambda: _zlib_bomb(),
    "gzip garbage": lambda: b"\x1f\x8b" + b"\x00" * 64,
    "bz2 garbage": lambda: b"BZh9" + b"\xff" * 64,
    "xz garbage": lambda: b"\xfd7zXZ\x00" + b"\xff" * 64,
    "lzma garbage": lambda: b"\x5d\x00\x00" + b"\xff" * 64,
    "zlib garbage": lambda: b"\x78\x9c" + b"\xff" * 64,
}


@pytest.mark.parametrize("what", [
    pytest.param(w, marks=pytest.mark.xfail(strict=True, reason="open safe_pickle finding")) if w in KNOWN_OPEN_CASES else w
    for w in HUGE])
def test_huge_allocation_and_corrupt_streams(what):
    data = HUGE[what]()
    try:
        out = _load(data)
    except AssertionError:
        raise
    except Exception as e:  # noqa: BLE001
        pytest.fail("%s: %s: %s" % (what, type(e).__name__, str(e)[:160]))
    if "array" in what:
        assert out != "ok", "%s: accepted" % what


def test_exporter_reports_cleanly(tmp_path):
    """Through the command line: a hostile pickle is one error line, exit 1."""
    import subprocess
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(b"\x80\x02" + _payloads(marker)["REDUCE builtins.eval"] + b".")
    tools = os.path.join(ROOT, "tools")
    r = subprocess.run([sys.executable, os.path.join(tools, "export_keras.py"),
                        os.path.join(FIXTURES, "cnn_bilstm_model.keras"), "--out", str(tmp_path / "b"),
                        "--scaler-x", str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "refusing to load" in r.stderr
    assert not marker.exists() and not (tmp_path / "b").exists()
