#!/usr/bin/python3
"""Cross-check helper for kerasfile's tests: read Keras files with the Python
exporter's reader (tools/seqcast_export/keras_reader.py, numpy + h5py) and
print, as JSON on stdout, what it found for each file: config, keras_version,
backend and every weight array (layer, label, dtype, shape, little-endian
bytes in base64), or the error it raised.

    /usr/bin/python3 kerasfile/testdata/pyread.py [--layouts DIR] FILE...

--layouts DIR first writes, into DIR, the Keras layouts of
tools/tests/keras_layouts.py (Keras 2 and 3 .h5, Keras 2.13 and 3 .keras,
stored and deflated, the ConvLSTM and subsequence CNN-LSTM goldens as Keras
files, plus broken variants) and reads them too.
"""

import base64
import json
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tools", "tests"))

import h5py  # noqa: E402  (fail loudly when python3-h5py is missing)
import numpy as np  # noqa: E402

import keras_layouts as kl  # noqa: E402
from seqcast_export import keras_reader  # noqa: E402


def rewrite_zip(src, dst, compression, replace=None):
    with zipfile.ZipFile(src) as z:
        files = [(n, z.read(n)) for n in z.namelist()]
    with zipfile.ZipFile(dst, "w", compression=compression) as z:
        for n, b in files:
            z.writestr(n, (replace or {}).get(n, b))


