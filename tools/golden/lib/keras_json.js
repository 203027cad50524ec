'use strict';
// Emits a model.json in one of the real Keras dialects from a compact case
// description (cases.js). The dialects follow configs written by Keras itself
// (see /work/shared/docs/keras-formats.md and testdata/bench/gold/model.json):
//
//   k2.12  Keras <= 2.12: {class_name, config}, batch_input_shape, list-valued
//          kernel_size/strides/pool_size, BatchNormalization axis as a list
//   k2.15  Keras 2.13-2.15: as k2.12 plus module, registered_name, build_config
//   k3     Keras 3: batch_shape, DTypePolicy dtype objects (from 3.4), module
//          "keras.layers", Bidirectional with an explicit backward_layer,
//          LeakyReLU negative_slope, integer axes, and the
//          {"args": [__keras_tensor__ ...], "kwargs": {}} inbound_nodes form.

const DEFAULT_VERSION = { 'k2.12': '2.12.0', 'k2.15': '2.15.0', k3: '3.10.0' };

/** snakeCase is keras.src.utils.naming.to_snake_case. */
function snakeCase(name) {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  return intermediate.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function isK3(d) {
  return d === 'k3';
}

function dtypeOf(ctx) {
  if (!isK3(ctx.dialect) || ctx.stringDtype) return 'float32';
  return {
    module: 'keras',
    class_name: 'DTypePolicy',
    config: { name: 'float32' },
    registered_name: null,
  };
}

function init(ctx, className, config = {}) {
  if (ctx.dialect === 'k2.12') return { class_name: className, config };
  return { module: 'keras.initializers', class_name: className, config, registered_name: null };
}

const glorot = (ctx) => init(ctx, 'GlorotUniform', { seed: null });
const zeros = (ctx) => init(ctx, 'Zeros', {});
const ones = (ctx) => init(ctx, 'Ones', {});
const orthogonal = (ctx) => (isK3(ctx.dialect)
  ? init(ctx, 'Orthogonal', { seed: null, gain: 1.0 })
  : init(ctx, 'Orthogonal', { gain: 1.0, seed: null }));

const tuple = (v) => (Array.isArray(v) ? v : [v]);

/**
 * classConfig returns the class-specific part of a layer config, with
 * Keras's defaults filled in and `u` (the case's options) applied.
 * `inRank` is the input rank including the batch axis (when known).
 */
function classConfig(ctx, cls, u, inRank) {
  const k3 = isK3(ctx.dialect);
  const act = (a) => (a === undefined ? 'linear' : a);
  switch (cls) {
    case 'Conv1D':
      return {
        filters: u.filters,
        kernel_size: tuple(u.kernel_size),
        strides: tuple(u.strides ?? 1),
        padding: u.padding ?? 'valid',
        data_format: 'channels_last',
        dilation_rate: tuple(u.dilation_rate ?? 1),
        groups: 1,
        activation: act(u.activation),
        use_bias: u.use_bias ?? true,
        kernel_initializer: glorot(ctx),
        bias_initializer: zeros(ctx),
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      };
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      const pool = tuple(u.pool_size ?? 2);
      const strides = u.strides == null ? pool : tuple(u.strides);
      const padding = u.padding ?? 'valid';
      return k3
        ? { pool_size: pool, padding, strides, data_format: 'channels_last' }
        : { strides, pool_size: pool, padding, data_format: 'channels_last' };
    }
    case 'GlobalMaxPooling1D':
    case 'GlobalAveragePooling1D':
      return { data_format: 'channels_last', keepdims: u.keepdims ?? false };
    case 'LSTM':
    case 'GRU':
    case 'SimpleRNN': {
      const c = {
        return_sequences: u.return_sequences ?? false,
        return_state: false,
        go_backwards: u.go_backwards ?? false,
        stateful: u.stateful ?? false,
        unroll: false,
      };
      if (k3) c.zero_output_for_mask = u.zero_output_for_mask ?? false;
      else c.time_major = false;
      c.units = u.units;
      c.activation = u.activation ?? 'tanh';
      if (cls !== 'SimpleRNN') c.recurrent_activation = u.recurrent_activation ?? 'sigmoid';
      Object.assign(c, {
        use_bias: u.use_bias ?? true,
        kernel_initializer: glorot(ctx),
        recurrent_initializer: orthogonal(ctx),
        bias_initializer: zeros(ctx),
      });
      if (cls === 'LSTM') c.unit_forget_bias = true;
      Object.assign(c, {
        kernel_regularizer: null,
        recurrent_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        recurrent_constraint: null,
        bias_constraint: null,
        dropout: 0.0,
        recurrent_dropout: 0.0,
      });
      if (k3) c.seed = null;
      else if (cls !== 'SimpleRNN') c.implementation = 2;
      if (cls === 'GRU') c.reset_after = u.reset_after ?? true;
      return c;
    }
    case 'ConvLSTM2D': {
      // Keras 2: RNN's base config first (time_major included), then the
      // ConvLSTM's; Keras 3: the same keys with zero_output_for_mask and seed.
      const c = {
        return_sequences: u.return_sequences ?? false,
        return_state: false,
        go_backwards: u.go_backwards ?? false,
        stateful: false,
        unroll: false,
      };
      if (k3) c.zero_output_for_mask = false;
      else c.time_major = false;
      Object.assign(c, {
        filters: u.filters,
        kernel_size: tuple(u.kernel_size).length === 1 ? [u.kernel_size, u.kernel_size] : u.kernel_size,
        strides: tuple(u.strides ?? 1).length === 1 ? [u.strides ?? 1, u.strides ?? 1] : u.strides,
        padding: u.padding ?? 'valid',
        data_format: 'channels_last',
        dilation_rate: tuple(u.dilation_rate ?? 1).length === 1 ? [u.dilation_rate ?? 1, u.dilation_rate ?? 1] : u.dilation_rate,
        activation: u.activation ?? 'tanh',
        recurrent_activation: u.recurrent_activation ?? (k3 ? 'sigmoid' : 'hard_sigmoid'),
        use_bias: u.use_bias ?? true,
        kernel_initializer: glorot(ctx),
        recurrent_initializer: orthogonal(ctx),
        bias_initializer: zeros(ctx),
        unit_forget_bias: true,
        kernel_regularizer: null,
        recurrent_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        recurrent_constraint: null,
        bias_constraint: null,
        dropout: 0.0,
        recurrent_dropout: 0.0,
      });
      if (k3) c.seed = null;
      return c;
    }
    case 'Masking':
      return { mask_value: u.mask_value ?? 0.0 };
    case 'Permute':
      return { dims: u.dims };
    case 'ZeroPadding1D':
      return { padding: Array.isArray(u.padding) ? u.padding : [u.padding ?? 1, u.padding ?? 1] };
    case 'Cropping1D':
      return { cropping: Array.isArray(u.cropping) ? u.cropping : [u.cropping ?? 1, u.cropping ?? 1] };
    case 'UpSampling1D':
      return { size: u.size ?? 2 };
    case 'Conv1DTranspose': {
      const op = u.output_padding == null ? null : tuple(u.output_padding);
      const c = {
        filters: u.filters,
        kernel_size: tuple(u.kernel_size),
        strides: tuple(u.strides ?? 1),
        padding: u.padding ?? 'valid',
      };
      if (k3) c.output_padding = op;
      Object.assign(c, {
        data_format: 'channels_last',
        dilation_rate: tuple(u.dilation_rate ?? 1),
      });
      if (!k3) c.groups = 1;
      Object.assign(c, {
        activation: act(u.activation),
        use_bias: u.use_bias ?? true,
        kernel_initializer: glorot(ctx),
        bias_initializer: zeros(ctx),
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      });
      if (!k3) c.output_padding = op;
      return c;
    }
    case 'Dense': {
      const c = {
        units: u.units,
        activation: act(u.activation),
        use_bias: u.use_bias ?? true,
        kernel_initializer: glorot(ctx),
        bias_initializer: zeros(ctx),
        kernel_regularizer: null,
        bias_regularizer: null,
      };
      if (!k3) c.activity_regularizer = null;
      c.kernel_constraint = null;
      c.bias_constraint = null;
      if (k3) c.quantization_config = null;
      return c;
    }
    case 'Flatten':
      return { data_format: 'channels_last' };
    case 'Reshape':
      return { target_shape: u.target_shape };
    case 'RepeatVector':
      return { n: u.n };
    case 'BatchNormalization': {
      const c = {
        axis: k3 || inRank == null ? -1 : [inRank - 1],
        momentum: 0.99,
        epsilon: u.epsilon ?? 0.001,
        center: u.center ?? true,
        scale: u.scale ?? true,
        beta_initializer: zeros(ctx),
        gamma_initializer: ones(ctx),
        moving_mean_initializer: zeros(ctx),
        moving_variance_initializer: ones(ctx),
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
      };
      if (k3) c.synchronized = false;
      return c;
    }
    case 'LayerNormalization': {
      const c = {
        axis: k3 || inRank == null ? -1 : [inRank - 1],
        epsilon: u.epsilon ?? 0.001,
        center: u.center ?? true,
        scale: u.scale ?? true,
      };
      if (k3) c.rms_scaling = false;
      Object.assign(c, {
        beta_initializer: zeros(ctx),
        gamma_initializer: ones(ctx),
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
      });
      return c;
    }
    case 'Dropout':
      return k3
        ? { rate: u.rate ?? 0.5, seed: null, noise_shape: null }
        : { rate: u.rate ?? 0.5, noise_shape: null, seed: null };
    case 'SpatialDropout1D':
      return k3 ? { rate: u.rate ?? 0.5, seed: null, noise_shape: null }
        : { rate: u.rate ?? 0.5, noise_shape: null, seed: null };
    case 'GaussianNoise':
      return k3 ? { stddev: u.stddev ?? 0.1, seed: null } : { stddev: u.stddev ?? 0.1, seed: null };
    case 'GaussianDropout':
      return k3 ? { rate: u.rate ?? 0.1, seed: null } : { rate: u.rate ?? 0.1, seed: null };
    case 'ActivityRegularization':
      return { l1: u.l1 ?? 0.0, l2: u.l2 ?? 0.0 };
    case 'Activation':
      return { activation: u.activation };
    case 'ReLU':
      return {
        max_value: u.max_value ?? null,
        negative_slope: u.negative_slope ?? 0.0,
        threshold: u.threshold ?? 0.0,
      };
    case 'LeakyReLU':
      return k3 ? { negative_slope: u.alpha ?? 0.3 } : { alpha: u.alpha ?? 0.3 };
    case 'ELU':
      return { alpha: u.alpha ?? 1.0 };
    case 'PReLU':
      return {
        alpha_initializer: zeros(ctx),
        alpha_regularizer: null,
        alpha_constraint: null,
        shared_axes: u.shared_axes ?? null,
      };
    case 'Concatenate':
      return { axis: u.axis ?? -1 };
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Average':
    case 'Maximum':
    case 'Minimum':
      return {};
    case 'Dot':
      return { axes: u.axes, normalize: u.normalize ?? false };
    case 'Softmax':
      return { axis: u.axis ?? -1 };
    case 'Rescaling':
      return { scale: u.scale, offset: u.offset ?? 0.0 };
    case 'Embedding': {
      // Keras 2 writes input_length (None unless given); Keras 3 dropped it.
      const c = {
        input_dim: u.input_dim,
        output_dim: u.output_dim,
        embeddings_initializer: init(ctx, 'RandomUniform', k3 ? { seed: null, minval: -0.05, maxval: 0.05 }
          : { minval: -0.05, maxval: 0.05, seed: null }),
        embeddings_regularizer: null,
        activity_regularizer: null,
        embeddings_constraint: null,
        mask_zero: u.mask_zero ?? false,
      };
      if (!k3) c.input_length = u.input_length ?? null;
      return c;
    }
    case 'Normalization':
      // Keras stores axis as a tuple (None as ()), mean and variance as
      // (nested) lists or null when adapt() computed them.
      return {
        axis: u.axis === null ? [] : tuple(u.axis ?? -1),
        invert: u.invert ?? false,
        mean: u.mean ?? null,
        variance: u.variance ?? null,
      };
    default:
      throw new Error(`keras_json: unknown layer class ${cls}`);
  }
}

