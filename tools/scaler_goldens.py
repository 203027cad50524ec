#!/usr/bin/python3
"""Write scaler/testdata/*.json: scikit-learn parity goldens for package scaler.

    /usr/bin/python3 tools/scaler_goldens.py          # needs Debian's python3-sklearn

For every scaler kind and option the script fits the real scikit-learn scaler
on random data, converts it to a seqcast-scaler/1 SCALER object THROUGH THE
EXPORTER (pickle.dumps -> tools/seqcast_export/safe_pickle.py), and records
inputs and what scikit-learn's transform / inverse_transform returned. The Go
test (scaler/golden_test.go) must reproduce them within 1e-12 relative.
window_zscore goldens follow the sales-bilstm notebook in float64 numpy:
mu = X.mean(axis=1), sigma = X.std(axis=1) + eps, (X-mu)/sigma, y*sigma+mu.

Output is deterministic (fixed seeds); rerun after changing the exporter's
scaler conversion and commit the result.
"""

import json
import os
import pickle
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from seqcast_export import safe_pickle  # noqa: E402


def cases():
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
    rng = np.random.default_rng(20261122)

    def data(n=40, f=3, const=False):
        x = rng.normal(size=(n, f)) * np.array([1.0, 250.0, 0.01][:f]) + np.array([3.0, -1200.0, 0.5][:f])
        if const:
            x[:, -1] = 7.25
        return x

    yield "minmax_default", MinMaxScaler(), data()
    yield "minmax_range", MinMaxScaler(feature_range=(-1, 1)), data()
    yield "minmax_clip", MinMaxScaler(feature_range=(0.1, 0.9), clip=True), data()
    yield "minmax_constant", MinMaxScaler(), data(const=True)
    yield "standard_default", StandardScaler(), data()
    yield "standard_no_mean", StandardScaler(with_mean=False), data()
    yield "standard_no_std", StandardScaler(with_std=False), data()
    yield "standard_constant", StandardScaler(), data(const=True)
    yield "robust_default", RobustScaler(), data()
    yield "robust_no_centering", RobustScaler(with_centering=False), data()
    yield "robust_no_scaling", RobustScaler(with_scaling=False), data()
    yield "robust_quantiles", RobustScaler(quantile_range=(10.0, 90.0), unit_variance=True), data()
    yield "robust_constant", RobustScaler(), data(const=True)


def rows(a):
    return [[float(v) for v in r] for r in np.asarray(a, dtype=np.float64)]


def sklearn_goldens():
    rng = np.random.default_rng(7)
    for name, sc, x in cases():
        sc.fit(x)
        spec = safe_pickle.scaler_json(safe_pickle.loads(pickle.dumps(sc), name), name)
        # inputs beyond the fitted range too, so clip matters
        xt = np.concatenate([x[:5], x[:5] * 1.5 + 0.3, rng.normal(size=(3, x.shape[1])) * 1e3])
        yt = sc.transform(xt)
        zi = rng.normal(size=(6, x.shape[1]))
        zo = sc.inverse_transform(zi)
        yield name, {"name": name, "sklearn": sc.__class__.__name__, "params": sc.get_params(),
                     "scaler": spec, "width": int(x.shape[1]),
                     "x": rows(xt), "transform": rows(yt),
                     "inverse_input": rows(zi), "inverse": rows(zo)}


def window_goldens():
    rng = np.random.default_rng(11)
    for name, T, F, feats, target, eps in (("window_zscore_univariate", 8, 1, None, 0, 1e-8),
                                           ("window_zscore_multivariate", 12, 3, None, 2, 1e-8),
                                           ("window_zscore_features", 6, 4, [0, 2], 2, 1e-3)):
        n = 5
        x = rng.normal(size=(n, T, F)) * 4e3 + 4e4
        x[0, :, 0] = 123.0  # constant window: sigma = eps
        idx = list(range(F)) if feats is None else feats
        mu = x.mean(axis=1)
        sigma = x.std(axis=1) + eps
        xs = x.copy()
        xs[:, :, idx] = ((x - mu[:, None, :]) / sigma[:, None, :])[:, :, idx]
        y = rng.normal(size=(n, 2))
        inv = y * sigma[:, target][:, None] + mu[:, target][:, None]
        inp = {"kind": "window_zscore", "epsilon": eps}
        if feats is not None:
            inp["features"] = feats
        yield name, {"name": name, "scaler": {"format": "seqcast-scaler/1", "window": T, "input": inp,
                                              "output": {"kind": "window_zscore", "epsilon": eps,
                                                         "target_feature": target}},
                     "T": T, "F": F, "x": [rows(w) for w in x], "transform": [rows(w) for w in xs],
                     "y": rows(y), "inverse": rows(inv)}


def main():
    import sklearn
    out = os.path.join(os.path.dirname(HERE), "scaler", "testdata")
    os.makedirs(out, exist_ok=True)
    n = 0
    for gen in (sklearn_goldens(), window_goldens()):
        for name, doc in gen:
            doc["generator"] = "tools/scaler_goldens.py (scikit-learn %s, numpy %s)" % (sklearn.__version__, np.__version__)
            with open(os.path.join(out, name + ".json"), "w") as f:
                json.dump(doc, f, indent=1, sort_keys=True)
                f.write("\n")
            n += 1
    print("scaler_goldens: wrote %d files to %s" % (n, out))


if __name__ == "__main__":
    main()