def layouts(d):
    p = lambda n: os.path.join(d, n)  # noqa: E731
    kl.write_keras2_h5(p("keras2.h5"))
    kl.write_keras2_h5(p("keras2_2.12.h5"), keras_version="2.12.0")
    kl.write_keras3_h5(p("keras3.h5"))
    kl.write_keras213(p("keras213.keras"))
    kl.write_keras3_zip(p("keras3.keras"))
    kl.write_keras3_zip(p("keras3_nonames.keras"), names=False)
    rewrite_zip(p("keras3.keras"), p("keras3_deflated.keras"), zipfile.ZIP_DEFLATED)
    rewrite_zip(p("keras213.keras"), p("keras213_deflated.keras"), zipfile.ZIP_DEFLATED)
    # float64 weights (a model saved from float64)
    layers = [(ln, [(wn, a.astype(np.float64)) for wn, a in ws]) for ln, ws in kl.keras2_weights(seed=5)]
    kl.write_keras2_h5(p("keras2_float64.h5"), layers=layers)
    layers = [(ln, [(wn, a.astype(np.float16)) for wn, a in ws]) for ln, ws in kl.keras2_weights(seed=6)]
    kl.write_keras2_h5(p("keras2_float16.h5"), layers=layers)
    # Keras 2.10 functional (layer_names lists input_1)
    cfg = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 12, 2], "dtype": "float32", "name": "input_1"}},
        {"class_name": "LSTM", "name": "lstm_4", "inbound_nodes": [[["input_1", 0, 0, {}]]],
         "config": {"name": "lstm_4", "units": 3, "use_bias": True}},
        {"class_name": "Dense", "name": "dense_2", "inbound_nodes": [[["lstm_4", 0, 0, {}]]],
         "config": {"name": "dense_2", "units": 1, "use_bias": True}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}
    r = np.random.default_rng(9)
    fl = [("input_1", []),
          ("lstm_4", [("lstm_4/lstm_cell_12/kernel:0", r.normal(size=(2, 12)).astype(np.float32)),
                      ("lstm_4/lstm_cell_12/recurrent_kernel:0", r.normal(size=(3, 12)).astype(np.float32)),
                      ("lstm_4/lstm_cell_12/bias:0", r.normal(size=(12,)).astype(np.float32))]),
          ("dense_2", [("dense_2/kernel:0", r.normal(size=(3, 1)).astype(np.float32)),
                       ("dense_2/bias:0", r.normal(size=(1,)).astype(np.float32))])]
    kl.write_keras2_h5(p("keras2_functional.h5"), config=cfg, layers=fl, keras_version="2.10.0")

    # the smallest Keras 2 .h5: one Dense layer (a fuzz seed)
    tiny = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 2], "dtype": "float32", "name": "in"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 1, "use_bias": True}}]}}
    kl.write_keras2_h5(p("tiny_keras2.h5"), config=tiny, layers=[
        ("dense", [("dense/kernel:0", np.array([[0.5], [-2]], np.float32)), ("dense/bias:0", np.array([3], np.float32))])])

    # MultiHeadAttention: Keras 2 .h5 names, Keras 3 and 2.13 .keras sublayer groups
    mha_layouts(d)
    # keras-tcn's TCN: batch and layer norm .keras groups, a Keras 2 .h5
    tcn_layouts(d)
    # the ConvLSTM2D, ConvLSTM1D and subsequence CNN-LSTM TF.js goldens as
    # Keras 2 .h5, Keras 3 legacy .h5 and Keras 3 .keras files
    kl.write_golden_files(d, os.path.join(REPO, "parity", "testdata", "golden"))

    # --- files both readers must refuse ---
    kl.write_keras2_h5(p("bad_count.h5"), config=kl.keras2_config(dense_bias=False))
    ws = kl.keras2_weights()
    ln, w = ws[-2]
    ws[-2] = (ln, w[::-1])
    kl.write_keras2_h5(p("bad_order.h5"), layers=ws)
    kl.write_keras2_h5(p("bad_missing_layer.h5"),
                       layers=[x for x in kl.keras2_weights() if x[0] != "batch_normalization"])
    with h5py.File(p("bad_weights_only.h5"), "w") as f:
        f.create_group("model_weights")
    kl.write_keras213(p("bad_unmapped.keras"), extra=lambda f: f["_layer_checkpoint_dependencies/dense"].create_dataset(
        "cell/vars/0", data=np.zeros(3, np.float32)))
    kl.write_keras213(p("bad_weightless_with_weights.keras"),
                      extra=lambda f: f["_layer_checkpoint_dependencies/dropout/vars"].create_dataset(
                          "0", data=np.zeros(3, np.float32)))

    def drop(f):
        del f["layers/layer_normalization"]
    kl.write_keras3_zip(p("bad_missing_group.keras"), mutate=drop)

    def rename(f):
        f["layers/dense/vars"].attrs["name"] = "dense_99"
    kl.write_keras3_zip(p("bad_name.keras"), mutate=rename)
    c = kl.keras3_zip_config()
    c["config"]["layers"][2]["class_name"] = "PositionalEncoding"
    rewrite_zip(p("keras3.keras"), p("bad_class_PositionalEncoding.keras"), zipfile.ZIP_STORED,
                {"config.json": json.dumps(c).encode()})
    with zipfile.ZipFile(p("keras3.keras")) as z:
        with open(p("bad_bare_weights.h5"), "wb") as f:
            f.write(z.read("model.weights.h5"))
    with open(p("bad_not_a_model.h5"), "wb") as f:
        f.write(b"hello")
    return sorted(os.path.join(d, n) for n in os.listdir(d))


def mha_config(keras3):
    """Input (5, 4) -> MultiHeadAttention(2 heads of 3, query/value from the input) -> Dense(1)."""
    if keras3:
        t = {"class_name": "__keras_tensor__", "config": {"keras_history": ["in", 0, 0]}}
        node = [{"args": [t, t], "kwargs": {}}]
        dnode = [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["mha", 0, 0]}}], "kwargs": {}}]
        inp = {"batch_shape": [None, 5, 4], "dtype": "float32", "name": "in"}
    else:
        node = [[["in", 0, 0, {"value": ["in", 0, 0]}]]]
        dnode = [[["mha", 0, 0, {}]]]
        inp = {"batch_input_shape": [None, 5, 4], "dtype": "float32", "name": "in"}
    return {"class_name": "Functional" if keras3 else "Model", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": inp},
        {"class_name": "MultiHeadAttention", "name": "mha", "inbound_nodes": node,
         "config": {"name": "mha", "num_heads": 2, "key_dim": 3, "value_dim": 3, "use_bias": True}},
        {"class_name": "Dense", "name": "dense", "inbound_nodes": dnode,
         "config": {"name": "dense", "units": 1, "use_bias": True}}],
        "input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]]}}


