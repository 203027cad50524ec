'use strict';
// Translates a Keras model.json of any dialect (Keras <= 2.12, 2.13-2.15,
// Keras 3) into the Keras 2 topology that tfjs-layers 4.22 reads, replacing
// what TF.js lacks by the classes of tfjs_ext.js. Pure JSON in, JSON out (no
// TF.js needed), so that it can be tested on its own.

/** kerasMajor returns the major version from a model.json's keras_version. */
function kerasMajor(model) {
  const v = model.keras_version;
  if (typeof v !== 'string' || !/^\d+\./.test(v)) {
    throw new Error(`translate: model.json has no usable keras_version (${JSON.stringify(v)})`);
  }
  return Number(v.split('.')[0]);
}

// Config keys Keras 3 (or 2.x) writes that TF.js has no use for.
const DROP_CONFIG_KEYS = new Set([
  'optional', 'quantization_config', 'seed', 'zero_output_for_mask', 'synchronized', 'groups',
  'rms_scaling', 'build_input_shape', 'time_major', 'use_cudnn', 'lora_rank', 'lora_alpha',
]);

function dtypeName(d) {
  if (d == null || typeof d === 'string') return d;
  if (typeof d === 'object' && d.config && typeof d.config.name === 'string') return d.config.name;
  throw new Error(`translate: unsupported dtype ${JSON.stringify(d)}`);
}

/** activationName maps a Keras activation name to what TF.js (+ tfjs_ext) reads. */
function activationName(name, keras3) {
  if (name == null) return 'linear';
  if (typeof name !== 'string') {
    throw new Error(`translate: activation ${JSON.stringify(name)} is not a string`);
  }
  switch (name) {
    case 'hard_sigmoid':
      return keras3 ? 'seqcast_hard_sigmoid_k3' : 'hard_sigmoid';
    case 'silu':
    case 'swish':
      return 'swish';
    case 'gelu':
      return 'seqcast_gelu';
    case 'linear': case 'relu': case 'sigmoid': case 'tanh': case 'softmax': case 'softplus':
    case 'softsign': case 'elu': case 'selu': case 'exponential':
      return name;
    default:
      throw new Error(`translate: activation ${name} is not supported by the golden generator`);
  }
}

const scalar = (v) => (Array.isArray(v) && v.length === 1 ? v[0] : v);

const ZEROS = { class_name: 'Zeros', config: {} };

/**
 * cleanConfig rewrites one layer's config (recursively for wrapped layers):
 * dtype objects to strings, batch_shape to batch_input_shape, initializers
 * to zeros (every weight is overwritten), one-element lists to scalars,
 * activation names, and Keras-3-only keys dropped.
 */
function cleanConfig(cls, cfg, keras3) {
  const out = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (DROP_CONFIG_KEYS.has(k)) continue;
    if (k === 'dtype') out.dtype = dtypeName(v);
    else if (k === 'batch_shape') out.batch_input_shape = v;
    else if (k.endsWith('_initializer')) out[k] = ZEROS;
    else if (k.endsWith('_regularizer') || k.endsWith('_constraint')) out[k] = null;
    else if (['kernel_size', 'strides', 'pool_size', 'dilation_rate'].includes(k)) out[k] = scalar(v);
    else if (k === 'activation' || k === 'recurrent_activation') out[k] = activationName(v, keras3);
    else out[k] = v;
  }
  if (cfg.groups != null && cfg.groups !== 1) throw new Error(`translate: ${cfg.name}: groups=${cfg.groups}`);
  if (cfg.rms_scaling) throw new Error(`translate: ${cfg.name}: rms_scaling is not supported`);
  // A stateful RNN computes a freshly loaded model's outputs from a zero
  // state, as a non-stateful one does; its fixed batch size is dropped so
  // that TF.js runs any batch.
  if (out.stateful) out.stateful = false;
  if (Array.isArray(out.batch_input_shape) && out.batch_input_shape[0] != null) {
    out.batch_input_shape = [null, ...out.batch_input_shape.slice(1)];
  }
  if ((cls === 'BatchNormalization' || cls === 'LayerNormalization') && Array.isArray(out.axis)) {
    if (out.axis.length !== 1) throw new Error(`translate: ${cfg.name}: axis ${out.axis}`);
    out.axis = out.axis[0];
  }
  return out;
}

