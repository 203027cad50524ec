"""The committed real-world bundles (parity/testdata/fixtures, `make fixtures`)
must be exactly what the exporter writes today, and must reproduce Keras's
own numbers through an independent numpy forward pass."""

import filecmp
import json
import os

import numpy as np
import pytest

import make_fixture_bundles as mfb
import refnet

FIX = mfb.FIXTURES


def test_committed_bundles_are_current(tmp_path):
    committed = mfb.generated_paths(FIX)
    assert len(committed) > 50, "run `make fixtures`"
    mfb.generate(src=FIX, out=str(tmp_path))
    fresh = mfb.generated_paths(str(tmp_path))
    assert fresh == committed, "generated file set changed: run `make fixtures`"
    differ = [p for p in committed if not filecmp.cmp(os.path.join(FIX, p), os.path.join(tmp_path, p), shallow=False)]
    assert not differ, "exporter output drifted from the committed bundles (run `make fixtures` if intended): %s" % differ


def _bundle(*p):
    return os.path.join(FIX, *p)


@pytest.mark.parametrize("model", sorted(mfb.SALES_MODELS))
def test_sales_bundle_reproduces_keras(model):
    b = _bundle("sales-bilstm", "bundles", model)
    X = np.load(_bundle("sales-bilstm", "npy", "x_test.npy"))
    mu = X.mean(axis=1)
    sigma = X.std(axis=1) + 1e-8
    y = refnet.forward(b, ((X - mu[:, None]) / sigma[:, None])[..., None])[:, 0] * sigma + mu
    want = np.load(_bundle("sales-bilstm", "npy", "keras_pred_%s.npy" % model)).astype(np.float64)
    assert y.shape == want.shape == (72,)
    assert np.max(np.abs(y - want) / np.abs(want)) < 1e-5
    x, out = np.load(os.path.join(b, "self_test", "input.npy")), np.load(os.path.join(b, "self_test", "output.npy"))
    assert np.max(np.abs(refnet.forward(b, x) - out)) < 1e-5


def test_airquality_bundle_reproduces_keras():
    b = _bundle("airquality-cnn-bilstm", "bundles", "cnn_bilstm_model")
    with open(os.path.join(b, "scaler.json")) as f:
        s = json.load(f)
    assert s["window"] == 24 and s["input"]["kind"] == s["output"]["kind"] == "minmax"
    raw = np.load(_bundle("airquality-cnn-bilstm", "x_printed_raw.npy"))
    x = raw * np.array(s["input"]["scale"]) + np.array(s["input"]["min"])
    assert np.array_equal(x.astype(np.float32), np.load(_bundle("airquality-cnn-bilstm", "x_printed.npy")))
    y = (refnet.forward(b, x)[:, 0] - s["output"]["min"][0]) / s["output"]["scale"][0]
    want = np.load(_bundle("airquality-cnn-bilstm", "keras_printed_predictions.npy")).astype(np.float64)
    assert np.max(np.abs(y - want) / np.abs(want)) < 1e-6
