"""Write a seqcast bundle directory (model.json, weights/NNN.npy, scaler.json,
self_test/, manifest.json). Output is deterministic: the same inputs give the
same bytes, so committed bundles can be checked for drift."""

import hashlib
import json
import os
import shutil

import numpy as np

from .keras_reader import ExportError, model_layers

SCALER_FORMAT = "seqcast-scaler/1"


def input_shape(config):
    """Per-sample input shape (without batch) from the config, or None."""
    inner = config.get("config")
    layers = model_layers(config)
    cands = []
    if isinstance(inner, dict):
        bis = inner.get("build_input_shape")
        if isinstance(bis, list) and bis and not isinstance(bis[0], list):
            cands.append(bis)
    for l in layers:
        c = l.get("config", {}) or {}
        for k in ("batch_shape", "batch_input_shape"):
            if isinstance(c.get(k), list):
                cands.append(c[k])
        if cands:
            break
    for s in cands:
        return [None if d is None else int(d) for d in s[1:]]
    return None


def _dump_json(obj):
    return (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _npy_bytes(a):
    import io
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def build_files(config, keras_version, backend, weights, scaler=None, self_test=None):
    """Return {relative path: bytes} for a bundle (manifest.json excluded)."""
    files = {}
    mj = dict(config)
    if keras_version:
        mj["keras_version"] = keras_version
    if backend:
        mj["backend"] = backend
    files["model.json"] = (json.dumps(mj) + "\n").encode("utf-8")
    width = max(3, len(str(max(len(weights) - 1, 0))))
    for i, (_, _, a) in enumerate(weights):
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float32)
        files["weights/%0*d.npy" % (width, i)] = _npy_bytes(a)
    if scaler is not None:
        files["scaler.json"] = _dump_json(scaler)
    if self_test is not None:
        x, y, _ = self_test
        files["self_test/input.npy"] = _npy_bytes(x)
        files["self_test/output.npy"] = _npy_bytes(y)
    return files


def manifest(files, name, version, keras_version=None, self_test_tolerance=None):
    m = {"name": name, "version": version}
    if keras_version:
        m["keras_version"] = keras_version
    m["files"] = {p: hashlib.sha256(files[p]).hexdigest() for p in sorted(files)}
    if self_test_tolerance is not None:
        m["self_test"] = {"input": "self_test/input.npy", "output": "self_test/output.npy",
                          "tolerance": self_test_tolerance}
    return _dump_json(m)


def write_dir(out, files, force=False):
    """Write files to out atomically-ish: into out.tmp-export, then rename."""
    out = os.path.abspath(out)
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise ExportError("--out %s exists and is not a directory" % out)
        if os.listdir(out):
            if not force:
                raise ExportError("--out %s exists and is not empty (use --force to replace a bundle)" % out)
            if not (os.path.exists(os.path.join(out, "model.json")) or
                    os.path.exists(os.path.join(out, "manifest.json"))):
                raise ExportError("--out %s does not look like a bundle (no model.json); refusing to replace it" % out)
    tmp = out + ".tmp-export"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    for rel, data in files.items():
        p = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.rename(tmp, out)
