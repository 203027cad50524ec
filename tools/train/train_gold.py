#!/usr/bin/python3
"""Train seqcast's default gold forecaster and write a seqcast bundle.

60 past daily gold prices (USD/oz) in, next day's price out. Architecture (Keras terms):
Input(60,1) -> Conv1D(64,3,relu,valid) -> MaxPooling1D(2) -> Bidirectional(LSTM(64, return_sequences=True))
-> Bidirectional(LSTM(32)) -> Dropout(0.2) -> Dense(16,relu) -> Dense(1)   (108,577 parameters)

Trained with PyTorch (CPU, one thread, fixed seed), weights mapped to Keras get_weights() layout, checked
against an independent float64 numpy implementation of the Keras forward pass (keras_numpy.py).

Usage (from the repository root):
    /usr/bin/python3 tools/train/train_gold.py --out models/gold
"""

import argparse
import copy
import csv
import hashlib
import json
import os
import shutil
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: one core, no spinning pool

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keras_config  # noqa: E402
import keras_numpy  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
WINDOW = 60
EPS = 1e-8
KERAS_VERSION = "2.15.0"  # dialect of model.json (Keras 2.13-2.15 to_json layout)


# ----------------------------------------------------------------------------------------------- data

def load_series(path):
    dates, prices = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            dates.append(row["Date"])
            prices.append(float(row["Price"]))
    dates = np.array(dates)
    prices = np.array(prices, dtype=np.float64)
    if not np.all(dates[1:] > dates[:-1]):
        raise ValueError(f"{path}: dates not strictly ascending")
    return dates, prices


def make_windows(prices):
    """X[i] = prices[i:i+W], y[i] = prices[i+W]; the target of window i is row i+W."""
    x = np.lib.stride_tricks.sliding_window_view(prices, WINDOW)[:-1].copy()
    y = prices[WINDOW:].copy()
    return x, y


# ------------------------------------------------------------------------------------------- scalers
# Each variant maps raw windows (N,W) to model inputs (N,W,1) and model outputs back to prices, exactly as
# the served scaler.json describes it.

class MinMax:
    kind = "minmax"

    def __init__(self, train_prices):
        self.data_min = float(train_prices.min())
        self.data_max = float(train_prices.max())
        self.scale = 1.0 / (self.data_max - self.data_min)  # feature_range (0, 1), as sklearn
        self.min = 0.0 - self.data_min * self.scale

    def inputs(self, xw):
        return (xw * self.scale + self.min)[..., None]

    def targets(self, xw, y):
        return y * self.scale + self.min

    def inverse(self, xw, out):
        return (out - self.min) / self.scale

    def scaler_json(self):
        s = {"kind": "minmax", "feature_range": [0.0, 1.0], "clip": False, "data_min": [self.data_min],
             "data_max": [self.data_max], "scale": [self.scale], "min": [self.min]}
        return {"format": "seqcast-scaler/1", "window": WINDOW, "input": s, "output": dict(s)}


class WindowZScore:
    kind = "window_zscore"

    @staticmethod
    def stats(xw):
        mu = xw.mean(axis=-1)
        sigma = xw.std(axis=-1) + EPS  # population std + eps
        return mu, sigma

    def inputs(self, xw):
        mu, sigma = self.stats(xw)
        return ((xw - mu[..., None]) / sigma[..., None])[..., None]

    def targets(self, xw, y):
        mu, sigma = self.stats(xw)
        return (y - mu) / sigma

    def inverse(self, xw, out):
        mu, sigma = self.stats(xw)
        return out * sigma + mu

    def scaler_json(self):
        s = {"kind": "window_zscore", "epsilon": EPS}
        return {"format": "seqcast-scaler/1", "window": WINDOW, "input": s,
                "output": {"kind": "window_zscore", "epsilon": EPS, "target_feature": 0}}


# --------------------------------------------------------------------------------------------- model

class GoldNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 64, 3)
        self.pool = torch.nn.MaxPool1d(2)
        self.bi1 = torch.nn.LSTM(64, 64, batch_first=True, bidirectional=True)
        self.bi2 = torch.nn.LSTM(128, 32, batch_first=True, bidirectional=True)
        self.drop = torch.nn.Dropout(0.2)
        self.dense = torch.nn.Linear(64, 16)
        self.dense_1 = torch.nn.Linear(16, 1)
        self._keras_like_init()

    def _keras_like_init(self):
        # Keras defaults: glorot_uniform kernels, orthogonal recurrent kernels, zero biases with the forget
        # gate bias at 1 (unit_forget_bias). PyTorch has two LSTM biases; put the 1 in b_ih only.
        for m in (self.conv, self.dense, self.dense_1):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
        for lstm in (self.bi1, self.bi2):
            u = lstm.hidden_size
            for sfx in ("", "_reverse"):
                w_ih = getattr(lstm, "weight_ih_l0" + sfx)
                w_hh = getattr(lstm, "weight_hh_l0" + sfx)
                torch.nn.init.xavier_uniform_(w_ih)
                for g in range(4):
                    torch.nn.init.orthogonal_(w_hh.data[g * u:(g + 1) * u])
                b_ih = getattr(lstm, "bias_ih_l0" + sfx)
                b_hh = getattr(lstm, "bias_hh_l0" + sfx)
                torch.nn.init.zeros_(b_ih)
                torch.nn.init.zeros_(b_hh)
                b_ih.data[u:2 * u] = 1.0

    def forward(self, x):  # x (N,60,1)
        h = torch.relu(self.conv(x.transpose(1, 2)))
        h = self.pool(h).transpose(1, 2)
        h, _ = self.bi1(h)
        _, (hn, _) = self.bi2(h)
        h = torch.cat([hn[-2], hn[-1]], dim=1)  # [forward after t=T-1, backward after t=0]
        h = torch.relu(self.dense(self.drop(h)))
        return self.dense_1(h)


def keras_weights(net):
    """The 18 arrays of Keras model.get_weights() (float32, Keras shapes)."""
    def a(t):
        return t.detach().cpu().numpy().astype(np.float32)

    out = [a(net.conv.weight).transpose(2, 1, 0).copy(), a(net.conv.bias)]  # (out,in,k) -> (k,in,out)
    for lstm in (net.bi1, net.bi2):
        for sfx in ("", "_reverse"):
            out.append(a(getattr(lstm, "weight_ih_l0" + sfx)).T.copy())   # (4u,in) -> (in,4u), gates i,f,g,o
            out.append(a(getattr(lstm, "weight_hh_l0" + sfx)).T.copy())   # (4u,u) -> (u,4u)
            out.append((a(getattr(lstm, "bias_ih_l0" + sfx)) + a(getattr(lstm, "bias_hh_l0" + sfx))))
    for d in (net.dense, net.dense_1):
        out += [a(d.weight).T.copy(), a(d.bias)]
    return out


def predict_torch(net, x):
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()[:, 0].astype(np.float64)


# ------------------------------------------------------------------------------------------- metrics

def metrics(actual, pred):
    err = actual - pred
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "mape": float(100.0 * np.mean(np.abs(err) / np.abs(actual)))}


