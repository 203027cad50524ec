"""Write small model files in exactly the layouts real Keras writes (see the
keras-formats notes): Keras 2.x legacy .h5, Keras 3 legacy .h5, Keras 2.13
.keras and Keras 3 .keras. No Keras is needed; tests generate them into tmp
directories. Every function returns the list of arrays in get_weights() order.
"""

import io
import json
import os
import zipfile

import h5py
import numpy as np


def _rng(seed):
    return np.random.default_rng(seed)


def _arr(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


# --- Keras 2.x legacy H5 ----------------------------------------------------

def keras2_config(dense_bias=True):
    """Keras 2.4-style Sequential: Conv1D -> BiLSTM(seq) -> TimeDistributed(Dense)
    -> BatchNorm -> BiGRU -> Dropout -> Dense -> Dense(no bias)."""
    lstm = {"class_name": "LSTM", "config": {"name": "lstm_14", "units": 5, "return_sequences": True,
                                             "activation": "tanh", "recurrent_activation": "sigmoid",
                                             "use_bias": True}}
    gru = {"class_name": "GRU", "config": {"name": "gru_2", "units": 3, "return_sequences": False,
                                           "reset_after": True, "use_bias": True}}
    return {"class_name": "Sequential", "config": {"name": "sequential_3", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 10, 3], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "conv1d_input"}},
        {"class_name": "Conv1D", "config": {"name": "conv1d", "trainable": True, "batch_input_shape": [None, 10, 3],
                                            "filters": 4, "kernel_size": [3], "padding": "causal",
                                            "activation": "relu", "use_bias": True}},
        {"class_name": "Bidirectional", "config": {"name": "bidirectional_7", "layer": lstm, "merge_mode": "concat"}},
        {"class_name": "TimeDistributed", "config": {"name": "time_distributed", "layer": {
            "class_name": "Dense", "config": {"name": "dense_8", "units": 4, "use_bias": True}}}},
        {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "center": True, "scale": True}},
        {"class_name": "Bidirectional", "config": {"name": "bidirectional_8", "layer": gru, "merge_mode": "concat"}},
        {"class_name": "Dropout", "config": {"name": "dropout_3", "rate": 0.2}},
        {"class_name": "Dense", "config": {"name": "dense_9", "units": 6, "activation": "relu", "use_bias": dense_bias}},
        {"class_name": "Dense", "config": {"name": "dense_10", "units": 1, "use_bias": False}},
    ]}}


def keras2_weights(seed=1):
    """(layer name, [weight names...]) and arrays, as Keras 2.4 names them."""
    r = _rng(seed)
    spec = [
        ("conv1d", [("conv1d/kernel:0", (3, 3, 4)), ("conv1d/bias:0", (4,))]),
        ("bidirectional_7", [
            ("bidirectional_7/forward_lstm_14/lstm_cell_29/kernel:0", (4, 20)),
            ("bidirectional_7/forward_lstm_14/lstm_cell_29/recurrent_kernel:0", (5, 20)),
            ("bidirectional_7/forward_lstm_14/lstm_cell_29/bias:0", (20,)),
            ("bidirectional_7/backward_lstm_14/lstm_cell_30/kernel:0", (4, 20)),
            ("bidirectional_7/backward_lstm_14/lstm_cell_30/recurrent_kernel:0", (5, 20)),
            ("bidirectional_7/backward_lstm_14/lstm_cell_30/bias:0", (20,))]),
        ("time_distributed", [("time_distributed/kernel:0", (10, 4)), ("time_distributed/bias:0", (4,))]),
        ("batch_normalization", [("batch_normalization/gamma:0", (4,)), ("batch_normalization/beta:0", (4,)),
                                 ("batch_normalization/moving_mean:0", (4,)),
                                 ("batch_normalization/moving_variance:0", (4,))]),
        ("bidirectional_8", [
            ("bidirectional_8/forward_gru_2/gru_cell_12/kernel:0", (4, 9)),
            ("bidirectional_8/forward_gru_2/gru_cell_12/recurrent_kernel:0", (3, 9)),
            ("bidirectional_8/forward_gru_2/gru_cell_12/bias:0", (2, 9)),
            ("bidirectional_8/backward_gru_2/gru_cell_13/kernel:0", (4, 9)),
            ("bidirectional_8/backward_gru_2/gru_cell_13/recurrent_kernel:0", (3, 9)),
            ("bidirectional_8/backward_gru_2/gru_cell_13/bias:0", (2, 9))]),
        ("dropout_3", []),
        ("dense_9", [("dense_9/kernel:0", (6, 6)), ("dense_9/bias:0", (6,))]),
        ("dense_10", [("dense_10/kernel:0", (6, 1))]),
    ]
    return [(ln, [(wn, _arr(r, *shape)) for wn, shape in ws]) for ln, ws in spec]