/**
 * Emitter builds the model.json of one case. `info` (optional) holds
 * inShapes and outShapes: maps from a layer name to its input shape(s) and
 * output shape, batch axis as null. They come from a first build in TF.js and
 * fill build_config, Keras 2's list axes and Keras 3's keras_tensor shapes.
 */
class Emitter {
  constructor(spec, info) {
    this.spec = spec;
    this.dialect = spec.dialect;
    this.version = spec.keras_version || DEFAULT_VERSION[spec.dialect];
    this.stringDtype = isK3(spec.dialect) && /^3\.[0-3]\./.test(this.version);
    this.shapes = (info && info.inShapes) || {};
    this.outShapes = (info && info.outShapes) || {};
    this.counters = {};
  }

  autoName(cls) {
    const base = snakeCase(cls);
    const n = this.counters[base] || 0;
    this.counters[base] = n + 1;
    return n === 0 ? base : `${base}_${n}`;
  }

  /** wrap makes the {module?, class_name, config, registered_name?, build_config?} entry. */
  wrap(cls, config, name, { inner = false } = {}) {
    const d = this.dialect;
    if (d === 'k2.12') return { class_name: cls, config };
    const e = { module: 'keras.layers', class_name: cls, config, registered_name: null };
    const shape = this.shapes[name];
    if (shape !== undefined && !(d === 'k2.15' && inner) && this.hasBuildConfig(cls)) {
      e.build_config = { input_shape: shape };
    }
    return e;
  }