MHA_SHAPES = [("query", [(4, 2, 3), (2, 3)]), ("key", [(4, 2, 3), (2, 3)]), ("value", [(4, 2, 3), (2, 3)]),
              ("attention_output", [(2, 3, 4), (4,)])]
MHA_GROUPS = {"query": "query_dense", "key": "key_dense", "value": "value_dense", "attention_output": "output_dense"}


def mha_layouts(d):
    import io
    p = lambda n: os.path.join(d, n)  # noqa: E731
    r = np.random.default_rng(12)
    arr = lambda s: r.normal(size=s).astype(np.float32)  # noqa: E731
    ws = [("mha/%s/%s:0" % (sub, w), arr(s)) for sub, shapes in MHA_SHAPES for w, s in zip(("kernel", "bias"), shapes)]
    kl.write_keras2_h5(p("keras2_mha.h5"), config=mha_config(False), keras_version="2.12.0", layers=[
        ("in", []), ("mha", ws), ("dense", [("dense/kernel:0", arr((4, 1))), ("dense/bias:0", arr((1,)))])])
    for name, root, prefix, version in (("keras3_mha.keras", "layers", "", "3.10.0"),
                                        ("keras213_mha.keras", "_layer_checkpoint_dependencies", "_", "2.13.1"),
                                        ("bad_mha_no_key_dense.keras", "layers", "", "3.10.0")):
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            g = f.create_group(root)
            m = g.create_group("multi_head_attention")
            m.create_group("vars")
            m.create_group(prefix + "softmax/vars")
            for sub, shapes in MHA_SHAPES:
                if name.startswith("bad") and sub == "key":
                    continue
                v = m.create_group(prefix + MHA_GROUPS[sub] + "/vars")
                for i, s in enumerate(shapes):
                    v.create_dataset(str(i), data=arr(s))
            dv = g.create_group("dense/vars")
            dv.create_dataset("0", data=arr((4, 1)))
            dv.create_dataset("1", data=arr((1,)))
        kl._zip(p(name), mha_config(version.startswith("3")), {"keras_version": version}, buf.getvalue())


def tcn_config(keras3, opts):
    """Input (6, 2) -> keras-tcn TCN(dilations [1, 2]) -> Dense(1)."""
    c = {"name": "tcn", "nb_filters": 3, "kernel_size": 2, "nb_stacks": 1, "dilations": [1, 2], "padding": "causal",
         "use_skip_connections": True, "dropout_rate": 0.0, "return_sequences": False, "activation": "relu",
         "use_batch_norm": False, "use_layer_norm": False, "kernel_initializer": "he_normal"}
    c.update(opts)
    tcn = {"class_name": "TCN", "config": c}
    if keras3:
        tcn.update({"module": "tcn.tcn", "registered_name": "Custom>TCN", "build_config": {"input_shape": [None, 6, 2]}})
        inp = {"batch_shape": [None, 6, 2], "dtype": "float32", "name": "in"}
    else:
        c["batch_input_shape"] = [None, 6, 2]
        inp = {"batch_input_shape": [None, 6, 2], "dtype": "float32", "name": "in"}
    f = c["nb_filters"][-1] if isinstance(c["nb_filters"], list) else c["nb_filters"]
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": inp}, tcn,
        {"class_name": "Dense", "config": {"name": "dense", "units": 1, "use_bias": True}}]}}, f