def write_keras2_h5(path, config=None, layers=None, keras_version="2.4.0"):
    config = config or keras2_config()
    layers = layers if layers is not None else keras2_weights()
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = keras_version.encode()
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps({"loss": "mse", "optimizer_config": {
            "class_name": "Adam", "config": {"learning_rate": 0.001}}}).encode()
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([ln.encode() for ln, _ in layers])  # fixed-length |S
        mw.attrs["backend"] = b"tensorflow"
        mw.attrs["keras_version"] = keras_version.encode()
        ow = f.create_group("optimizer_weights")
        onames = [b"Adam/iter:0"]
        ow.create_dataset("Adam/iter:0", data=np.int64(120))
        for ln, ws in layers:
            g = mw.create_group(ln)
            if ws:
                g.attrs["weight_names"] = np.array([wn.encode() for wn, _ in ws])
            else:
                g.attrs["weight_names"] = np.array([])  # Keras 2 writes [] as an empty float64 array
            for wn, a in ws:
                g.create_dataset(wn, data=a)
                for slot in ("m", "v"):
                    on = "Adam/%s/%s:0" % (wn[:-2], slot)
                    ow.create_dataset(on, data=np.ones_like(a) * 7)
                    onames.append(on.encode())
        ow.attrs["weight_names"] = np.array(onames)
    return [a for _, ws in layers for _, a in ws]


# --- Keras 3 legacy H5 ------------------------------------------------------

def keras3_config():
    pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}

    def lstm(name, back):
        return {"module": "keras.layers", "class_name": "LSTM", "registered_name": None, "config": {
            "name": name, "dtype": pol, "units": 2, "return_sequences": False, "go_backwards": back,
            "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True}}
    return {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "sequential_8", "dtype": pol, "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, 6, 2], "dtype": "float32", "name": "input_layer_8"}},
            {"module": "keras.layers", "class_name": "Conv1D", "registered_name": None,
             "config": {"name": "conv1d_184", "dtype": pol, "filters": 3, "kernel_size": [2], "strides": [1],
                        "padding": "valid", "activation": "relu", "use_bias": True}},
            {"module": "keras.layers", "class_name": "Bidirectional", "registered_name": None,
             "config": {"name": "bidirectional_8", "dtype": pol, "merge_mode": "concat",
                        "layer": lstm("forward_lstm_8", False), "backward_layer": lstm("backward_lstm_8", True)}},
            {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": "dense_20", "dtype": pol, "units": 1, "activation": "linear", "use_bias": True}},
        ]}}


def write_keras3_h5(path, seed=2):
    r = _rng(seed)
    m = "sequential_8"
    layers = [
        ("conv1d_184", [("%s/conv1d_184/kernel" % m, (2, 2, 3)), ("%s/conv1d_184/bias" % m, (3,))]),
        ("bidirectional_8", [
            ("%s/bidirectional_8/forward_lstm_8/lstm_cell/kernel" % m, (3, 8)),
            ("%s/bidirectional_8/forward_lstm_8/lstm_cell/recurrent_kernel" % m, (2, 8)),
            ("%s/bidirectional_8/forward_lstm_8/lstm_cell/bias" % m, (8,)),
            ("%s/bidirectional_8/backward_lstm_8/lstm_cell/kernel" % m, (3, 8)),
            ("%s/bidirectional_8/backward_lstm_8/lstm_cell/recurrent_kernel" % m, (2, 8)),
            ("%s/bidirectional_8/backward_lstm_8/lstm_cell/bias" % m, (8,))]),
        ("dense_20", [("%s/dense_20/kernel" % m, (4, 1)), ("%s/dense_20/bias" % m, (1,))]),
    ]
    arrays = []
    str_t = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "3.10.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(keras3_config())
        mw = f.create_group("model_weights")
        mw.attrs.create("layer_names", np.array([ln for ln, _ in layers], dtype=object), dtype=str_t)
        top = mw.create_group("top_level_model_weights")
        top.attrs["weight_names"] = np.array([])
        for ln, ws in layers:
            g = mw.create_group(ln)
            g.attrs.create("weight_names", np.array([wn for wn, _ in ws], dtype=object), dtype=str_t)
            for wn, shape in ws:
                a = _arr(r, *shape)
                g.create_dataset(wn, data=a)
                arrays.append(a)
        ow = f.create_group("optimizer_weights/adam")
        ow.create_dataset("iteration", data=np.int64(3))
        ow.create_dataset("learning_rate", data=np.float32(1e-3))
    return arrays


# --- .keras zips -------------------------------------------------------------

def _zip(path, config, meta, weights_h5):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps(meta))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", weights_h5)


