#!/usr/bin/python3
"""Write the gold forecaster (testdata/bench/gold, a bundle) as the Keras files
a user would bring: gold.h5 (Keras 2 legacy .h5, as Keras 2.15 model.save
writes it) and gold.keras (Keras 2.13-2.15 .keras: config.json in the Keras 2
dialect, weights under _layer_checkpoint_dependencies/). Same config, same
arrays as the bundle, so a reader's output can be compared with it.

    /usr/bin/python3 kerasfile/testdata/gold/make_gold.py   (from the repo root)
"""

import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOLD = os.path.join(HERE, "..", "..", "..", "testdata", "bench", "gold")


def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def main():
    with open(os.path.join(GOLD, "model.json")) as f:
        model = json.load(f)
    kv, backend = model.pop("keras_version"), model.pop("backend")
    files = sorted(os.listdir(os.path.join(GOLD, "weights")))
    arrays = [np.load(os.path.join(GOLD, "weights", n)) for n in files]
    layers = model["config"]["layers"]
    counts = {"Conv1D": 2, "Dense": 2, "Bidirectional": 6}

    # Keras 2 legacy .h5
    cell = [0]
    with h5py.File(os.path.join(HERE, "gold.h5"), "w") as f:
        f.attrs["keras_version"] = kv.encode()
        f.attrs["backend"] = backend.encode()
        f.attrs["model_config"] = json.dumps(model).encode()
        mw = f.create_group("model_weights")
        names = [l["config"]["name"] for l in layers if l["class_name"] != "InputLayer"]
        mw.attrs["layer_names"] = np.array([n.encode() for n in names])
        mw.attrs["backend"] = backend.encode()
        mw.attrs["keras_version"] = kv.encode()
        i = 0
        for l in layers:
            cls, name = l["class_name"], l["config"]["name"]
            if cls == "InputLayer":
                continue
            g = mw.create_group(name)
            n = counts.get(cls, 0)
            if cls == "Bidirectional":
                inner = l["config"]["layer"]["config"]["name"]
                wn = []
                for side in ("forward", "backward"):
                    c = "lstm_cell_%d" % cell[0] if cell[0] else "lstm_cell"
                    cell[0] += 1
                    wn += ["%s/%s_%s/%s/%s:0" % (name, side, inner, c, w) for w in ("kernel", "recurrent_kernel", "bias")]
            else:
                wn = ["%s/%s:0" % (name, w) for w in ("kernel", "bias")][:n]
            g.attrs["weight_names"] = np.array([w.encode() for w in wn]) if wn else np.array([])
            for w in wn:
                g.create_dataset(w, data=arrays[i])
                i += 1
        assert i == len(arrays)

    # Keras 2.13-2.15 .keras
    buf = io.BytesIO()
    seen = {}
    with h5py.File(buf, "w") as f:
        root = f.create_group("_layer_checkpoint_dependencies")
        f.create_group("vars")
        i = 0
        for l in layers:
            cls = l["class_name"]
            if cls == "InputLayer":
                continue
            s = snake(cls)
            key = s if s not in seen else "%s_%d" % (s, seen[s])
            seen[s] = seen.get(s, 0) + 1
            g = root.create_group(key)
            g.create_group("vars")
            if cls == "Bidirectional":
                g.create_group("layer/cell/vars")
                for side in ("forward_layer", "backward_layer"):
                    v = g.create_group(side + "/cell/vars")
                    g[side].create_group("vars")
                    for k in range(3):
                        v.create_dataset(str(k), data=arrays[i])
                        i += 1
            else:
                for k in range(counts.get(cls, 0)):
                    g["vars"].create_dataset(str(k), data=arrays[i])
                    i += 1
        assert i == len(arrays)
    with zipfile.ZipFile(os.path.join(HERE, "gold.keras"), "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": kv, "date_saved": "2024-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(model))
        z.writestr("model.weights.h5", buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
