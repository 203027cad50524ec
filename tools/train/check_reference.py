#!/usr/bin/python3
"""Check the two helpers of train_gold.py against Keras-produced material in the repository.

* keras_config.gold_model_config() must equal testdata/bench/gold/model.json (written by Keras 2.15).
* keras_numpy.forward() on testdata/bench/gold (weights + input.npy) must reproduce expected.npy
  (TF.js Layers outputs) within 1e-5 + 1e-5*|ref|.
* Optionally (--bundle DIR): a trained bundle's checksums and self-test are re-verified.

Usage (from the repository root): /usr/bin/python3 tools/train/check_reference.py [--bundle models/gold]
"""

import argparse
import glob
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keras_config  # noqa: E402
import keras_numpy  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


def check_bundle(d):
    man = json.load(open(os.path.join(d, "manifest.json")))
    for rel, want in man["files"].items():
        got = hashlib.sha256(open(os.path.join(d, rel), "rb").read()).hexdigest()
        if got != want:
            raise SystemExit(f"{d}/{rel}: sha256 {got}, manifest says {want}")
    w = [np.load(f) for f in sorted(glob.glob(os.path.join(d, "weights", "*.npy")))]
    st = man["self_test"]
    x = np.load(os.path.join(d, st["input"]))
    want = np.load(os.path.join(d, st["output"]))
    err = float(np.max(np.abs(keras_numpy.forward(x, w) - want)))
    if err > st.get("tolerance", 1e-4):
        raise SystemExit(f"{d}: self-test off by {err}")
    if json.load(open(os.path.join(d, "model.json"))) != keras_config.gold_model_config():
        raise SystemExit(f"{d}/model.json: differs from the canonical gold config")
    print(f"bundle {d}: {len(man['files'])} checksums ok, self-test max |err| {err:.2e}, "
          f"{sum(a.size for a in w)} params, dtypes {sorted({str(a.dtype) for a in w})}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle")
    args = ap.parse_args()
    gold = os.path.join(REPO, "testdata", "bench", "gold")
    if json.load(open(os.path.join(gold, "model.json"))) != keras_config.gold_model_config():
        raise SystemExit("keras_config: differs from testdata/bench/gold/model.json")
    w = [np.load(f) for f in sorted(glob.glob(os.path.join(gold, "weights", "*.npy")))]
    ref = np.load(os.path.join(gold, "expected.npy")).astype(np.float64)
    got = keras_numpy.forward(np.load(os.path.join(gold, "input.npy")), w)
    err = np.abs(got - ref)
    if np.any(err > 1e-5 + 1e-5 * np.abs(ref)):
        raise SystemExit(f"keras_numpy: max |err| {err.max()} vs TF.js expected.npy")
    print(f"keras_config == testdata/bench/gold/model.json; keras_numpy vs TF.js expected.npy "
          f"max |err| {err.max():.2e} over {ref.size} outputs")
    if args.bundle:
        check_bundle(args.bundle)


if __name__ == "__main__":
    main()