def keras213_config():
    """Keras 2.13 .keras config: Keras-2 dialect with module/registered_name."""
    def k2(cls, cfg):
        return {"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None}
    lstm = lambda n, u: k2("LSTM", {"name": n, "units": u, "return_sequences": n == "lstm_1", "use_bias": True})  # noqa: E731
    return {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "sequential", "layers": [
            k2("InputLayer", {"batch_input_shape": [None, 5, 1], "dtype": "float32", "name": "conv1d_input"}),
            k2("Conv1D", {"name": "conv1d", "filters": 8, "kernel_size": [1], "padding": "valid",
                          "activation": "relu", "use_bias": True, "batch_input_shape": [None, 5, 1]}),
            k2("Bidirectional", {"name": "bidirectional", "merge_mode": "concat", "layer": lstm("lstm_1", 3)}),
            k2("Dropout", {"name": "dropout", "rate": 0.1}),
            k2("Bidirectional", {"name": "bidirectional_1", "merge_mode": "concat", "layer": lstm("lstm", 2)}),
            k2("Dense", {"name": "dense", "units": 1, "use_bias": True}),
        ]}}


def keras213_weights_h5(seed=3, keys=("conv1d", "bidirectional", "bidirectional_2", "dense"), extra=None):
    """model.weights.h5 as Keras 2.13.1 writes it: _layer_checkpoint_dependencies
    root, no name attributes, a gap in the Bidirectional counters, and an
    empty template layer/cell/vars under each Bidirectional."""
    r = _rng(seed)
    arrays = []
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        root = f.create_group("_layer_checkpoint_dependencies")
        f.create_group("metrics")
        f.create_group("vars")
        opt = f.create_group("optimizer/vars")
        opt.create_dataset("0", data=np.int64(9))
        conv, bi1, bi2, dense = keys

        def put(g, shapes):
            v = g.create_group("vars")
            for i, s in enumerate(shapes):
                a = _arr(r, *s)
                v.create_dataset(str(i), data=a)
                arrays.append(a)
        put(root.create_group(conv), [(1, 1, 8), (8,)])
        for key, u, inp in ((bi1, 3, 8), (bi2, 2, 6)):
            g = root.create_group(key)
            g.create_group("vars")
            g.create_group("layer/cell/vars")  # the empty template
            g.create_group("layer/vars")
            for side in ("forward_layer", "backward_layer"):
                s = g.create_group(side)
                s.create_group("vars")
                put(s.create_group("cell"), [(inp, 4 * u), (u, 4 * u), (4 * u,)])
        root.create_group("dropout/vars")
        put(root.create_group(dense), [(4, 1), (1,)])
        if extra:
            extra(f)
    return buf.getvalue(), arrays