/**
 * translateLayer returns {class_name, config} for TF.js plus, for causal
 * Conv1D, the left padding the caller must insert before it.
 */
function translateLayer(entry, keras3) {
  let cls = entry.class_name;
  let cfg = cleanConfig(cls, entry.config, keras3);
  let causalPad = 0;
  switch (cls) {
    case 'Conv1D':
      if (cfg.padding === 'causal') {
        causalPad = (cfg.dilation_rate || 1) * (cfg.kernel_size - 1);
        cfg.padding = 'valid';
      }
      break;
    case 'GRU':
      // TF 2 / Keras 3 default reset_after=True when the key is absent.
      if (cfg.reset_after ?? true) cls = 'SeqcastGRUResetAfter';
      delete cfg.reset_after;
      break;
    case 'LeakyReLU':
      if ('negative_slope' in cfg) {
        cfg.alpha = cfg.negative_slope;
        delete cfg.negative_slope;
      }
      break;
    case 'ReLU':
      if ((cfg.negative_slope || 0) !== 0 || (cfg.threshold || 0) !== 0) cls = 'SeqcastReLU';
      else {
        delete cfg.negative_slope;
        delete cfg.threshold;
      }
      break;
    case 'ELU':
      if (cfg.alpha != null && cfg.alpha !== 1) cls = 'SeqcastELU';
      break;
    case 'Subtract':
      cls = 'SeqcastSubtract';
      break;
    case 'Softmax':
      // TF.js's softmax takes only the last axis of one: others go to
      // SeqcastSoftmax (exp(x - logSumExp(x, axes))).
      if (Array.isArray(cfg.axis) || cfg.axis !== -1) {
        cls = 'SeqcastSoftmax';
        cfg.axes = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
        delete cfg.axis;
      }
      break;
    case 'Normalization':
      cls = 'SeqcastNormalization'; // TF.js has no Normalization layer
      break;
    case 'ZeroPadding1D':
    case 'Cropping1D':
    case 'UpSampling1D':
    case 'Conv1DTranspose':
      cls = `Seqcast${cls}`;
      if (cfg.data_format != null && cfg.data_format !== 'channels_last') {
        throw new Error(`translate: ${cfg.name}: data_format ${cfg.data_format}`);
      }
      delete cfg.data_format;
      break;
    case 'ActivityRegularization':
      cls = 'SeqcastIdentity';
      cfg = { name: cfg.name, trainable: cfg.trainable, dtype: cfg.dtype };
      break;
    case 'GlobalMaxPooling1D':
    case 'GlobalAveragePooling1D':
      if (cfg.keepdims) {
        cfg.kind = cls === 'GlobalMaxPooling1D' ? 'max' : 'avg';
        cls = 'SeqcastGlobalPooling1D';
      } else {
        delete cfg.keepdims;
      }
      break;
    case 'TimeDistributed': {
      const inner = translateLayer(cfg.layer, keras3);
      if (inner.causalPad) throw new Error('translate: causal Conv1D inside TimeDistributed');
      cfg.layer = inner.layer;
      break;
    }
    case 'Bidirectional': {
      const fwd = entry.config.layer;
      const bwd = entry.config.backward_layer;
      if (bwd) checkBackward(fwd, bwd);
      delete cfg.backward_layer;
      cfg.layer = translateLayer(fwd, keras3).layer;
      if (cfg.layer.config.go_backwards) {
        throw new Error(`translate: ${cfg.name}: forward layer has go_backwards=true`);
      }
      break;
    }
    default:
      break;
  }
  return { layer: { class_name: cls, config: cfg }, causalPad, zeroMasked: zeroesMaskedSteps(entry) };
}

