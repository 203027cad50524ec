#!/usr/bin/python3
"""Regenerates the real-Keras test bundles in this folder from the project's shared fixtures.

Run from the repository root, with the shared fixtures checked out beside it:
    /usr/bin/python3 weights/testdata/make_fixtures.py /path/to/shared/fixtures
Needs numpy and h5py. The tests themselves need nothing but the files this writes.

Each bundle is model.json (the .keras zip's config.json, verbatim), weights/NNN.npy (the arrays of
model.weights.h5 in get_weights() order) and manifest.json whose self-test output is what Keras itself
predicted (keras_predictions_80_20.npz), mapped back through the notebook's per-window z-score.
"""
import hashlib, json, os, shutil, sys, zipfile, io
import numpy as np, h5py

src = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))

def arrays(h5, layer_keys):
    out = []
    for key in layer_keys:
        g = h5["layers"][key]
        if "forward_layer" in g:  # Bidirectional: forward first, then backward
            for d in ("forward_layer", "backward_layer"):
                v = g[d]["cell"]["vars"]
                out += [v[str(i)][()] for i in range(len(v))]
        elif "cell" in g:
            v = g["cell"]["vars"]
            out += [v[str(i)][()] for i in range(len(v))]
        else:
            v = g["vars"]
            out += [v[str(i)][()] for i in range(len(v))]
    return out

def bundle(name, keras_file, layer_keys, pred_key, version):
    dst = os.path.join(here, name)
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.join(dst, "weights"))
    os.makedirs(os.path.join(dst, "self_test"))
    shutil.copy(os.path.join(src, "sales-bilstm", "LICENSE"), os.path.join(dst, "LICENSE"))
    z = zipfile.ZipFile(os.path.join(src, "sales-bilstm", keras_file))
    open(os.path.join(dst, "model.json"), "wb").write(z.read("config.json"))
    with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as h5:
        for i, w in enumerate(arrays(h5, layer_keys)):
            np.save(os.path.join(dst, "weights", f"{i:03d}.npy"), w.astype(np.float32))
    split = np.load(os.path.join(src, "sales-bilstm", "split_80_20.npz"))
    preds = np.load(os.path.join(src, "sales-bilstm", "keras_predictions_80_20.npz"))
    X = split["X_test"].astype(np.float32)
    mu = X.mean(axis=1); sigma = X.std(axis=1) + 1e-8
    Xn = ((X - mu[:, None]) / sigma[:, None]).astype(np.float32)[..., None]
    raw = ((preds[pred_key].astype(np.float64) - mu) / sigma).astype(np.float32)[:, None]
    np.save(os.path.join(dst, "self_test", "input.npy"), Xn)
    np.save(os.path.join(dst, "self_test", "output.npy"), raw)
    files = {}
    for root, _, names in os.walk(dst):
        for n in sorted(names):
            p = os.path.join(root, n)
            files[os.path.relpath(p, dst)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    manifest = {"name": name, "version": "1", "keras_version": version, "files": dict(sorted(files.items())),
                "self_test": {"input": "self_test/input.npy", "output": "self_test/output.npy", "tolerance": 1e-4}}
    json.dump(manifest, open(os.path.join(dst, "manifest.json"), "w"), indent=1)

bundle("keras3-sales-bilstm", "nb10_bilstm_baseline_80_20.keras", ["bidirectional", "dense", "dense_1"],
       "nb10_bilstm_baseline_y_pred", "3.14.0")
bundle("keras3-sales-cnn", "nb08_cnn_baseline_80_20.keras", ["conv1d", "dense", "dense_1"],
       "nb08_cnn_baseline_y_pred", "3.14.0")
z = zipfile.ZipFile(os.path.join(src, "airquality-cnn-bilstm", "cnn_bilstm_model.keras"))
configs = os.path.join(here, "..", "..", "kerasconfig", "testdata", "configs")
open(os.path.join(configs, "keras3_airquality_cnn_bilstm.json"), "wb").write(z.read("config.json"))
shutil.copy(os.path.join(src, "airquality-cnn-bilstm", "LICENSE"), os.path.join(configs, "LICENSE-airquality-cnn-bilstm"))
