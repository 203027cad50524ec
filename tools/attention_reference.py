#!/usr/bin/python3
"""Independent float64 reference for the attention CNN-BiLSTM survey fixture.

    /usr/bin/python3 tools/attention_reference.py     # (make fixtures runs it too)

Reads kerasfile/testdata/survey/attention-cnn-bilstm/stock_model.h5 (Keras
2.10) with h5py alone (not seqcast's readers), evaluates its functional graph
in float64 numpy from Keras 2's definitions, and writes into
parity/testdata/fixtures/attention-cnn-bilstm/:

  input.npy       (16, 20, 7) float32: seeded windows, uniform in [0, 1) like
                  the MinMax-scaled stock features the model was trained on
  reference.npy   (16, 1) float64: the model's output for them

The graph: Conv1D(64, 1, relu) -> Dropout -> Bidirectional(LSTM(64,
return_sequences, recurrent_activation=hard_sigmoid, implementation=1)) ->
Dropout -> Permute((2, 1)) -> Dense(20, softmax) -> Permute((2, 1)) ->
Multiply(with the BiLSTM output) -> Flatten -> Dense(1, sigmoid). Keras 2's
hard_sigmoid is clip(0.2 x + 0.5, 0, 1); implementation=1 only changes how
Keras schedules the products, not what they are. No output computed by Keras
comes with the file, so this reference is the check. Deterministic: rerunning
it rewrites identical bytes (tools/tests/test_attention_reference.py).
"""

import json
import os
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "kerasfile", "testdata", "survey", "attention-cnn-bilstm", "stock_model.h5")
OUT = os.path.join(ROOT, "parity", "testdata", "fixtures", "attention-cnn-bilstm")


def act(name):
    return {
        "linear": lambda x: x,
        "relu": lambda x: np.maximum(x, 0.0),
        "tanh": np.tanh,
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),  # Keras 2
        "softmax": lambda x: np.exp(x - x.max(axis=-1, keepdims=True))
        / np.exp(x - x.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True),
    }[name]


def lstm(x, W, U, b, cfg, backwards):
    n, T, _ = x.shape
    u = U.shape[0]
    f_act, r_act = act(cfg["activation"]), act(cfg["recurrent_activation"])
    h, c = np.zeros((n, u)), np.zeros((n, u))
    out = np.zeros((n, T, u))
    order = range(T - 1, -1, -1) if backwards else range(T)
    for s, t in enumerate(order):
        z = x[:, t] @ W + h @ U + b
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = r_act(f) * c + r_act(i) * f_act(g)
        h = r_act(o) * f_act(c)
        out[:, s] = h
    if backwards:
        out = out[:, ::-1]  # Bidirectional reverses the backward sequence back to time order
    return out


def weights(f, layer):
    g = f["model_weights"][layer]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
    return [np.asarray(g[n], dtype=np.float64) for n in names]


def forward(path, x):
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        assert f.attrs["keras_version"] in (b"2.10.0", "2.10.0")
        vals = {}
        for layer in cfg["config"]["layers"]:
            cls, c, name = layer["class_name"], layer["config"], layer["name"]
            ins = [vals[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            if cls == "InputLayer":
                y = x
            elif cls in ("Dropout",):
                y = ins[0]
            elif cls == "Conv1D":
                W, b = weights(f, name)
                assert c["padding"] == "valid" and c["strides"] == [1] and c["dilation_rate"] == [1]
                k = W.shape[0]
                L = ins[0].shape[1] - k + 1
                y = np.stack([np.einsum("nkc,kcf->nf", ins[0][:, t:t + k], W) for t in range(L)], axis=1) + b
                y = act(c["activation"])(y)
            elif cls == "Bidirectional":
                Wf, Uf, bf, Wb, Ub, bb = weights(f, name)
                inner = c["layer"]["config"]
                assert c["merge_mode"] == "concat" and inner["return_sequences"]
                y = np.concatenate([lstm(ins[0], Wf, Uf, bf, inner, False),
                                    lstm(ins[0], Wb, Ub, bb, inner, True)], axis=-1)
            elif cls == "Permute":
                y = np.transpose(ins[0], [0] + list(c["dims"]))
            elif cls == "Dense":
                W, b = weights(f, name)
                y = act(c["activation"])(ins[0] @ W + b)
            elif cls == "Multiply":
                y = ins[0] * ins[1]
            elif cls == "Flatten":
                y = ins[0].reshape(ins[0].shape[0], -1)
            else:
                raise SystemExit("attention_reference: no rule for %s" % cls)
            vals[name] = y
        return vals[cfg["config"]["output_layers"][0][0]]


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240612)
    x = rng.random((16, 20, 7), dtype=np.float64).astype(np.float32)
    y = forward(SRC, x.astype(np.float64))
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "reference.npy"), y)
    print("wrote %s: input %s, reference %s, outputs in [%.4f, %.4f]" % (out, x.shape, y.shape, y.min(), y.max()))


if __name__ == "__main__":
    main(*sys.argv[1:])
