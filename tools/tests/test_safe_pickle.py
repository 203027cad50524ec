"""Scaler pickles -> scaler.json without executing pickle code."""

import os
import pickle
import subprocess
import sys

import joblib  # python3-joblib, like sklearn: make prepare installs both; missing fails, never skips
import numpy as np
import pytest
import sklearn.preprocessing as sklearn_pre

from seqcast_export import safe_pickle
from seqcast_export.safe_pickle import ScalerPickleError, UnsafePickleError

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "parity", "testdata", "fixtures", "airquality-cnn-bilstm")
TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_fixture_scalers_numpy2_joblib():
    # joblib pickles written by sklearn 1.6.1 with numpy 2 (numpy._core names).
    x = safe_pickle.load_scaler_json(os.path.join(FIXTURES, "scaler_X.pkl"))
    assert x["kind"] == "minmax" and x["feature_range"] == [0.0, 1.0] and x["clip"] is False
    assert x["data_min"] == [647, 383, 322, 221, -1.9, 9.2, 0.1847]
    assert x["data_max"] == [2040, 2214, 2683, 2522, 44.6, 88.7, 2.231]
    assert x["feature_names"] == ["PT08.S1(CO)", "PT08.S2(NMHC)", "PT08.S3(NOx)", "PT08.S5(O3)", "T", "RH", "AH"]
    for k in range(7):  # sklearn's own formulas
        rng = x["data_max"][k] - x["data_min"][k]
        assert x["scale"][k] == 1.0 / rng
        assert x["min"][k] == 0.0 - x["data_min"][k] * x["scale"][k]
    y = safe_pickle.load_scaler_json(os.path.join(FIXTURES, "scaler_y.pkl"))
    assert y["data_min"] == [0.1] and y["data_max"] == [11.9]
    assert abs(y["scale"][0] - 0.084745762712) < 1e-12 and abs(y["min"][0] + 0.008474576271) < 1e-12
    assert "feature_names" not in y


def test_fixture_scalers_without_joblib_or_sklearn():
    # In a fresh interpreter where importing joblib or sklearn fails.
    code = ("import sys; sys.modules['joblib'] = None; sys.modules['sklearn'] = None; sys.path.insert(0, %r)\n"
            "from seqcast_export import safe_pickle\n"
            "print(safe_pickle.load_scaler_json(%r)['data_max'][0])\n"
            "assert not [m for m in sys.modules if m.startswith(('joblib', 'sklearn')) and sys.modules[m]]\n"
            % (TOOLS, os.path.join(FIXTURES, "scaler_X.pkl")))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "2040.0"


def _fitted():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 3)) * [1, 100, 0.1] + [0, 1000, 3]
    X[:, 2] = 4.0  # a constant column: zero range / zero variance
    return [
        sklearn_pre.MinMaxScaler().fit(X),
        sklearn_pre.MinMaxScaler(feature_range=(-1, 2), clip=True).fit(X),
        sklearn_pre.StandardScaler().fit(X),
        sklearn_pre.StandardScaler(with_mean=False).fit(X),
        sklearn_pre.StandardScaler(with_std=False).fit(X),
        sklearn_pre.RobustScaler().fit(X),
        sklearn_pre.RobustScaler(with_centering=False, quantile_range=(5, 95)).fit(X),
        sklearn_pre.RobustScaler(with_scaling=False).fit(X),
    ]


def _check(sc, got):
    kind = type(sc).__name__
    if kind == "MinMaxScaler":
        assert got["kind"] == "minmax"
        assert got["feature_range"] == list(map(float, sc.feature_range)) and got["clip"] == sc.clip
        for k, a in (("data_min", "data_min_"), ("data_max", "data_max_"), ("scale", "scale_"), ("min", "min_")):
            assert got[k] == getattr(sc, a).tolist(), k
    elif kind == "StandardScaler":
        assert got["kind"] == "standard"
        assert got["mean"] == (sc.mean_.tolist() if sc.with_mean else None)
        assert got["scale"] == (sc.scale_.tolist() if sc.with_std else None)
    else:
        assert got["kind"] == "robust"
        assert got["center"] == (sc.center_.tolist() if sc.with_centering else None)
        assert got["scale"] == (sc.scale_.tolist() if sc.with_scaling else None)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_debian_sklearn_pickle(protocol):
    for sc in _fitted():
        _check(sc, safe_pickle.scaler_json(safe_pickle.loads(pickle.dumps(sc, protocol=protocol))))