def write_keras213(path, **kw):
    h5, arrays = keras213_weights_h5(**kw)
    _zip(path, keras213_config(), {"keras_version": "2.13.1", "date_saved": "2023-08-01@10:00:00"}, h5)
    return arrays


def keras3_zip_config(with_td=True):
    pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}

    def L(cls, cfg):
        cfg = dict(cfg, dtype=pol)
        return {"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None}
    layers = [
        L("InputLayer", {"batch_shape": [None, 7, 2], "name": "input_layer_3"}),
        L("LSTM", {"name": "lstm_5", "units": 3, "return_sequences": True, "use_bias": True}),
        L("LayerNormalization", {"name": "layer_normalization", "center": True, "scale": True}),
        L("Bidirectional", {"name": "bidirectional_5", "merge_mode": "concat",
                            "layer": L("GRU", {"name": "forward_gru", "units": 2, "return_sequences": True}),
                            "backward_layer": L("GRU", {"name": "backward_gru", "units": 2,
                                                        "return_sequences": True, "go_backwards": True})}),
    ]
    if with_td:
        layers.append(L("TimeDistributed", {"name": "time_distributed_1",
                                            "layer": L("Dense", {"name": "dense_7", "units": 2})}))
    layers += [L("Flatten", {"name": "flatten"}), L("PReLU", {"name": "p_re_lu"}),
               L("Dropout", {"name": "dropout_9", "rate": 0.5, "seed": 1}),
               L("Dense", {"name": "dense_8", "units": 1, "use_bias": False})]
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential_4", "dtype": pol, "layers": layers}}


def write_keras3_zip(path, seed=4, names=True, mutate=None):
    """Keras 3 .keras: layers/<snake class>[_n]/vars/<i>, RNN cell/vars, @name."""
    r = _rng(seed)
    arrays = []
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        root = f.create_group("layers")
        f.create_group("vars").attrs["name"] = "sequential_4"
        f.create_group("optimizer/vars").create_dataset("0", data=np.int64(1))

        def grp(path_, name):
            g = root.create_group(path_)
            v = g.create_group("vars")
            if names:
                v.attrs["name"] = name
            return g

        def put(g, shapes, name=None):
            v = g.require_group("vars")
            if names and name:
                v.attrs["name"] = name
            for i, s in enumerate(shapes):
                a = _arr(r, *s)
                v.create_dataset(str(i), data=a)
                arrays.append(a)
        g = grp("lstm", "lstm_5")
        put(g.create_group("cell"), [(2, 12), (3, 12), (12,)], "lstm_cell")
        put(grp("layer_normalization", "layer_normalization"), [(3,), (3,)])
        g = grp("bidirectional", "bidirectional_5")
        for side, nm in (("forward_layer", "forward_gru"), ("backward_layer", "backward_gru")):
            s = g.create_group(side)
            s.create_group("vars").attrs["name"] = nm
            put(s.create_group("cell"), [(3, 6), (2, 6), (2, 6)], "gru_cell")
        g = grp("time_distributed", "time_distributed_1")
        put(g.create_group("layer"), [(4, 2), (2,)], "dense_7")
        grp("flatten", "flatten")
        put(grp("p_re_lu", "p_re_lu"), [(14,)])
        d = grp("dropout", "dropout_9")
        d.create_group("seed_generator/vars").create_dataset("0", data=np.array([1, 0], dtype=np.uint32))
        put(grp("dense", "dense_8"), [(14, 1)])
        if mutate:
            mutate(f)
    _zip(path, keras3_zip_config(), {"keras_version": "3.10.0", "date_saved": "2025-01-01@00:00:00"},
         buf.getvalue())
    return arrays


# --- TF.js golden bundles as Keras files --------------------------------------
#
# A golden bundle (parity/testdata/golden/<name>: model.json, weights/NNN.npy in
# get_weights() order, input.npy, expected.npy) rewritten as the file Keras would
# have saved, so the served file must give the golden's expected.npy. Where each
# format keeps a layer's weights (Keras's own source; see the notes in
# kerasfile/layers_convlstm.go):
#
#   class             Keras 2 .h5 weight name     Keras 3 .h5 (<model>/<layer>/...)   .keras group (layers/<key>/...)
#   Dense, Conv1D     <layer>/kernel:0            kernel                              vars
#   LSTM, GRU         <layer>/lstm_cell/kernel:0  lstm_cell/kernel                    cell/vars
#   ConvLSTM1D/2D     <layer>/kernel:0            conv_lstm_cell/kernel               cell/vars
#   Bidirectional     <layer>/forward_<inner>/... forward_<inner>/...                 forward_layer/..., backward_layer/...
#   TimeDistributed   <layer>/kernel:0            <inner>/kernel                      layer/vars
#
# Keras 2's ConvRNN.build builds its cell outside any name scope (hence no
# cell in the Keras 2 name); Keras 3's RNN builds it inside the cell's scope.

RNN_CELLS = {"LSTM": "lstm_cell", "GRU": "gru_cell", "SimpleRNN": "simple_rnn_cell",
             "ConvLSTM1D": "conv_lstm_cell", "ConvLSTM2D": "conv_lstm_cell", "ConvLSTM3D": "conv_lstm_cell"}


def _slots(layer, keras3):
    """(h5 name below the layer, .keras group below the layer's key, base
    name) of each weight of a layer config, in get_weights() order."""
    from seqcast_export import keras_reader  # tools/ is on sys.path (conftest.py, pyread.py)
    cls = layer["class_name"]
    c = layer.get("config", {})
    if cls == "Bidirectional":
        fwd = c["layer"]
        bwd = c.get("backward_layer") or fwd
        out = []
        for side, inner in (("forward", fwd), ("backward", bwd)):
            name = inner["config"]["name"]
            if not keras3 or inner is fwd and not c.get("backward_layer"):
                name = side + "_" + name
            out += [(name + "/" + h, side + "_layer/" + g, b) for h, g, b in _slots(inner, keras3)]
        return out
    if cls == "TimeDistributed":
        inner = c["layer"]
        pre = inner["config"]["name"] + "/" if keras3 else ""
        return [(pre + h, "layer/" + g if g else "layer", b) for h, g, b in _slots(inner, keras3)]
    names = keras_reader.expected_names(layer)
    if names is None:
        raise ValueError("no weight names for class %s" % cls)
    if cls in RNN_CELLS:
        cell = RNN_CELLS[cls]
        h5pre = cell + "/" if keras3 or not cls.startswith("ConvLSTM") else ""
        return [(h5pre + n, "cell", n) for n in names]
    return [(n, "", n) for n in names]


def _groups(layer):
    """The .keras groups (below the layer's key) that hold a vars group, with
    the name attribute Keras 3 gives it."""
    cls = layer["class_name"]
    c = layer.get("config", {})
    name = c.get("name")
    out = [("", name)]
    if cls == "Bidirectional":
        fwd = c["layer"]
        bwd = c.get("backward_layer") or fwd
        for side, inner in (("forward_layer", fwd), ("backward_layer", bwd)):
            out += [(side + "/" + g if g else side, n) for g, n in _groups(inner)]
    elif cls == "TimeDistributed":
        out += [("layer/" + g if g else "layer", n) for g, n in _groups(c["layer"])]
    elif cls in RNN_CELLS:
        out.append(("cell", RNN_CELLS[cls]))
    return out


def golden_model(bundle):
    """(config without keras_version/backend, keras_version, [(layer config,
    [arrays])] of the model's layers but the InputLayer) of a golden bundle."""
    with open(os.path.join(bundle, "model.json")) as f:
        mj = json.load(f)
    version = mj.pop("keras_version")
    mj.pop("backend", None)
    i = 0
    layers = []
    for l in mj["config"]["layers"]:
        if l["class_name"] == "InputLayer":
            continue
        n = len(_slots(l, False))
        arrays = [np.load(os.path.join(bundle, "weights", "%03d.npy" % (i + k))) for k in range(n)]
        i += n
        layers.append((l, arrays))
    if os.path.exists(os.path.join(bundle, "weights", "%03d.npy" % i)):
        raise ValueError("%s: more weight files than its layers hold" % bundle)
    return mj, version, layers


def write_golden_keras2_h5(path, config, version, layers):
    """A golden as Keras 2.x's model.save("m.h5")."""
    ls = []
    for l, arrays in layers:
        name = l["config"]["name"]
        ls.append((name, [("%s/%s:0" % (name, h), a) for (h, _, _), a in zip(_slots(l, False), arrays)]))
    return write_keras2_h5(path, config=config, layers=ls, keras_version=version)


def write_golden_keras3_h5(path, config, version, layers):
    """A golden as Keras 3's legacy model.save("m.h5"): str names prefixed
    with the model's name, every layer listed."""
    model = config["config"]["name"]
    str_t = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        mw = f.create_group("model_weights")
        mw.attrs.create("layer_names", np.array([l["config"]["name"] for l, _ in layers], dtype=object), dtype=str_t)
        mw.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])
        for l, arrays in layers:
            name = l["config"]["name"]
            g = mw.create_group(name)
            wn = ["%s/%s/%s" % (model, name, h) for h, _, _ in _slots(l, True)]
            if wn:
                g.attrs.create("weight_names", np.array(wn, dtype=object), dtype=str_t)
            else:
                g.attrs["weight_names"] = np.array([])
            for n, a in zip(wn, arrays):
                g.create_dataset(n, data=a)
    return [a for _, arrays in layers for a in arrays]


