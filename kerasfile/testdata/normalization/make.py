"""Writes the adapted-Normalization fixtures of kerasfile/layers_merge_test.go
(TestAdaptedNormalizationFiles: the reader keeps the int64 count as float32;
TestCrossCheckPython reads them with the Python exporter too, identically).

    /usr/bin/python3 kerasfile/testdata/normalization/make.py

norm_keras2.h5: a Keras 2.12 legacy .h5 (model_weights/<layer>/<layer>/<weight>:0);
norm_keras3.keras: a Keras 3.10 .keras (model.weights.h5 layers/<key>/vars/<i>).
Both hold Normalization(axis=-1) after adapt(): mean and variance float32 of the
kept dim (3,), count an int64 scalar, as Keras stores them; then Flatten and Dense(1).
The values are fixed numbers, not trained weights.
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = np.array([0.5, -1.0, 2.0], np.float32)
VARIANCE = np.array([4.0, 0.25, 1.0], np.float32)
COUNT = np.array(1000, np.int64)
KERNEL = (np.arange(12, dtype=np.float32).reshape(12, 1) - 6) / 10
BIAS = np.array([0.25], np.float32)


def keras2():
    cfg = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4, 3], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        {"class_name": "Normalization", "config": {"name": "normalization", "trainable": True, "dtype": "float32",
                                                   "axis": [-1], "invert": False, "mean": None, "variance": None}},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": "float32",
                                             "data_format": "channels_last"}},
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 1,
                                           "activation": "linear", "use_bias": True}}]}}
    with h5py.File(os.path.join(HERE, "norm_keras2.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(cfg)
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([b"normalization", b"flatten", b"dense"])
        mw.attrs["keras_version"] = "2.12.0"
        mw.attrs["backend"] = "tensorflow"
        for layer, weights in [("normalization", [("mean", MEAN), ("variance", VARIANCE), ("count", COUNT)]),
                               ("flatten", []), ("dense", [("kernel", KERNEL), ("bias", BIAS)])]:
            g = mw.create_group(layer)
            g.attrs["weight_names"] = np.array([f"{layer}/{n}:0".encode() for n, _ in weights], dtype="S")
            if weights:
                inner = g.create_group(layer)
                for n, v in weights:
                    inner[f"{n}:0"] = v


def keras3():
    dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    layer = lambda cls, cfg, shape: {"module": "keras.layers", "class_name": cls, "config": cfg,
                                     "registered_name": None, "build_config": {"input_shape": shape}}
    cfg = {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "sequential", "trainable": True, "dtype": dtype, "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "name": "input_layer"}},
            layer("Normalization", {"name": "normalization", "trainable": True, "dtype": dtype, "axis": [-1],
                                    "invert": False, "mean": None, "variance": None}, [None, 4, 3]),
            {"module": "keras.layers", "class_name": "Flatten", "registered_name": None,
             "config": {"name": "flatten", "trainable": True, "dtype": dtype, "data_format": "channels_last"}},
            layer("Dense", {"name": "dense", "trainable": True, "dtype": dtype, "units": 1, "activation": "linear",
                            "use_bias": True}, [None, 12])],
        "build_input_shape": [None, 4, 3]}}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for key, weights in [("normalization", [MEAN, VARIANCE, COUNT]), ("flatten", []), ("dense", [KERNEL, BIAS])]:
            g = f.create_group(f"layers/{key}/vars")
            for i, v in enumerate(weights):
                g[str(i)] = v
        f.create_group("vars")
    with zipfile.ZipFile(os.path.join(HERE, "norm_keras3.keras"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.10.0", "date_saved": "2025-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("model.weights.h5", buf.getvalue())


if __name__ == "__main__":
    keras2()
    keras3()