  hasBuildConfig(cls) {
    if (this.dialect === 'k2.15') return true;
    // Keras 3 records build_config only for layers that define build().
    return !['MaxPooling1D', 'AveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling1D',
      'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'ActivityRegularization',
      'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Flatten', 'Reshape', 'RepeatVector', 'Masking', 'Permute',
      'ZeroPadding1D', 'Cropping1D', 'UpSampling1D', 'Softmax', 'Rescaling'].includes(cls);
  }

  inRank(name) {
    const s = this.shapes[name];
    if (s == null) return null;
    return Array.isArray(s[0]) || s[0] === undefined ? null : s.length;
  }

  /** layerEntry returns the entry for one layer of the case. */
  layerEntry(l, extraTop) {
    const name = l.name;
    const base = { name, trainable: true, dtype: dtypeOf(this) };
    if (extraTop) Object.assign(base, extraTop);
    const cfg = Object.assign(base, this.classConfigFor(l));
    return this.wrap(l.cls, cfg, name);
  }

  classConfigFor(l) {
    const u = l.cfg || {};
    if (l.cls === 'Bidirectional') return this.bidirectional(l);
    if (l.cls === 'TimeDistributed') {
      const inner = u.layer;
      const innerName = inner.name || this.autoName(inner.cls);
      const innerCfg = Object.assign({ name: innerName, trainable: true, dtype: dtypeOf(this) },
        classConfig(this, inner.cls, inner.cfg || {}, null));
      return { layer: this.wrap(inner.cls, innerCfg, innerName, { inner: true }) };
    }
    return classConfig(this, l.cls, u, this.inRank(l.name));
  }

