"""Independent float64 numpy forward pass of the canonical seqcast gold architecture.

Input(60,1) -> Conv1D(64,3,relu,valid) -> MaxPooling1D(2) -> Bidirectional(LSTM(64, return_sequences=True))
-> Bidirectional(LSTM(32)) -> Dropout(0.2) -> Dense(16,relu) -> Dense(1)

It takes the weights in Keras layout and Keras get_weights() order (18 arrays) and implements the Keras
semantics directly (it shares no code with the PyTorch training model), so it can serve as the reference
for a bundle's self-test. Dropout is the identity at inference.
"""

import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def conv1d_valid(x, kernel, bias):
    """x (N,T,C), kernel (k,C,F), bias (F,) -> (N,T-k+1,F): y[t] = sum_j x[t+j] @ W[j] + b."""
    k = kernel.shape[0]
    t_out = x.shape[1] - k + 1
    y = np.zeros((x.shape[0], t_out, kernel.shape[2]), dtype=np.float64)
    for j in range(k):
        y += x[:, j:j + t_out, :] @ kernel[j]
    return y + bias


def maxpool1d(x, pool=2, stride=2):
    t_out = (x.shape[1] - pool) // stride + 1
    windows = [x[:, s * stride:s * stride + pool, :].max(axis=1) for s in range(t_out)]
    return np.stack(windows, axis=1)


def lstm(x, kernel, recurrent, bias, reverse=False):
    """Keras LSTM (tanh / sigmoid, gate blocks [i, f, c, o]). Returns all step outputs in the order the
    steps were processed (for reverse=True that is reversed time order), shape (N,T,u)."""
    n, t_len, _ = x.shape
    u = recurrent.shape[0]
    h = np.zeros((n, u))
    c = np.zeros((n, u))
    steps = range(t_len - 1, -1, -1) if reverse else range(t_len)
    outs = []
    for t in steps:
        z = x[:, t, :] @ kernel + h @ recurrent + bias
        i = _sigmoid(z[:, :u])
        f = _sigmoid(z[:, u:2 * u])
        g = np.tanh(z[:, 2 * u:3 * u])
        o = _sigmoid(z[:, 3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, axis=1)


def bidirectional(x, fw, bw, return_sequences):
    f = lstm(x, *fw)
    b = lstm(x, *bw, reverse=True)
    if return_sequences:
        # Keras reverses the backward outputs back into time order before concatenating.
        return np.concatenate([f, b[:, ::-1, :]], axis=-1)
    # Last processed step of each direction: forward after t=T-1, backward after t=0.
    return np.concatenate([f[:, -1, :], b[:, -1, :]], axis=-1)


def forward(x, weights):
    """x (N,60,1) in model (scaled) space; weights: 18 arrays in Keras get_weights() order. Returns (N,1)."""
    w = [np.asarray(a, dtype=np.float64) for a in weights]
    if len(w) != 18:
        raise ValueError(f"keras_numpy: want 18 weight arrays, got {len(w)}")
    h = np.asarray(x, dtype=np.float64)
    h = np.maximum(conv1d_valid(h, w[0], w[1]), 0.0)
    h = maxpool1d(h, 2, 2)
    h = bidirectional(h, w[2:5], w[5:8], return_sequences=True)
    h = bidirectional(h, w[8:11], w[11:14], return_sequences=False)
    h = np.maximum(h @ w[14] + w[15], 0.0)  # dropout is identity at inference
    return h @ w[16] + w[17]