@pytest.mark.parametrize("compress", [0, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)])
def test_debian_sklearn_joblib(tmp_path, compress):
    for i, sc in enumerate(_fitted()):
        p = tmp_path / ("s%d.pkl" % i)
        joblib.dump(sc, p, compress=compress)
        _check(sc, safe_pickle.load_scaler_json(p))


def test_joblib_feature_names(tmp_path):
    # fitted on named columns: feature_names_in_ is an object array, which
    # joblib stores as a nested pickle after the wrapper
    sc = sklearn_pre.StandardScaler()
    sc.fit(np.arange(12.0).reshape(4, 3))
    sc.feature_names_in_ = np.array(["a", "b", "c"], dtype=object)
    p = tmp_path / "s.pkl"
    joblib.dump(sc, p)
    assert safe_pickle.load_scaler_json(p)["feature_names"] == ["a", "b", "c"]


class _Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def _marker_cmd(path):
    return "touch %s" % path


@pytest.mark.parametrize("make", ["os.system", "eval", "subprocess", "nested", "joblib"])
def test_malicious_pickles_refused_and_not_run(tmp_path, make):
    import os as os_mod
    import subprocess as sp
    marker = tmp_path / "pwned"
    cmd = _marker_cmd(marker)
    if make == "os.system":
        data, name = pickle.dumps(_Evil(os_mod.system, cmd)), "system"
    elif make == "eval":
        data, name = pickle.dumps(_Evil(eval, "__import__('os').system(%r)" % cmd)), "builtins.eval"
    elif make == "subprocess":
        data, name = pickle.dumps(_Evil(sp.call, ["touch", str(marker)])), "subprocess.call"
    elif make == "nested":
        sc = sklearn_pre.MinMaxScaler().fit(np.arange(6.0).reshape(3, 2))
        sc.scale_ = _Evil(os_mod.system, cmd)  # hides inside a legitimate scaler's state
        data, name = pickle.dumps(sc), "system"
    else:
        p = tmp_path / "evil.pkl"
        joblib.dump({"x": _Evil(os_mod.system, cmd)}, p, compress=3)
        data, name = p.read_bytes(), "system"
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(UnsafePickleError) as e:
        safe_pickle.load_scaler_json(path)
    assert name in str(e.value) and "refusing to load" in str(e.value)
    assert not marker.exists()
    # and through the command line: clear error, exit 1, nothing ran
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "export_keras.py"),
                        os.path.join(FIXTURES, "cnn_bilstm_model.keras"), "--out", str(tmp_path / "b"),
                        "--scaler-y", str(path)], capture_output=True, text=True)
    assert r.returncode == 1 and "refusing to load" in r.stderr and name in r.stderr
    assert not marker.exists() and not (tmp_path / "b").exists()


def test_os_system_named_with_module():
    data = pickle.dumps(_Evil(__import__("os").system, "true"))
    with pytest.raises(UnsafePickleError, match=r"refusing to load (posix|os|nt)\.system"):
        safe_pickle.loads(data)


def test_not_a_scaler():
    with pytest.raises(ScalerPickleError, match="not a fitted"):
        safe_pickle.scaler_json(safe_pickle.loads(pickle.dumps({"a": 1})))
    with pytest.raises(UnsafePickleError, match="sklearn.preprocessing._data.QuantileTransformer"):
        safe_pickle.loads(pickle.dumps(sklearn_pre.QuantileTransformer(n_quantiles=3).fit(np.arange(6.0)[:, None])))
    with pytest.raises(ScalerPickleError, match="not fitted"):
        safe_pickle.scaler_json(safe_pickle.loads(pickle.dumps(sklearn_pre.MinMaxScaler())))
    # _codecs.encode is allowed only as protocol 2's bytes literal
    evil = b"\x80\x02c_codecs\nencode\nq\x00X\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R."
    with pytest.raises(ScalerPickleError, match="not a bytes literal"):
        safe_pickle.loads(evil)
    with pytest.raises(ScalerPickleError, match="not a readable pickle"):
        safe_pickle.loads(b"\x80\x04garbage")
