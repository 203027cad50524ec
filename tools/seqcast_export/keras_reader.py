"""Read a saved Keras model (config + weights in get_weights() order) with h5py.

Supported files (see docs in shared keras-formats notes and tools/README.md):
  * Keras 2.x legacy .h5  (byte-string names, ":0" suffixes, session-global
    cell counters; iterate weight_names in order per layer, layer_names order)
  * Keras 3 legacy .h5    (str names with a model-name prefix, no ":0")
  * Keras 3 .keras zip     (config.json + model.weights.h5, layers/<key>/vars/<i>)
  * Keras 2.13 .keras zip  (root _layer_checkpoint_dependencies, counters with gaps)
Optimizer state is never read.
"""

import io
import json
import re
import zipfile

import h5py
import numpy as np


class ExportError(Exception):
    """Something in the model file cannot be mapped; the message names it."""


# --- config ----------------------------------------------------------------

# ConvLSTM1D/2D keep their cell like LSTM: kernel, recurrent_kernel, bias; .keras
# layers/<key>/cell/vars (kerasfile/layers_convlstm.go has the layouts).
RNN_CLASSES = {"LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "ConvLSTM1D", "ConvLSTM2D"}
KERNEL_CLASSES = {"Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                  "DepthwiseConv1D", "DepthwiseConv2D", "LocallyConnected1D"}
WEIGHTLESS = {
    "InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "Flatten", "Reshape", "Permute", "RepeatVector", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
    "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
    "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
    "MaxPool1D", "AvgPool1D", "GlobalMaxPool1D", "GlobalAvgPool1D",
    "Cropping1D", "ZeroPadding1D", "UpSampling1D", "Masking",
    "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "ActivityRegularization", "Identity", "Rescaling",
}
MODEL_CLASSES = {"Sequential", "Functional", "Model"}
# MultiHeadAttention's EinsumDense sublayers: their .h5 names, in get_weights()
# order, and the .keras groups that hold their vars (Keras 2.13 archives may
# prefix an underscore).
MHA_SUBLAYERS = ["query", "key", "value", "attention_output"]
MHA_GROUPS = ["query_dense", "key_dense", "value_dense", "output_dense"]


def layer_name(layer):
    return layer.get("name") or layer.get("config", {}).get("name")


def model_layers(config):
    """The model's layer configs in model.layers order."""
    cls = config.get("class_name")
    if cls not in MODEL_CLASSES:
        raise ExportError("model config: top-level class %r is not Sequential or a functional Model" % cls)
    inner = config.get("config")
    if isinstance(inner, list):  # Keras <= 2.2.2 Sequential
        layers = inner
    elif isinstance(inner, dict) and isinstance(inner.get("layers"), list):
        layers = inner["layers"]
    else:
        raise ExportError("model config: no layer list")
    for l in layers:
        if l.get("class_name") in MODEL_CLASSES:
            raise ExportError("layer %r: nested models (%s) are not supported; flatten the model first"
                              % (layer_name(l), l.get("class_name")))
    return layers


def expected_names(layer):
    """Weight base names in get_weights() order, or None for an unknown class."""
    cls = layer.get("class_name")
    c = layer.get("config", {}) or {}
    bias = ["bias"] if c.get("use_bias", True) else []
    if cls in KERNEL_CLASSES:
        return ["kernel"] + bias  # Keras 2 DepthwiseConv calls it depthwise_kernel: see _check_names
    if cls in ("SeparableConv1D", "SeparableConv2D"):
        return ["depthwise_kernel", "pointwise_kernel"] + bias
    if cls in RNN_CLASSES:
        if cls.startswith("CuDNN"):
            return ["kernel", "recurrent_kernel", "bias"]
        return ["kernel", "recurrent_kernel"] + bias
    if cls == "Bidirectional":
        fwd = c.get("layer")
        if not isinstance(fwd, dict):
            raise ExportError("layer %r: Bidirectional without an inner layer config" % layer_name(layer))
        bwd = c.get("backward_layer") or fwd
        f, b = expected_names(fwd), expected_names(bwd)
        if f is None or b is None:
            return None
        return ["forward/" + n for n in f] + ["backward/" + n for n in b]
    if cls == "TimeDistributed":
        inner = c.get("layer")
        if not isinstance(inner, dict):
            raise ExportError("layer %r: TimeDistributed without an inner layer config" % layer_name(layer))
        return expected_names(inner)
    if cls == "BatchNormalization":
        return (["gamma"] if c.get("scale", True) else []) + (["beta"] if c.get("center", True) else []) + \
            ["moving_mean", "moving_variance"]
    if cls == "LayerNormalization":
        rms = c.get("rms_scaling", False)
        return (["gamma"] if c.get("scale", True) else []) + \
            (["beta"] if c.get("center", True) and not rms else [])
    if cls == "MultiHeadAttention":
        return [sub + "/" + w for sub in MHA_SUBLAYERS for w in ["kernel"] + bias]
    if cls == "EinsumDense":
        return ["kernel"] + (["bias"] if c.get("bias_axes") else [])
    if cls == "Attention":
        return (["scale"] if c.get("use_scale", False) else []) + \
            (["concat_score_weight"] if c.get("score_mode") == "concat" else [])
    if cls == "AdditiveAttention":
        return ["scale"] if c.get("use_scale", True) else []
    if cls == "PReLU":
        return ["alpha"]
    if cls == "Embedding":
        return ["embeddings"]
    if cls == "Normalization":
        # adapt()'s statistics; none when the config gives mean and variance
        return [] if c.get("mean") is not None else ["mean", "variance", "count"]
    if cls == "TCN":
        return tcn_names(layer)
    if cls in WEIGHTLESS:
        return []
    return None


def _tcn_ints(c, key, default):
    v = c.get(key)
    if v is None:
        return default
    lst = v if isinstance(v, list) else [v]
    if not lst or len(lst) > 1024 or not all(isinstance(e, (int, float)) and not isinstance(e, bool)
                                             and e >= 1 and e == int(e) and e <= 1 << 30 for e in lst):
        raise ExportError("layer %r: TCN option %s: want a positive integer or a list of them" % (c.get("name"), key))
    return [int(e) for e in lst]


def tcn_names(layer):
    """keras-tcn's TCN: per residual block, conv1D_0, its norm, conv1D_1, its
    norm, then matching_conv1D when the block's input channels differ from its
    filters, as directory/base names (the .keras groups; see
    kerasfile/layers_tcn.go)."""
    c = layer.get("config", {}) or {}
    name = layer_name(layer)
    if c.get("use_weight_norm"):
        raise ExportError("layer %r: TCN with use_weight_norm=true (tensorflow_addons' WeightNormalization) is not "
                          "supported: only use_weight_norm=false" % name)
    filters = _tcn_ints(c, "nb_filters", [64])
    dilations = _tcn_ints(c, "dilations", [1, 2, 4, 8, 16, 32])
    if len(filters) not in (1, len(dilations)):
        raise ExportError("layer %r: TCN option nb_filters: %d counts for %d dilations" % (name, len(filters), len(dilations)))
    stacks = c.get("nb_stacks", 1)
    if not isinstance(stacks, (int, float)) or stacks < 1 or stacks * len(dilations) > 1024:
        raise ExportError("layer %r: TCN option nb_stacks: want 1 to 1024 blocks in all" % name)
    shape = (layer.get("build_config") or {}).get("input_shape") or c.get("batch_input_shape")
    last = shape[-1] if isinstance(shape, list) and shape else None
    if not isinstance(last, (int, float)) or isinstance(last, bool) or last < 1 or last != int(last) or last > 1 << 30:
        raise ExportError("layer %r: TCN: the config gives no input shape (build_config or batch_input_shape), which "
                          "tells whether its first residual block has a matching_conv1D" % name)
    cin = int(last)
    group, norm = None, []
    if c.get("use_batch_norm"):
        group, norm = "batch_norm_layers/batch_normalization", ["gamma", "beta", "moving_mean", "moving_variance"]
    elif c.get("use_layer_norm"):
        group, norm = "layer_norm_layers/layer_normalization", ["gamma", "beta"]
    out = []
    k = 0
    for _ in range(int(stacks)):
        for i in range(len(dilations)):
            f = filters[0] if len(filters) == 1 else filters[i]
            block = "residual_block_%d/" % k
            for j in range(2):
                out += [block + "conv1D_%d/kernel" % j, block + "conv1D_%d/bias" % j]
                g = group + ("_1" if j else "") if group else None
                out += [block + g + "/" + n for n in norm]
            if cin != f:
                out += [block + "matching_conv1D/kernel", block + "matching_conv1D/bias"]
            cin = f
            k += 1
    return out


def expected_count(layer):
    n = expected_names(layer)
    return None if n is None else len(n)


# --- helpers -------------------------------------------------------------


def _decode(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.bytes_):
        return bytes(v).decode("utf-8")
    return str(v)


def _name_list(attrs, key, where):
    """A list of names from an h5 attribute that may be |S bytes, str, or an
    empty float64 array (Keras 2 writes [] that way)."""
    if key not in attrs:
        raise ExportError("%s: no %s attribute" % (where, key))
    v = attrs[key]
    if isinstance(v, (bytes, str)):
        return [_decode(v)]
    a = np.asarray(v)
    if a.size == 0:
        return []
    if a.dtype.kind not in "SOU":
        raise ExportError("%s: %s attribute has dtype %s" % (where, key, a.dtype))
    return [_decode(x) for x in a.reshape(-1)]


def _attr_str(attrs, key):
    if key not in attrs:
        return None
    return _decode(attrs[key])


def _base(weight_name):
    n = weight_name.rsplit("/", 1)[-1]
    return n[:-2] if n.endswith(":0") else n


def _check_names(layer, names, where):
    """Check weight base names against the class's known order (h5 only)."""
    want = expected_names(layer)
    if want is None:
        return
    got = [_base(n) for n in names]
    w = [x.rsplit("/", 1)[-1] for x in want]
    # Keras 2 DepthwiseConv calls its kernel depthwise_kernel
    got_norm = ["kernel" if g == "depthwise_kernel" and layer.get("class_name", "").startswith("Depthwise") else g
                for g in got]
    if got_norm != w:
        raise ExportError("%s (%s): weights are %s, expected %s in this order"
                          % (where, layer.get("class_name"), names, w))
    if layer.get("class_name") == "Bidirectional":
        half = len(expected_names(layer.get("config", {}).get("layer")))
        for i, n in enumerate(names):
            side = "forward" if i < half else "backward"
            if side not in n:
                raise ExportError("%s: weight %d %r should belong to the %s layer" % (where, i, n, side))


# Classes with an integer weight the model never computes with: an adapted
# Normalization's count (an int64 scalar in Keras files; inference reads only
# mean and variance). It is kept as float32, as seqcast's reader does.
INT_WEIGHT_CLASSES = {"Normalization"}


def _as_array(ds, where, cls=None):
    a = ds[()]
    a = np.asarray(a)
    if a.dtype.kind in "iu" and cls in INT_WEIGHT_CLASSES:
        return a.astype(np.float32)
    if a.dtype.kind != "f":
        raise ExportError("%s: dtype %s is not a float type" % (where, a.dtype))
    return a


def _check_count(layer, arrays, where):
    want = expected_count(layer)
    cls = layer.get("class_name")
    if want is None:
        if arrays:
            raise ExportError("%s: unsupported layer class %s holds %d weight arrays; seqcast cannot map them"
                              % (where, cls, len(arrays)))
        return
    if len(arrays) != want:
        raise ExportError("%s (%s): config implies %d weight arrays, file has %d"
                          % (where, cls, want, len(arrays)))


# --- legacy h5 -------------------------------------------------------------


def _read_legacy_h5(f, src):
    raw = f.attrs.get("model_config")
    if raw is None:
        raise ExportError("%s: no model_config attribute; weights-only .h5 files (save_weights) carry no "
                          "architecture, save the whole model instead" % src)
    config = json.loads(_decode(raw))
    keras_version = _attr_str(f.attrs, "keras_version")
    backend = _attr_str(f.attrs, "backend")
    if "model_weights" not in f:
        raise ExportError("%s: no model_weights group" % src)
    mw = f["model_weights"]
    layer_names = _name_list(mw.attrs, "layer_names", src + ": model_weights")
    layers = model_layers(config)
    by_name = {}
    for l in layers:
        n = layer_name(l)
        if n in by_name:
            raise ExportError("%s: two layers named %r in the config" % (src, n))
        by_name[n] = l
    weights = []  # (layer name, weight label, array)
    seen = []
    for ln in layer_names:
        where = "layer %r" % ln
        if ln not in mw:
            raise ExportError("%s: %s listed in layer_names has no group model_weights/%s" % (src, where, ln))
        g = mw[ln]
        names = _name_list(g.attrs, "weight_names", "model_weights/" + ln)
        layer = by_name.get(ln)
        if layer is None:
            if names:
                raise ExportError("%s: %s has %d weights but is not in the model config" % (src, where, len(names)))
            continue
        arrays = []
        for wn in names:
            if wn not in g:
                raise ExportError("%s: %s: weight %r has no dataset model_weights/%s/%s" % (src, where, wn, ln, wn))
            obj = g[wn]
            if not isinstance(obj, h5py.Dataset):
                raise ExportError("%s: model_weights/%s/%s is not a dataset" % (src, ln, wn))
            arrays.append(_as_array(obj, "model_weights/%s/%s" % (ln, wn), layer.get("class_name")))
        _check_count(layer, arrays, where)
        _check_names(layer, names, where)
        seen.append(ln)
        weights.extend((ln, wn, a) for wn, a in zip(names, arrays))
    for l in layers:
        n = layer_name(l)
        want = expected_count(l)
        if n not in seen and want:
            raise ExportError("%s: layer %r (%s) needs %d weight arrays but model_weights/layer_names does not list it"
                              % (src, n, l.get("class_name"), want))
    order = [layer_name(l) for l in layers if layer_name(l) in seen]
    if order != seen:
        raise ExportError("%s: layer_names order %s differs from the config's layer order %s" % (src, seen, order))
    return config, keras_version, backend, weights


# --- .keras zip --------------------------------------------------------------


def snake_case(name):
    """keras.src.utils.naming.to_snake_case: Keras 3's .keras group key of a class."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def snake_case_keras2(name):
    """Keras 2's generic_utils.to_snake_case, the key Keras 2.13-2.15's
    saving_lib gives a class in a .keras archive: a capital followed by digits
    starts a word too (ConvLSTM2D -> conv_lst_m2d, Keras 3's conv_lstm2d); the
    other supported classes get the same key from both."""
    name = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name if not name.startswith("_") else name[2:]


def _numbered(g, where, cls=None):
    """Datasets 0..n-1 of a vars group, in numeric order."""
    keys = list(g.keys())
    for k in keys:
        if not k.isdigit():
            raise ExportError("%s: unexpected entry %r in vars" % (where, k))
    idx = sorted(int(k) for k in keys)
    if idx != list(range(len(idx))):
        raise ExportError("%s: vars are numbered %s, not 0..%d" % (where, idx, len(idx) - 1))
    return [(where + "/" + str(i), _as_array(g[str(i)], where + "/" + str(i), cls)) for i in idx]


def _vars(g, path, cls=None):
    if "vars" not in g:
        return []
    return _numbered(g["vars"], path + "/vars", cls)


def _read_keras_layer(g, path, layer, consumed):
    cls = layer.get("class_name")
    c = layer.get("config", {}) or {}
    out = []
    if cls == "Bidirectional":
        out += _vars(g, path)
        bwd = c.get("backward_layer") or c.get("layer")
        for sub, cfg in (("forward_layer", c.get("layer")), ("backward_layer", bwd)):
            if sub not in g:
                raise ExportError("%s: Bidirectional has no %s group" % (path, sub))
            out += _read_keras_layer(g[sub], path + "/" + sub, cfg, consumed)
    elif cls == "TimeDistributed":
        out += _vars(g, path)
        if "layer" not in g:
            raise ExportError("%s: TimeDistributed has no layer group" % path)
        out += _read_keras_layer(g["layer"], path + "/layer", c.get("layer"), consumed)
    elif cls == "MultiHeadAttention":
        out += _vars(g, path)
        for sub in MHA_GROUPS:
            if sub not in g and "_" + sub in g:
                sub = "_" + sub
            if sub not in g:
                raise ExportError("%s: MultiHeadAttention has no %s group" % (path, sub))
            out += _vars(g[sub], path + "/" + sub)
    elif cls == "TCN":
        out += _vars(g, path)
        names = tcn_names(layer)
        i = 0
        while i < len(names):
            d = names[i].rsplit("/", 1)[0]
            j = i
            while j < len(names) and names[j].rsplit("/", 1)[0] == d:
                j += 1
            sg = g
            for part in d.split("/"):
                if part not in sg:
                    raise ExportError("%s: TCN has no %s group" % (path, d))
                sg = sg[part]
            arrs = _vars(sg, path + "/" + d)
            if len(arrs) != j - i:
                raise ExportError("%s/%s: holds %d weight arrays, want %d (%s)"
                                  % (path, d, len(arrs), j - i, ", ".join(names[i:j])))
            out += arrs
            i = j
    elif cls in RNN_CLASSES:
        out += _vars(g, path)
        if "cell" in g:
            out += _vars(g["cell"], path + "/cell")
    else:
        out += _vars(g, path, cls)
    consumed.update(p for p, _ in out)
    return out


def _datasets_under(g, path):
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found.append(path + "/" + name)
    g.visititems(visit)
    return found


def _read_keras_zip(src):
    try:
        z = zipfile.ZipFile(src)
    except zipfile.BadZipFile as e:
        raise ExportError("%s: not a zip file (%s)" % (src, e)) from None
    with z:
        names = set(z.namelist())
        for need in ("config.json", "model.weights.h5"):
            if need not in names:
                raise ExportError("%s: .keras archive has no %s" % (src, need))
        config = json.loads(z.read("config.json"))
        meta = json.loads(z.read("metadata.json")) if "metadata.json" in names else {}
        wbytes = z.read("model.weights.h5")
    keras_version = meta.get("keras_version")
    backend = meta.get("backend")
    layers = model_layers(config)
    f = h5py.File(io.BytesIO(wbytes), "r")
    with f:
        if "layers" in f:
            root, rootname = f["layers"], "layers"
        elif "_layer_checkpoint_dependencies" in f:
            root, rootname = f["_layer_checkpoint_dependencies"], "_layer_checkpoint_dependencies"
        else:
            raise ExportError("%s: model.weights.h5 has neither layers/ nor _layer_checkpoint_dependencies/ (has %s)"
                              % (src, sorted(f.keys())))
        # Keys are snake_case(class) + a per-class counter; map the n-th layer
        # of a class to the n-th key of that class sorted by numeric suffix.
        # Keras 2.13-2.15 use Keras 2's snake case.
        snake = snake_case if rootname == "layers" else snake_case_keras2
        keys = list(root.keys())
        classes = []
        for l in layers:
            s = snake(l.get("class_name", ""))
            if s not in classes:
                classes.append(s)
        by_class = {}
        claimed = set()
        for s in sorted(classes, key=len, reverse=True):
            pat = re.compile("^" + re.escape(s) + r"(?:_(\d+))?$")
            ks = [(int(m.group(1) or 0), k) for k in keys if k not in claimed for m in [pat.match(k)] if m]
            ks.sort()
            by_class[s] = [k for _, k in ks]
            claimed.update(by_class[s])
        counters = {}
        weights = []
        consumed = set()
        used_keys = set()
        for l in layers:
            n = layer_name(l)
            s = snake(l.get("class_name", ""))
            i = counters.get(s, 0)
            counters[s] = i + 1
            key = by_class[s][i] if i < len(by_class[s]) else None
            if key is None and n in root and n not in claimed:
                key = n  # a custom-named layer keyed by its name
            where = "layer %r" % n
            want = expected_count(l)
            if key is None:
                if want:
                    raise ExportError("%s: %s (%s) needs %d weight arrays but %s/ has no group for it (keys of class "
                                      "%r: %s)" % (src, where, l.get("class_name"), want, rootname, s, by_class[s]))
                if want is None:
                    raise ExportError("%s: %s: unsupported layer class %s" % (src, where, l.get("class_name")))
                continue
            used_keys.add(key)
            g = root[key]
            path = rootname + "/" + key
            stored = g["vars"].attrs.get("name") if "vars" in g else None
            if stored is not None and _decode(stored) != n:
                raise ExportError("%s: %s maps to %s by class order, but that group is named %r"
                                  % (src, where, path, _decode(stored)))
            arrs = _read_keras_layer(g, path, l, consumed)
            _check_count(l, [a for _, a in arrs], where + " at " + path)
            weights.extend((n, p, a) for p, a in arrs)
        for k in keys:
            path = rootname + "/" + k
            left = [p for p in _datasets_under(root[k], path)
                    if p not in consumed and "seed_generator" not in p]
            if left:
                raise ExportError("%s: weights not mapped to any config layer: %s" % (src, left))
    return config, keras_version, backend, weights


def read_model(src):
    """Return (config, keras_version, backend, [(layer, label, ndarray), ...])."""
    with open(src, "rb") as fh:
        magic = fh.read(8)
    if magic[:4] == b"PK\x03\x04":
        return _read_keras_zip(src)
    if magic == b"\x89HDF\r\n\x1a\n":
        with h5py.File(src, "r") as f:
            if "model_weights" not in f and ("layers" in f or "_layer_checkpoint_dependencies" in f):
                raise ExportError("%s: this is a bare model.weights.h5 without the model config; "
                                  "export the .keras file instead" % src)
            return _read_legacy_h5(f, src)
    raise ExportError("%s: neither a .keras zip nor an HDF5 file" % src)