def tcn_layouts(d):
    import io
    p = lambda n: os.path.join(d, n)  # noqa: E731
    r = np.random.default_rng(13)
    arr = lambda s: r.normal(size=s).astype(np.float32)  # noqa: E731

    def groups(opts):
        """(group path, shapes) of every TCN sublayer, as Keras 3 saves them."""
        filters = opts.get("nb_filters", 3)
        out, cin = [], 2
        for k in range(2):
            f = filters[k] if isinstance(filters, list) else filters
            b = "residual_block_%d/" % k
            for j in range(2):
                out.append((b + "conv1D_%d" % j, [(2, cin if j == 0 else f, f), (f,)]))
                suffix = "_1" if j else ""
                if opts.get("use_batch_norm"):
                    out.append((b + "batch_norm_layers/batch_normalization" + suffix, [(f,)] * 4))
                if opts.get("use_layer_norm"):
                    out.append((b + "layer_norm_layers/layer_normalization" + suffix, [(f,)] * 2))
            if cin != f:
                out.append((b + "matching_conv1D", [(1, cin, f), (f,)]))
            cin = f
        return out

    for name, opts, drop in (("keras3_tcn_batchnorm.keras", {"use_batch_norm": True}, None),
                             ("keras3_tcn_layernorm_filters.keras",
                              {"use_layer_norm": True, "nb_filters": [3, 4], "use_skip_connections": False}, None),
                             ("bad_tcn_no_matching.keras", {}, "residual_block_0/matching_conv1D")):
        cfg, f = tcn_config(True, opts)
        buf = io.BytesIO()
        with h5py.File(buf, "w") as h:
            t = h.create_group("layers/tcn")
            t.create_group("vars").attrs["name"] = "tcn"
            for k in range(2):
                b = t.create_group("residual_block_%d" % k)
                b.create_group("vars")
                for sub in ("Act_Conv1D_0", "SDropout_0", "Act_Conv_Blocks", "Act_Res_Block"):
                    b.create_group(sub + "/vars")
            t.create_group("slicer_layer/vars")
            for g, shapes in groups(opts):
                if g == drop:
                    continue
                v = t.require_group(g).create_group("vars")
                for i, s in enumerate(shapes):
                    v.create_dataset(str(i), data=arr(s))
            dv = h.create_group("layers/dense/vars")
            dv.create_dataset("0", data=arr((f, 1)))
            dv.create_dataset("1", data=arr((1,)))
        kl._zip(p(name), cfg, {"keras_version": "3.10.0"}, buf.getvalue())
    for name, opts in (("keras2_tcn.h5", {}), ("bad_tcn_weight_norm.h5", {"use_weight_norm": True})):
        cfg, f = tcn_config(False, opts)
        ws = [("tcn/%s/%s:0" % (g, w), arr(s)) for g, shapes in groups(opts) for w, s in zip(("kernel", "bias"), shapes)]
        kl.write_keras2_h5(p(name), config=cfg, keras_version="2.12.0", layers=[
            ("tcn", ws), ("dense", [("dense/kernel:0", arr((f, 1))), ("dense/bias:0", arr((1,)))])])


def record(path):
    try:
        config, kv, backend, weights = keras_reader.read_model(path)
    except Exception as e:  # the exporter's own refusals and h5py's
        return {"file": path, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    out = []
    for layer, label, a in weights:
        a = np.asarray(a)
        dt = "<f8" if a.dtype == np.float64 else "<f4"
        out.append({"layer": layer, "name": label, "dtype": dt, "shape": list(a.shape),
                    "data": base64.b64encode(np.ascontiguousarray(a, dtype=dt).tobytes()).decode()})
    return {"file": path, "ok": True, "config": config, "keras_version": kv, "backend": backend, "weights": out}


def main(argv):
    files = []
    if argv[:1] == ["--layouts"]:
        files += layouts(argv[1])
        argv = argv[2:]
    files += argv
    json.dump([record(f) for f in files], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
