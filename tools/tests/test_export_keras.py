"""Exporter tests on files written in exact Keras layouts (keras_layouts.py)
and on the real .keras fixtures."""

import hashlib
import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import export_keras
import keras_layouts as kl
from seqcast_export.keras_reader import ExportError, read_model, snake_case

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "parity", "testdata", "fixtures")


def exported(out):
    wdir = os.path.join(out, "weights")
    names = sorted(os.listdir(wdir))
    assert names == ["%03d.npy" % i for i in range(len(names))]
    return [np.load(os.path.join(wdir, n), allow_pickle=False) for n in names]


def assert_same(got, want):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, i
        assert g.dtype == w.dtype, i
        assert np.array_equal(g, w), i


def check_manifest(out):
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    on_disk = sorted(os.path.relpath(os.path.join(dp, fn), out) for dp, _, fs in os.walk(out) for fn in fs)
    assert sorted(m["files"]) == [p for p in on_disk if p != "manifest.json"]
    for p, h in m["files"].items():
        with open(os.path.join(out, p), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == h, p
    return m


def run(args):
    a, weights, files = export_keras.export(args)
    return weights


def test_keras2_h5(tmp_path):
    src = tmp_path / "m.h5"
    want = kl.write_keras2_h5(src)
    out = tmp_path / "b"
    weights = run([str(src), "--out", str(out)])
    assert_same(exported(out), want)
    assert [w[0] for w in weights][:2] == ["conv1d", "conv1d"]
    assert weights[2][1] == "bidirectional_7/forward_lstm_14/lstm_cell_29/kernel:0"
    m = check_manifest(out)
    assert m["keras_version"] == "2.4.0" and m["name"] == "m" and m["version"] == "1"
    with open(out / "model.json") as f:
        mj = json.load(f)
    assert mj["keras_version"] == "2.4.0" and mj["backend"] == "tensorflow"
    assert mj["config"] == kl.keras2_config()["config"] and mj["class_name"] == "Sequential"
    assert not (out / "scaler.json").exists()


def test_keras3_h5(tmp_path):
    src = tmp_path / "m.h5"
    want = kl.write_keras3_h5(src)
    out = tmp_path / "b"
    run([str(src), "--out", str(out), "--name", "demo", "--version", "7"])
    assert_same(exported(out), want)
    m = check_manifest(out)
    assert (m["name"], m["version"], m["keras_version"]) == ("demo", "7", "3.10.0")


def test_keras213_zip(tmp_path):
    src = tmp_path / "m.keras"
    want = kl.write_keras213(src)
    out = tmp_path / "b"
    run([str(src), "--out", str(out)])
    assert_same(exported(out), want)
    assert check_manifest(out)["keras_version"] == "2.13.1"


def test_keras3_zip(tmp_path):
    src = tmp_path / "m.keras"
    want = kl.write_keras3_zip(src)
    out = tmp_path / "b"
    run([str(src), "--out", str(out)])
    assert_same(exported(out), want)
    check_manifest(out)


def test_keras3_zip_without_name_attrs(tmp_path):
    # Keras 3.4/3.5 files carry no @name: class + order alone must do.
    src = tmp_path / "m.keras"
    want = kl.write_keras3_zip(src, names=False)
    run([str(src), "--out", str(tmp_path / "b")])
    assert_same(exported(tmp_path / "b"), want)


@pytest.mark.parametrize("cls,snake", [("Conv1D", "conv1d"), ("LSTM", "lstm"), ("MaxPooling1D", "max_pooling1d"),
                                       ("GlobalAveragePooling1D", "global_average_pooling1d"),
                                       ("PReLU", "p_re_lu"), ("BatchNormalization", "batch_normalization"),
                                       ("TimeDistributed", "time_distributed")])
def test_snake_case(cls, snake):
    assert snake_case(cls) == snake


# --- failures name the layer / path ---------------------------------------------------

def _err(tmp_path, src, *extra):
    with pytest.raises(ExportError) as e:
        run([str(src), "--out", str(tmp_path / "b"), *extra])
    return str(e.value)


def test_count_mismatch(tmp_path):
    src = tmp_path / "m.h5"
    kl.write_keras2_h5(src, config=kl.keras2_config(dense_bias=False))
    msg = _err(tmp_path, src)
    assert "dense_9" in msg and "config implies 1" in msg and "has 2" in msg


def test_weight_order_checked(tmp_path):
    layers = kl.keras2_weights()
    ln, ws = layers[-2]
    layers[-2] = (ln, ws[::-1])  # bias before kernel
    src = tmp_path / "m.h5"
    kl.write_keras2_h5(src, layers=layers)
    msg = _err(tmp_path, src)
    assert "dense_9" in msg and "expected ['kernel', 'bias']" in msg


def test_missing_layer_in_h5(tmp_path):
    layers = [l for l in kl.keras2_weights() if l[0] != "batch_normalization"]
    src = tmp_path / "m.h5"
    kl.write_keras2_h5(src, layers=layers)
    assert "batch_normalization" in _err(tmp_path, src)


def test_weights_only_h5(tmp_path):
    src = tmp_path / "w.h5"
    with h5py.File(src, "w") as f:
        f.create_group("model_weights")
    assert "no model_config" in _err(tmp_path, src)


def test_unmapped_dataset(tmp_path):
    src = tmp_path / "m.keras"
    kl.write_keras213(src, extra=lambda f: f["_layer_checkpoint_dependencies/dense"].create_dataset(
        "cell/vars/0", data=np.zeros(3, np.float32)))
    msg = _err(tmp_path, src)
    assert "not mapped" in msg and "_layer_checkpoint_dependencies/dense/cell/vars/0" in msg


def test_weights_on_weightless_layer(tmp_path):
    src = tmp_path / "m.keras"
    kl.write_keras213(src, extra=lambda f: f["_layer_checkpoint_dependencies/dropout/vars"].create_dataset(
        "0", data=np.zeros(3, np.float32)))
    msg = _err(tmp_path, src)
    assert "'dropout'" in msg and "config implies 0 weight arrays, file has 1" in msg


def test_missing_group(tmp_path):
    src = tmp_path / "m.keras"

    def drop(f):
        del f["layers/layer_normalization"]
    kl.write_keras3_zip(src, mutate=drop)
    msg = _err(tmp_path, src)
    assert "'layer_normalization'" in msg and "no group" in msg


def test_name_cross_check(tmp_path):
    src = tmp_path / "m.keras"

    def rename(f):
        f["layers/dense/vars"].attrs["name"] = "dense_99"
    kl.write_keras3_zip(src, mutate=rename)
    msg = _err(tmp_path, src)
    assert "dense_8" in msg and "dense_99" in msg


def test_unsupported_class(tmp_path):
    cfg = kl.keras3_zip_config()
    cfg["config"]["layers"][2]["class_name"] = "PositionalEncoding"
    src = tmp_path / "m.keras"
    kl.write_keras3_zip(src)
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(src, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    msg = _err(tmp_path, src)
    assert "layer_normalization" in msg and "PositionalEncoding" in msg


def test_not_a_model(tmp_path):
    src = tmp_path / "x.h5"
    src.write_bytes(b"hello")
    assert "neither" in _err(tmp_path, src)


def test_refuses_to_overwrite(tmp_path):
    src = tmp_path / "m.h5"
    kl.write_keras3_h5(src)
    out = tmp_path / "b"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert "not empty" in _err(tmp_path, src)
    with pytest.raises(ExportError, match="does not look like a bundle"):
        run([str(src), "--out", str(out), "--force"])
    assert (out / "notes.txt").exists()


def test_main_reports_errors(tmp_path, capsys):
    src = tmp_path / "m.h5"
    kl.write_keras2_h5(src, config=kl.keras2_config(dense_bias=False))
    assert export_keras.main([str(src), "--out", str(tmp_path / "b")]) == 1
    assert "export_keras: error:" in capsys.readouterr().err


# --- options: scalers, window, self-test ------------------------------------------------

def test_window_zscore_and_self_test(tmp_path):
    src = tmp_path / "m.h5"
    kl.write_keras3_h5(src)
    x = np.random.default_rng(0).normal(size=(4, 6, 2))
    y = np.ones((4, 1))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "b"
    run([str(src), "--out", str(out), "--window-zscore", "--target-feature", "1", "--self-test-input",
         str(tmp_path / "x.npy"), "--self-test-output", str(tmp_path / "y.npy"), "--self-test-tolerance", "1e-5"])
    with open(out / "scaler.json") as f:
        s = json.load(f)
    assert s == {"format": "seqcast-scaler/1", "window": 6, "input": {"kind": "window_zscore", "epsilon": 1e-8},
                 "output": {"kind": "window_zscore", "epsilon": 1e-8, "target_feature": 1}}
    m = check_manifest(out)
    assert m["self_test"] == {"input": "self_test/input.npy", "output": "self_test/output.npy", "tolerance": 1e-5}
    assert np.array_equal(np.load(out / "self_test" / "input.npy"), x.astype(np.float32))


def test_option_errors(tmp_path):
    src = tmp_path / "m.h5"
    kl.write_keras3_h5(src)
    assert "differs from the model's input length 6" in _err(tmp_path, src, "--window-zscore", "--window", "5")
    assert "--target-feature 2" in _err(tmp_path, src, "--window-zscore", "--target-feature", "2")
    np.save(tmp_path / "x.npy", np.zeros((2, 5, 2)))
    np.save(tmp_path / "y.npy", np.zeros((2, 1)))
    assert "the model takes (N, 6, 2)" in _err(tmp_path, src, "--self-test-input", str(tmp_path / "x.npy"),
                                               "--self-test-output", str(tmp_path / "y.npy"))


def test_scaler_feature_count_checked(tmp_path):
    src = os.path.join(FIXTURES, "airquality-cnn-bilstm", "cnn_bilstm_model.keras")
    ypk = os.path.join(FIXTURES, "airquality-cnn-bilstm", "scaler_y.pkl")
    msg = _err(tmp_path, src, "--scaler-x", ypk)
    assert "fitted on 1 features, the model takes 7" in msg


# --- the real .keras fixtures -----------------------------------------------------------

def _h5(path):
    with zipfile.ZipFile(path) as z:
        return h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")


BI = ["layers/bidirectional/%s/cell/vars/%d" % (s, i) for s in ("forward_layer", "backward_layer") for i in range(3)]
REAL = {
    "sales-bilstm/nb08_cnn_baseline_80_20.keras": ["layers/conv1d/vars/0", "layers/conv1d/vars/1"] +
    ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1"],
    "sales-bilstm/nb09_cnn_ga_best_80_20.keras": ["layers/conv1d/vars/0", "layers/conv1d/vars/1"] +
    ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1"],
    "sales-bilstm/nb10_bilstm_baseline_80_20.keras": BI + ["layers/dense/vars/0", "layers/dense/vars/1",
                                                           "layers/dense_1/vars/0", "layers/dense_1/vars/1"],
    "sales-bilstm/nb11_bilstm_ga_best_80_20.keras": BI + ["layers/dense/vars/0", "layers/dense/vars/1",
                                                          "layers/dense_1/vars/0", "layers/dense_1/vars/1"],
    "airquality-cnn-bilstm/cnn_bilstm_model.keras": ["layers/conv1d/vars/0", "layers/conv1d/vars/1"] + BI +
    ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1"],
}


@pytest.mark.parametrize("rel", sorted(REAL))
def test_real_keras_files(rel, tmp_path):
    src = os.path.join(FIXTURES, rel)
    config, kv, backend, weights = read_model(src)
    with _h5(src) as f:
        want = [f[p][()] for p in REAL[rel]]
    assert [w[1] for w in weights] == REAL[rel]
    assert_same([w[2] for w in weights], want)
    with zipfile.ZipFile(src) as z:
        assert config == json.loads(z.read("config.json"))
        assert kv == json.loads(z.read("metadata.json"))["keras_version"]
    out = tmp_path / "b"
    run([src, "--out", str(out)])
    assert_same(exported(out), want)
    with open(out / "model.json") as f:
        mj = json.load(f)
    assert mj.pop("keras_version") == kv
    assert mj == config


def test_keras2_functional_h5(tmp_path):
    # Keras 2.10 functional: layer_names also lists input_1 (empty weight_names),
    # layers carry name and inbound_nodes.
    cfg = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 12, 2], "dtype": "float32", "name": "input_1"}},
        {"class_name": "LSTM", "name": "lstm_4", "inbound_nodes": [[["input_1", 0, 0, {}]]],
         "config": {"name": "lstm_4", "units": 3, "use_bias": True}},
        {"class_name": "Dense", "name": "dense_2", "inbound_nodes": [[["lstm_4", 0, 0, {}]]],
         "config": {"name": "dense_2", "units": 1, "use_bias": True}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}
    r = np.random.default_rng(9)
    layers = [("input_1", []),
              ("lstm_4", [("lstm_4/lstm_cell_12/kernel:0", r.normal(size=(2, 12)).astype(np.float32)),
                          ("lstm_4/lstm_cell_12/recurrent_kernel:0", r.normal(size=(3, 12)).astype(np.float32)),
                          ("lstm_4/lstm_cell_12/bias:0", r.normal(size=(12,)).astype(np.float32))]),
              ("dense_2", [("dense_2/kernel:0", r.normal(size=(3, 1)).astype(np.float32)),
                           ("dense_2/bias:0", r.normal(size=(1,)).astype(np.float32))])]
    src = tmp_path / "f.h5"
    want = kl.write_keras2_h5(src, config=cfg, layers=layers, keras_version="2.10.0")
    out = tmp_path / "b"
    run([str(src), "--out", str(out), "--window-zscore", "--target-feature", "1"])
    assert_same(exported(out), want)
    with open(out / "scaler.json") as f:
        assert json.load(f)["window"] == 12
