#!/usr/bin/python3
"""Regenerate the exported bundles and .npy inputs of the real-world fixtures.

    make fixtures        # = /usr/bin/python3 tools/make_fixture_bundles.py

Reads the copied upstream files in parity/testdata/fixtures/<fixture>/ and
writes, next to them:

  sales-bilstm/npy/x_test.npy                 (72, 8) float64, split_80_20.npz X_test
  sales-bilstm/npy/keras_pred_<model>.npy     (72,) float32, what Keras predicted (sales units)
  sales-bilstm/bundles/<model>/               bundle with window_zscore scaler.json; self-test =
                                              the notebook's z-scored windows and Keras's
                                              predictions mapped back to model space
  airquality-cnn-bilstm/bundles/cnn_bilstm_model/
                                              bundle with both MinMax scalers; self-test =
                                              x_printed.npy and scaler_y.transform(keras
                                              printed predictions)

Every output is deterministic; tools/tests/test_fixture_bundles.py regenerates
them into a temporary directory and requires byte-for-byte equality with the
committed files, so exporter drift is caught.
"""

import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_keras  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(HERE), "parity", "testdata", "fixtures")

SALES_MODELS = {  # file stem -> prediction key in keras_predictions_80_20.npz
    "nb08_cnn_baseline_80_20": "nb08_cnn_baseline_y_pred",
    "nb09_cnn_ga_best_80_20": "nb09_cnn_ga_y_pred",
    "nb10_bilstm_baseline_80_20": "nb10_bilstm_baseline_y_pred",
    "nb11_bilstm_ga_best_80_20": "nb11_bilstm_ga_y_pred",
}
AQ_MODEL = "cnn_bilstm_model"


def _save(path, a):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, a, allow_pickle=False)


def _export(args):
    rc = export_keras.main(args)
    if rc != 0:
        raise SystemExit("export_keras failed: %s" % " ".join(args))


def generate(src=FIXTURES, out=FIXTURES):
    """Write every generated file for fixtures in src under out."""
    sales, aq = os.path.join(src, "sales-bilstm"), os.path.join(src, "airquality-cnn-bilstm")
    osales, oaq = os.path.join(out, "sales-bilstm"), os.path.join(out, "airquality-cnn-bilstm")
    split = np.load(os.path.join(sales, "split_80_20.npz"))
    preds = np.load(os.path.join(sales, "keras_predictions_80_20.npz"))
    _save(os.path.join(osales, "npy", "x_test.npy"), np.ascontiguousarray(split["X_test"], dtype=np.float64))
    # The notebook's preprocessing, in float32 as it ran.
    X = split["X_test"].astype(np.float32)
    mu = X.mean(axis=1)
    sigma = X.std(axis=1) + 1e-8
    Xn = ((X - mu[:, None]) / sigma[:, None]).astype(np.float32)[..., None]
    with tempfile.TemporaryDirectory() as tmp:
        xin = os.path.join(tmp, "x.npy")
        np.save(xin, Xn)
        for stem, key in SALES_MODELS.items():
            pred = preds[key].astype(np.float32)
            _save(os.path.join(osales, "npy", "keras_pred_%s.npy" % stem), pred)
            y = ((pred.astype(np.float64) - mu) / sigma).astype(np.float32)[:, None]
            yout = os.path.join(tmp, stem + ".npy")
            np.save(yout, y)
            _export([os.path.join(sales, stem + ".keras"), "--out", os.path.join(osales, "bundles", stem),
                     "--window-zscore", "--self-test-input", xin, "--self-test-output", yout,
                     "--name", stem, "--version", "1", "--force"])

        sy = export_keras.safe_pickle.load_scaler_json(os.path.join(aq, "scaler_y.pkl"))
        kp = np.load(os.path.join(aq, "keras_printed_predictions.npy")).astype(np.float64)
        y = (kp * sy["scale"][0] + sy["min"][0]).astype(np.float32)[:, None]
        yout = os.path.join(tmp, "aq_y.npy")
        np.save(yout, y)
        _export([os.path.join(aq, AQ_MODEL + ".keras"), "--out", os.path.join(oaq, "bundles", AQ_MODEL),
                 "--scaler-x", os.path.join(aq, "scaler_X.pkl"), "--scaler-y", os.path.join(aq, "scaler_y.pkl"),
                 "--self-test-input", os.path.join(aq, "x_printed.npy"), "--self-test-output", yout,
                 "--name", AQ_MODEL, "--version", "1", "--force"])


def generated_paths(root=FIXTURES):
    """Relative paths of every generated file under root (for drift checks)."""
    out = []
    for d in ("sales-bilstm/npy", "sales-bilstm/bundles", "airquality-cnn-bilstm/bundles"):
        base = os.path.join(root, d)
        for dp, _, fs in os.walk(base):
            out += [os.path.relpath(os.path.join(dp, f), root) for f in fs]
    return sorted(out)


if __name__ == "__main__":
    for d in ("sales-bilstm/npy", "sales-bilstm/bundles", "airquality-cnn-bilstm/bundles"):
        shutil.rmtree(os.path.join(FIXTURES, d), ignore_errors=True)
    generate()
    print("make_fixture_bundles: %d files under %s" % (len(generated_paths()), FIXTURES))
