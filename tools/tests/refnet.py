"""A float64 numpy forward pass over a seqcast bundle, for the layers the
real-world fixtures use (Conv1D, MaxPooling1D, GlobalAveragePooling1D,
Dropout, Bidirectional(LSTM), LSTM, Dense). It is a check on the exporter's
weight order that does not depend on the Go engine."""

import json
import os

import numpy as np


def _act(name):
    return {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0), "tanh": np.tanh,
            "sigmoid": lambda x: 1 / (1 + np.exp(-x))}[name or "linear"]


def _lstm(x, W, U, b, cfg, reverse=False):
    n, T, _ = x.shape
    u = U.shape[0]
    act, ract = _act(cfg.get("activation", "tanh")), _act(cfg.get("recurrent_activation", "sigmoid"))
    h = np.zeros((n, u))
    c = np.zeros((n, u))
    outs = []
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        z = x[:, t] @ W + h @ U + b
        i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        c = ract(f) * c + ract(i) * act(g)
        h = ract(o) * act(c)
        outs.append(h)
    if cfg.get("return_sequences"):
        s = np.stack(outs, axis=1)
        return s[:, ::-1] if reverse else s
    return h


def _k(v):
    return v[0] if isinstance(v, list) else v


def forward(bundle, x):
    with open(os.path.join(bundle, "model.json")) as f:
        cfg = json.load(f)
    wdir = os.path.join(bundle, "weights")
    ws = [np.load(os.path.join(wdir, n)).astype(np.float64) for n in sorted(os.listdir(wdir))]
    k = 0
    h = np.asarray(x, dtype=np.float64)
    for layer in cfg["config"]["layers"]:
        cls, c = layer["class_name"], layer["config"]
        if cls in ("InputLayer", "Dropout"):
            continue
        if cls == "Conv1D":
            W, b = ws[k], ws[k + 1]
            k += 2
            ks = W.shape[0]
            if c["padding"] == "causal":
                h = np.concatenate([np.zeros((h.shape[0], ks - 1, h.shape[2])), h], axis=1)
            L = h.shape[1] - ks + 1
            h = _act(c["activation"])(np.stack([np.einsum("nkc,kcf->nf", h[:, t:t + ks], W) for t in range(L)], 1) + b)
        elif cls == "MaxPooling1D":
            p, s = _k(c["pool_size"]), _k(c["strides"])
            L = (h.shape[1] - p) // s + 1
            h = np.stack([h[:, t * s:t * s + p].max(axis=1) for t in range(L)], 1)
        elif cls == "GlobalAveragePooling1D":
            h = h.mean(axis=1)
        elif cls == "Bidirectional":
            fc, bc = c["layer"]["config"], (c.get("backward_layer") or c["layer"])["config"]
            f = _lstm(h, *ws[k:k + 3], fc)
            b = _lstm(h, *ws[k + 3:k + 6], bc, reverse=True)
            k += 6
            h = np.concatenate([f, b], axis=-1)
        elif cls == "LSTM":
            h = _lstm(h, *ws[k:k + 3], c)
            k += 3
        elif cls == "Dense":
            h = _act(c["activation"])(h @ ws[k] + ws[k + 1])
            k += 2
        else:
            raise NotImplementedError(cls)
    assert k == len(ws), "used %d of %d weight arrays" % (k, len(ws))
    return h