def golden_keras3_weights(config, layers, mutate=None, keras213=False):
    """model.weights.h5 of a Keras 3 .keras: layers/<snake_case(class)[_n]>,
    each nesting level's vars group named as Keras 3 names it; with keras213,
    Keras 2.13-2.15's: _layer_checkpoint_dependencies/<Keras 2
    snake_case(class)[_n]> (ConvLSTM2D is conv_lst_m2d), no name attributes."""
    from seqcast_export.keras_reader import snake_case, snake_case_keras2
    snake = snake_case_keras2 if keras213 else snake_case
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        root = f.create_group("_layer_checkpoint_dependencies" if keras213 else "layers")
        top = f.create_group("vars")
        if not keras213:
            top.attrs["name"] = config["config"]["name"]
        f.create_group("optimizer/vars").create_dataset("0", data=np.int64(1))
        seen = {}
        for l, arrays in layers:
            s = snake(l["class_name"])
            key = s if s not in seen else "%s_%d" % (s, seen[s])
            seen[s] = seen.get(s, 0) + 1
            g = root.create_group(key)
            for sub, name in _groups(l):
                v = g.require_group(sub + "/vars" if sub else "vars")
                if not keras213:
                    v.attrs["name"] = name
            counts = {}
            for (_, sub, _), a in zip(_slots(l, True), arrays):
                v = g[sub + "/vars" if sub else "vars"]
                k = counts.get(sub, 0)
                counts[sub] = k + 1
                v.create_dataset(str(k), data=a)
        if mutate:
            mutate(f)
    return buf.getvalue()