// Layers without mask support in Keras: Keras 2.4+ and 3 drop a mask there.
const DROPS_MASK = new Set(['Conv1D', 'MaxPooling1D', 'AveragePooling1D', 'GlobalMaxPooling1D', 'Flatten', 'Reshape',
  'RepeatVector', 'Permute', 'ZeroPadding1D', 'Cropping1D', 'UpSampling1D', 'Conv1DTranspose']);

/** afterLayer is the TF.js-only layer that must follow a layer, or null. */
function afterLayer(entry, t, masking) {
  if (masking && t.zeroMasked) return 'SeqcastZeroMasked';
  if (masking && DROPS_MASK.has(entry.class_name)) return 'SeqcastDropMask';
  return null;
}

/**
 * zeroesMaskedSteps reports whether Keras outputs zeros at masked steps of
 * this layer: a Bidirectional with return_sequences (Keras forces
 * zero_output_for_mask on both directions) or a recurrent layer with
 * zero_output_for_mask and return_sequences. TF.js repeats the previous
 * output there, so a SeqcastZeroMasked follows the layer.
 */
function zeroesMaskedSteps(entry) {
  const c = entry.config || {};
  if (entry.class_name === 'Bidirectional') return Boolean(c.layer && c.layer.config.return_sequences);
  if (['LSTM', 'GRU', 'SimpleRNN'].includes(entry.class_name)) {
    return Boolean(c.zero_output_for_mask && c.return_sequences);
  }
  return false;
}

/**
 * checkBackward verifies that a Keras 3 backward_layer is the forward layer
 * with go_backwards=true (TF.js derives the backward layer that way).
 */
function checkBackward(fwd, bwd) {
  const strip = (e, goBackwards) => {
    const c = Object.assign({}, e.config);
    delete c.name;
    if (Boolean(c.go_backwards) !== goBackwards) {
      throw new Error(`translate: Bidirectional ${e.config.name}: go_backwards should be ${goBackwards}`);
    }
    delete c.go_backwards;
    return JSON.stringify({ cls: e.class_name, c });
  };
  if (strip(fwd, false) !== strip(bwd, true)) {
    throw new Error(`translate: Bidirectional backward_layer ${bwd.config.name} differs from ` +
      `the forward layer ${fwd.config.name} in more than name and go_backwards`);
  }
}

/** inboundRefs returns the [name, node, tensor] refs of one inbound node in either form. */
function inboundRefs(node) {
  const refs = [];
  const visit = (v) => {
    if (v == null) return;
    if (Array.isArray(v)) {
      if (typeof v[0] === 'string' && typeof v[1] === 'number') {
        refs.push([v[0], v[1], v[2]]);
        return;
      }
      v.forEach(visit);
      return;
    }
    if (typeof v === 'object') {
      if (v.class_name === '__keras_tensor__') {
        const h = v.config.keras_history;
        refs.push([h[0], h[1], h[2]]);
        return;
      }
      if ('args' in v) visit(v.args); // Keras 3 node: kwargs hold no tensors here
    }
  };
  visit(node);
  return refs;
}

/** ioRefs normalises input_layers/output_layers: Keras 3 may write one flat ref. */
function ioRefs(v) {
  if (Array.isArray(v) && typeof v[0] === 'string') return [[v[0], v[1], v[2]]];
  return v.map((r) => [r[0], r[1], r[2]]);
}

/**
 * toTfjs translates a whole model.json. It returns {modelTopology, inserted}
 * where inserted lists the layers added for TF.js (they have no weights).
 */