def train_variant(scaler, xw, y, split, args, log):
    tr, va = split["train"], split["val"]
    x_tr = torch.from_numpy(scaler.inputs(xw[tr]).astype(np.float32))
    t_tr = torch.from_numpy(scaler.targets(xw[tr], y[tr]).astype(np.float32))[:, None]
    x_va = scaler.inputs(xw[va])

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    net = GoldNet()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)
    # Optional exponential moving average of the weights: evaluated and kept instead of the raw weights.
    ema = copy.deepcopy(net) if args.ema > 0 else None
    best = {"val_mae": float("inf"), "epoch": 0, "state": None}
    history = []
    n = x_tr.shape[0]
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        net.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(0, n, args.batch):
            idx = perm[s:s + args.batch]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x_tr[idx]), t_tr[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for pe, p in zip(ema.parameters(), net.parameters()):
                        pe.mul_(args.ema).add_(p, alpha=1.0 - args.ema)
            total += loss.item() * len(idx)
        evaluated = ema if ema is not None else net
        val_pred = scaler.inverse(xw[va], predict_torch(evaluated, x_va))
        vm = metrics(y[va], val_pred)
        history.append({"epoch": epoch, "train_loss": total / n, "val_mae": vm["mae"]})
        sched.step(vm["mae"])
        improved = vm["mae"] < best["val_mae"]
        if improved:
            best = {"val_mae": vm["mae"], "epoch": epoch,
                    "state": {k: v.clone() for k, v in evaluated.state_dict().items()}}
        log(f"[{scaler.kind}] epoch {epoch:3d} lr {opt.param_groups[0]['lr']:.1e} loss {total / n:.5f} "
            f"val_mae {vm['mae']:8.3f}"
            f"{' *' if improved else ''}  ({time.time() - te:.1f}s)")
        if epoch - best["epoch"] >= args.patience:
            log(f"[{scaler.kind}] early stop: no val improvement for {args.patience} epochs")
            break
    net.load_state_dict(best["state"])
    net.eval()
    return net, {"best_epoch": best["epoch"], "epochs_run": len(history),
                 "train_seconds": round(time.time() - t0, 1), "history": history}


# ------------------------------------------------------------------------------------------- writing

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def recursive_forecast(weights, scaler, xw, horizons):
    """Feed predictions back (as the API does for multi-step); returns {h: predictions (N,)}."""
    cur = xw.copy()
    out = {}
    for h in range(1, max(horizons) + 1):
        p = scaler.inverse(cur, keras_numpy.forward(scaler.inputs(cur), weights)[:, 0])
        if h in horizons:
            out[h] = p
        cur = np.concatenate([cur[:, 1:], p[:, None]], axis=1)
    return out


def quantiles(v, qs):
    return {f"{q:.2f}": float(np.quantile(v, q)) for q in qs}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "data", "gold_daily_usd.csv"))
    ap.add_argument("--out", required=True, help="bundle directory to (re)create, e.g. models/gold")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=int, default=30, help="max epochs per variant")
    ap.add_argument("--patience", type=int, default=6, help="early stopping patience (epochs)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema", type=float, default=0.995, help="EMA decay of the weights per step (0 = off)")
    ap.add_argument("--val-start", default="2015-09-01", help="first target date of the validation part")
    ap.add_argument("--test-start", default="2019-09-01", help="first target date of the test part")
    ap.add_argument("--variants", default="minmax,window_zscore")
    args = ap.parse_args()

    t_start = time.time()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    def log(msg):
        print(f"{time.time() - t_start:7.1f}s {msg}", flush=True)

    dates, prices = load_series(args.data)
    xw, y = make_windows(prices)
    tdates = dates[WINDOW:]
    split = {"train": np.flatnonzero(tdates < args.val_start),
             "val": np.flatnonzero((tdates >= args.val_start) & (tdates < args.test_start)),
             "test": np.flatnonzero(tdates >= args.test_start)}
    split_info = {k: {"first_target": str(tdates[v[0]]), "last_target": str(tdates[v[-1]]), "windows": int(len(v))}
                  for k, v in split.items()}
    log(f"data {args.data}: {len(prices)} rows {dates[0]}..{dates[-1]}; split {json.dumps(split_info)}")

    train_rows = dates < args.val_start  # MinMax is fitted on the training part only
    scalers = {"minmax": MinMax(prices[train_rows]), "window_zscore": WindowZScore()}
    naive = {part: metrics(y[idx], xw[idx, -1]) for part, idx in split.items() if part != "train"}
    log(f"naive (tomorrow = today): val {naive['val']}, test {naive['test']}")

    results = {}
    for name in args.variants.split(","):
        sc = scalers[name]
        net, info = train_variant(sc, xw, y, split, args, log)
        # Wall time stays in the log only, so that reruns write byte-identical bundles.
        res = {"best_epoch": info["best_epoch"], "epochs_run": info["epochs_run"]}
        for part in ("val", "test"):
            idx = split[part]
            res[part] = metrics(y[idx], sc.inverse(xw[idx], predict_torch(net, sc.inputs(xw[idx]))))
        results[name] = {"net": net, "metrics": res, "history": info["history"]}
        log(f"[{name}] best epoch {res['best_epoch']} ({info['train_seconds']}s): val {res['val']}, "
            f"test {res['test']}")

    winner = min(results, key=lambda k: results[k]["metrics"]["val"]["mae"])
    log(f"winner on validation MAE: {winner}")
    net, sc = results[winner]["net"], scalers[winner]
    weights = keras_weights(net)
    n_params = sum(w.size for w in weights)
    if len(weights) != 18 or n_params != 108577:
        raise RuntimeError(f"unexpected Keras weights: {len(weights)} arrays, {n_params} params")

    # Independent check: numpy float64 Keras forward vs torch float32 on the whole test set.
    test = split["test"]
    x_test = sc.inputs(xw[test])
    np_out = keras_numpy.forward(x_test.astype(np.float32), weights)[:, 0]
    torch_out = predict_torch(net, x_test)
    max_diff = float(np.max(np.abs(np_out - torch_out)))
    log(f"numpy float64 vs torch float32 on {len(test)} test windows: max |diff| {max_diff:.3e}")
    if max_diff >= 1e-5:
        raise RuntimeError(f"numpy Keras forward disagrees with torch: {max_diff}")

    # ------------------------------------------------------------------ bundle
    out = os.path.abspath(args.out)
    for sub in ("weights", "self_test"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    write_json(os.path.join(out, "model.json"), keras_config.gold_model_config(WINDOW, KERAS_VERSION))
    for i, w in enumerate(weights):
        np.save(os.path.join(out, "weights", f"{i:03d}.npy"), w.astype(np.float32))
    write_json(os.path.join(out, "scaler.json"), sc.scaler_json())

    # Self-test: 8 test windows spread over the test period, scaled as the model sees them; expected
    # outputs from the float64 numpy forward (not torch).
    pick = test[np.linspace(0, len(test) - 1, 8).round().astype(int)]
    st_in = sc.inputs(xw[pick]).astype(np.float32)
    st_out = keras_numpy.forward(st_in, weights)
    st_torch = predict_torch(net, st_in)
    st_diff = float(np.max(np.abs(st_out[:, 0] - st_torch)))
    if st_diff >= 1e-5:
        raise RuntimeError(f"self-test: numpy vs torch differ by {st_diff}")
    np.save(os.path.join(out, "self_test", "input.npy"), st_in)
    np.save(os.path.join(out, "self_test", "output.npy"), st_out.astype(np.float32))

    # Backtest on the test part with the served computation (numpy forward of the float32 weights).
    pred = sc.inverse(xw[test], np_out)
    act = y[test]
    rel = (act - pred) / pred
    qs = (0.05, 0.25, 0.5, 0.75, 0.95)
    m = metrics(act, pred)
    horizons = (1, 2, 3, 5, 10, 20)
    by_h = {}
    rec = recursive_forecast(weights, sc, xw[test], horizons)
    for h, p in rec.items():
        ok = np.flatnonzero(test + h - 1 < len(y))  # target row must exist
        a, pp = y[test[ok] + h - 1], p[ok]
        r = (a - pp) / pp
        by_h[str(h)] = {"n": int(len(ok)), "mae": float(np.mean(np.abs(a - pp))),
                        "mape": float(100 * np.mean(np.abs(a - pp) / a)),
                        "naive_mae": float(np.mean(np.abs(a - xw[test[ok], -1]))),
                        "relative_error_quantiles": quantiles(r, (0.05, 0.95))}
    backtest = {
        "format": "seqcast-backtest/1",
        "model": "gold",
        "split": split_info,
        "level": 0.9,
        "n": int(len(test)),
        "relative_error": "(actual - predicted) / predicted",
        "relative_error_quantiles": quantiles(rel, qs),
        "abs_error_quantiles": quantiles(np.abs(act - pred), (0.5, 0.9, 0.95)),
        "test_mae": m["mae"], "test_rmse": m["rmse"], "test_mape": m["mape"],
        "naive_test": naive["test"],
        "interval_rule": "interval = [p*(1+q05), p*(1+q95)]; width/p < 0.02 high, < 0.05 medium, else low",
        "recursive_horizons": by_h,
        "preprocessing": winner,
        "variants": {k: v["metrics"] for k, v in results.items()},
        "naive": naive,
        "numpy_vs_torch_max_abs_diff": max_diff,
    }
    write_json(os.path.join(out, "backtest.json"), backtest)

    files = ["model.json", "scaler.json", "backtest.json"] + \
        [f"weights/{i:03d}.npy" for i in range(len(weights))] + ["self_test/input.npy", "self_test/output.npy"]
    manifest = {"name": "gold", "version": "1.0.0", "keras_version": KERAS_VERSION,
                "files": {f: sha256(os.path.join(out, f)) for f in files},
                "self_test": {"input": "self_test/input.npy", "output": "self_test/output.npy", "tolerance": 1e-4}}
    write_json(os.path.join(out, "manifest.json"), manifest)

    log(f"test MAE {m['mae']:.3f} RMSE {m['rmse']:.3f} MAPE {m['mape']:.3f}% "
        f"(naive MAE {naive['test']['mae']:.3f} RMSE {naive['test']['rmse']:.3f} MAPE {naive['test']['mape']:.3f}%)")
    log(f"self-test numpy vs torch max |diff| {st_diff:.3e}; bundle written to {out}")
    log(f"total wall time {time.time() - t_start:.1f}s, CPU time {time.process_time():.1f}s")


if __name__ == "__main__":
    main()