def write_golden_keras3_zip(path, config, version, layers, mutate=None):
    """A golden as Keras 3's model.save("m.keras")."""
    _zip(path, config, {"keras_version": version, "date_saved": "2025-01-01@00:00:00"},
         golden_keras3_weights(config, layers, mutate))
    return [a for _, arrays in layers for a in arrays]


def write_golden_keras213_zip(path, config, version, layers):
    """A golden as Keras 2.13-2.15's model.save("m.keras"), its layers renamed
    (the archive keys them by class, not by name)."""
    config = json.loads(json.dumps(config))
    renamed = []
    for l, arrays in layers:
        l = json.loads(json.dumps(l))
        l["config"]["name"] = "my_" + l["config"]["name"]
        renamed.append((l, arrays))
    names = iter(l for l, _ in renamed)
    config["config"]["layers"] = [l if l["class_name"] == "InputLayer" else next(names)
                                  for l in config["config"]["layers"]]
    _zip(path, config, {"keras_version": "2.13.1", "date_saved": "2023-08-01@10:00:00"},
         golden_keras3_weights(config, renamed, keras213=True))
    return [a for _, arrays in layers for a in arrays]


def convlstm1d_from_2d(config, layers):
    """The tutorial ConvLSTM2D golden rewritten as the ConvLSTM1D model that
    computes the same (parity/convlstm1d_test.go): no row axis in the input
    or the kernels."""
    text = json.dumps(config)
    for a, b in (('"class_name": "ConvLSTM2D"', '"class_name": "ConvLSTM1D"'),
                 ("[null, 2, 1, 3, 1]", "[null, 2, 3, 1]"), ('"kernel_size": [1, 2]', '"kernel_size": [2]'),
                 ('"strides": [1, 1]', '"strides": [1]'), ('"dilation_rate": [1, 1]', '"dilation_rate": [1]'),
                 ('"name": "conv_lst_m2d"', '"name": "conv_lst_m1d"')):
        if a not in text:
            raise ValueError("config has no %s" % a)
        text = text.replace(a, b)
    config = json.loads(text)
    out = []
    for (l, arrays), nl in zip(layers, [x for x in config["config"]["layers"] if x["class_name"] != "InputLayer"]):
        if l["class_name"] == "ConvLSTM2D":
            arrays = [a[0] if a.ndim == 4 else a for a in arrays]
        out.append((nl, arrays))
    return config, out