function toTfjs(model) {
  const keras3 = kerasMajor(model) >= 3;
  const cls = model.class_name;
  const layers = model.config.layers;
  const inserted = [];
  const out = [];
  const masking = layers.some((e) => e.class_name === 'Masking');
  if (cls === 'Sequential') {
    let dropped = false; // a mask was dropped: later recurrent layers must not see TF.js's stale one
    for (const e of layers) {
      if (e.class_name === 'Masking') dropped = false;
      if (e.class_name === 'InputLayer') {
        out.push({ class_name: 'InputLayer', config: cleanConfig('InputLayer', e.config, keras3) });
        continue;
      }
      const t = translateLayer(e, keras3);
      if (dropped && ['LSTM', 'GRU', 'SimpleRNN', 'SeqcastGRUResetAfter'].includes(t.layer.class_name)) {
        t.layer.class_name = `SeqcastNoMask${t.layer.class_name.replace(/^Seqcast/, '')}`;
      }
      if (masking && DROPS_MASK.has(e.class_name)) dropped = true;
      if (t.causalPad) {
        const name = `${t.layer.config.name}__causal_pad`;
        const pad = { class_name: 'SeqcastCausalPad', config: { name, left: t.causalPad } };
        if (t.layer.config.batch_input_shape) {
          pad.config.batch_input_shape = t.layer.config.batch_input_shape;
          delete t.layer.config.batch_input_shape;
        }
        out.push(pad);
        inserted.push(name);
      }
      out.push(t.layer);
      const after = afterLayer(e, t, masking);
      if (after) {
        const name = `${t.layer.config.name}__${after === 'SeqcastZeroMasked' ? 'zero_masked' : 'drop_mask'}`;
        out.push({ class_name: after, config: { name } });
        inserted.push(name);
      }
    }
    return {
      modelTopology: { class_name: 'Sequential', config: { name: model.config.name, layers: out } },
      inserted,
    };
  }
  if (cls !== 'Functional' && cls !== 'Model') {
    throw new Error(`translate: unsupported model class ${cls}`);
  }
  const renamed = {}; // Keras name -> TF.js name of a layer a SeqcastZeroMasked took the name of
  for (const e of layers) {
    const name = e.name || e.config.name;
    let inbound = (e.inbound_nodes || []).map((n) => inboundRefs(n).map((r) => [r[0], r[1], r[2], {}]));
    if (e.class_name === 'InputLayer') {
      out.push({ class_name: 'InputLayer', name, config: cleanConfig('InputLayer', e.config, keras3), inbound_nodes: [] });
      continue;
    }
    const t = translateLayer(e, keras3);
    if (masking && DROPS_MASK.has(e.class_name)) {
      throw new Error(`translate: ${name}: a mask dropped in a functional model is not supported by the generator`);
    }
    if (t.causalPad) {
      const padName = `${name}__causal_pad`;
      out.push({
        class_name: 'SeqcastCausalPad',
        name: padName,
        config: { name: padName, left: t.causalPad },
        inbound_nodes: inbound,
      });
      inserted.push(padName);
      inbound = [[[padName, 0, 0, {}]]];
    }
    out.push({ class_name: t.layer.class_name, name, config: t.layer.config, inbound_nodes: inbound });
    const after = afterLayer(e, t, masking);
    if (after) {
      // Consumers keep naming the Keras layer: rename it and give its name to the layer after it.
      const inner = `${name}__inner`;
      out[out.length - 1].name = inner;
      out[out.length - 1].config = Object.assign({}, t.layer.config, { name: inner });
      out.push({ class_name: after, name, config: { name }, inbound_nodes: [[[inner, 0, 0, {}]]] });
      renamed[name] = inner;
    }
  }
  return {
    modelTopology: {
      class_name: 'Functional',
      config: {
        name: model.config.name,
        layers: out,
        input_layers: ioRefs(model.config.input_layers),
        output_layers: ioRefs(model.config.output_layers),
      },
    },
    inserted,
    renamed,
  };
}

module.exports = { toTfjs, activationName, inboundRefs, ioRefs, kerasMajor };