  bidirectional(l) {
    const u = l.cfg;
    const inner = u.layer;
    const k3 = isK3(this.dialect);
    const innerCls = inner.cls;
    const base = this.autoName(innerCls); // consumes the inner layer's name like Keras does
    const fwdName = k3 ? `forward_${base}` : base;
    const mk = (nm, goBackwards) => {
      const opts = Object.assign({}, inner.cfg, { go_backwards: goBackwards });
      const c = Object.assign({ name: nm, trainable: true, dtype: dtypeOf(this) },
        classConfig(this, innerCls, opts, null));
      const e = this.wrap(innerCls, c, nm, { inner: true });
      if (k3 && this.shapes[l.name] !== undefined) e.build_config = { input_shape: this.shapes[l.name] };
      return e;
    };
    const out = k3 ? { merge_mode: u.merge_mode ?? 'concat', layer: mk(fwdName, false) }
      : { layer: mk(fwdName, false), merge_mode: u.merge_mode ?? 'concat' };
    if (k3) out.backward_layer = mk(`backward_${base}`, true);
    return out;
  }

  inputEntry(name, batchShape, dtype = 'float32') {
    const d = this.dialect;
    const cfg = isK3(d)
      ? { batch_shape: batchShape, dtype, sparse: false, ragged: false, name }
      : { batch_input_shape: batchShape, dtype, sparse: false, ragged: false, name };
    if (isK3(d) && !this.stringDtype) cfg.optional = false;
    if (d === 'k2.12') return { class_name: 'InputLayer', config: cfg };
    return { module: 'keras.layers', class_name: 'InputLayer', config: cfg, registered_name: null };
  }

  /** nameLayers assigns Keras's automatic names where the case gave none. */
  nameLayers() {
    const layers = this.spec.layers.map((l) => Object.assign({}, l));
    for (const l of layers) {
      if (!l.name) l.name = this.autoName(l.cls);
      else this.counters[snakeCase(l.cls)] = (this.counters[snakeCase(l.cls)] || 0) + 1;
    }
    return layers;
  }

  emit() {
    const spec = this.spec;
    const batchShape = spec.inputs ? null : [spec.batch_size ?? null, ...spec.input]; // a stateful model fixes its batch size
    const top = spec.functional ? this.functional(batchShape) : this.sequential(batchShape);
    top.keras_version = this.version;
    top.backend = 'tensorflow';
    return top;
  }