GOLDEN_FILES = [
    # (file, golden bundle, writer, ConvLSTM1D rewrite)
    ("convlstm2d_tutorial_k2_12.h5", "convlstm2d_tutorial_k2_12", write_golden_keras2_h5, False),
    ("convlstm2d_tutorial_k3.keras", "convlstm2d_tutorial_k3", write_golden_keras3_zip, False),
    ("convlstm2d_tutorial_k3.h5", "convlstm2d_tutorial_k3", write_golden_keras3_h5, False),
    ("convlstm2d_tutorial_k2_13.keras", "convlstm2d_tutorial_k2_12", write_golden_keras213_zip, False),
    ("convlstm1d_tutorial_k2_12.h5", "convlstm2d_tutorial_k2_12", write_golden_keras2_h5, True),
    ("convlstm1d_tutorial_k3.keras", "convlstm2d_tutorial_k3", write_golden_keras3_zip, True),
    ("timedistributed_cnn_lstm_k2_12.h5", "timedistributed_cnn_lstm_k2_12", write_golden_keras2_h5, False),
    ("timedistributed_cnn_lstm_k2_13.keras", "timedistributed_cnn_lstm_k2_12", write_golden_keras213_zip, False),
    ("timedistributed_cnn_lstm_k3.keras", "timedistributed_cnn_lstm_k3", write_golden_keras3_zip, False),
    ("timedistributed_cnn_lstm_k3.h5", "timedistributed_cnn_lstm_k3", write_golden_keras3_h5, False),
    # Dot attention, Maximum/Minimum and Softmax layers.
    ("luong_attention_k2_12.h5", "luong_attention_k2_12", write_golden_keras2_h5, False),
    ("luong_attention_k3.keras", "luong_attention_k3", write_golden_keras3_zip, False),
    ("max_min_cosine_dot_k2_15.h5", "max_min_cosine_dot_k2_15", write_golden_keras2_h5, False),
]


def write_golden_files(d, golden_root):
    """Writes GOLDEN_FILES into d from the bundles under golden_root
    (parity/testdata/golden); returns [(path, bundle dir, ConvLSTM1D)]."""
    out = []
    for name, bundle, writer, to1d in GOLDEN_FILES:
        src = os.path.join(golden_root, bundle)
        config, version, layers = golden_model(src)
        if to1d:
            config, layers = convlstm1d_from_2d(config, layers)
        writer(os.path.join(d, name), config, version, layers)
        out.append((os.path.join(d, name), src, to1d))
    return out