  sequential(batchShape) {
    const d = this.dialect;
    const layers = this.nameLayers();
    const inputName = isK3(d) ? 'input_layer' : `${layers[0].name}_input`;
    const entries = [this.inputEntry(inputName, batchShape)];
    layers.forEach((l, i) => {
      const extra = i === 0 && !isK3(d) ? { batch_input_shape: batchShape } : null;
      entries.push(this.layerEntry(l, extra));
    });
    const name = this.spec.model_name || 'sequential';
    if (isK3(d)) {
      return {
        module: 'keras',
        class_name: 'Sequential',
        config: {
          name, trainable: true, dtype: dtypeOf(this), layers: entries, build_input_shape: batchShape,
        },
        registered_name: null,
        build_config: { input_shape: batchShape },
      };
    }
    return { class_name: 'Sequential', config: { name, layers: entries } };
  }

  functional(batchShape) {
    const d = this.dialect;
    const k3 = isK3(d);
    const inputName = k3 ? 'input_layer' : 'input_1';
    const layers = this.nameLayers();
    const byName = { INPUT: inputName };
    for (const l of layers) byName[l.name] = l.name;
    const resolve = (ref) => {
      if (!(ref in byName)) throw new Error(`case ${this.spec.name}: unknown input ${ref}`);
      return byName[ref];
    };
    // A multi-input case lists its inputs as [{name, shape}], referred to by name.
    const inputs = this.spec.inputs
      ? this.spec.inputs.map((x) => ({ name: x.name, batchShape: [null, ...x.shape], dtype: x.dtype }))
      : [{ name: inputName, batchShape }];
    const entries = [];
    const outShapes = Object.assign({}, this.outShapes);
    for (const x of inputs) {
      byName[x.name] = x.name;
      const inEntry = this.inputEntry(x.name, x.batchShape, x.dtype);
      inEntry.name = x.name;
      inEntry.inbound_nodes = [];
      entries.push(inEntry);
      outShapes[x.name] = x.batchShape;
    }
    layers.forEach((l, i) => {
      const e = this.layerEntry(l, null);
      e.name = l.name;
      const refs = (l.in || [i === 0 ? 'INPUT' : layers[i - 1].name]).map(resolve);
      if (k3) {
        const tensor = (n) => ({
          class_name: '__keras_tensor__',
          config: { shape: outShapes[n] || null, dtype: 'float32', keras_history: [n, 0, 0] },
        });
        const args = refs.length === 1 ? [tensor(refs[0])] : [refs.map(tensor)];
        e.inbound_nodes = [{ args, kwargs: {} }];
      } else {
        e.inbound_nodes = [refs.map((n) => [n, 0, 0, {}])];
      }
      entries.push(e);
    });
    const last = layers[layers.length - 1].name;
    const config = { name: this.spec.model_name || (k3 ? 'functional' : 'model'), trainable: true, layers: entries };
    if (this.spec.inputs || this.spec.outputs) {
      // Keras 2 and 3 both write lists of [name, 0, 0] for several tensors.
      config.input_layers = inputs.map((x) => [x.name, 0, 0]);
      config.output_layers = (this.spec.outputs || [last]).map((n) => [resolve(n), 0, 0]);
    }
    if (k3) {
      if (!config.input_layers) {
        config.input_layers = this.spec.nested_io ? [[inputName, 0, 0]] : [inputName, 0, 0];
        config.output_layers = this.spec.nested_io ? [[last, 0, 0]] : [last, 0, 0];
      }
      return {
        module: 'keras.src.models.functional',
        class_name: 'Functional',
        config,
        registered_name: 'Functional',
        build_config: { input_shape: null },
      };
    }
    if (!config.input_layers) {
      config.input_layers = [[inputName, 0, 0]];
      config.output_layers = [[last, 0, 0]];
    }
    // Keras 2.0-2.3 named the functional class "Model".
    return { class_name: this.spec.model_class || 'Functional', config };
  }
}

/** emitModelJson returns the model.json object of a case. */
function emitModelJson(spec, info) {
  return new Emitter(spec, info).emit();
}

module.exports = { emitModelJson, snakeCase, DEFAULT_VERSION };

// Keys whose values Keras writes as Python floats ("1.0", not "1").
const FLOAT_KEYS = new Set(['gain', 'dropout', 'recurrent_dropout', 'rate', 'stddev', 'l1', 'l2',
  'momentum', 'epsilon', 'alpha', 'negative_slope', 'threshold', 'max_value', 'mask_value']);

/**
 * pyJson serialises like Python's json.dumps (what model.to_json() writes):
 * ", " and ": " separators, float-valued options with a decimal point.
 */
function pyJson(v, key) {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (FLOAT_KEYS.has(key) && Number.isInteger(v)) return `${v}.0`;
    return JSON.stringify(v);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyJson(x, key)).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x, k)}`).join(', ')}}`;
}

module.exports.pyJson = pyJson;
