'use strict';
// TensorFlow.js extensions for what tfjs-layers 4.22 lacks or computes
// differently from Keras. Each class is registered under a "Seqcast*" (layers)
// or "seqcast*" (activations) name that only the config translator
// (translate.js) emits, so TF.js's own classes are used everywhere else.
//
//   gap in tfjs-layers 4.22                 what is registered here
//   -------------------------------------   --------------------------------------
//   Conv1D padding="causal" not supported   SeqcastCausalPad: left zero-pad
//                                           d*(k-1) steps, then a "valid" Conv1D
//   GRU reset_after=true throws             SeqcastGRUResetAfter (RNN + cell from ops)
//   Keras 3 hard_sigmoid relu6(x+3)/6       seqcastHardSigmoidK3
//   no "exponential" activation             exponential
//   gelu: erf approximated (|err|<=4.6e-7)  seqcastGelu, exact erf in float64
//   ReLU: only max_value                    SeqcastReLU (negative_slope, threshold)
//   ELU layer: only alpha=1                 SeqcastELU
//   no Subtract merge layer                 SeqcastSubtract
//   no ActivityRegularization               SeqcastIdentity
//   Global*Pooling1D: no keepdims           SeqcastGlobalPooling1D
//   no ZeroPadding1D, Cropping1D,           SeqcastZeroPadding1D, SeqcastCropping1D,
//   UpSampling1D                            SeqcastUpSampling1D (tf.pad, slice, tile)
//   no Conv1DTranspose                      SeqcastConv1DTranspose: zero-insert,
//                                           pad, conv1d with the reversed kernel
//   RNN masked outputs: always the previous SeqcastZeroMasked after a Bidirectional
//   output (Keras: zeros in Bidirectional   or zero_output_for_mask RNN with
//   with return_sequences)                  return_sequences: output * mask
//   masks pass through layers Keras drops   SeqcastDropMask after each of them
//   them at (Conv1D, pooling, Flatten, ...) (in models with a Masking layer),
//   and the executor's stale mask           and SeqcastNoMask{LSTM,GRU,...} after it
const tf = require('@tensorflow/tfjs');

// ---------------------------------------------------------------- activations

class Activation extends tf.serialization.Serializable {
  getConfig() {
    return {};
  }
}

/** Keras 3 hard_sigmoid: relu6(x + 3) / 6. */
class HardSigmoidK3 extends Activation {
  apply(x) {
    return tf.tidy(() => tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}
HardSigmoidK3.className = 'seqcastHardSigmoidK3';

/** Keras "exponential": exp(x). */
class Exponential extends Activation {
  apply(x) {
    return tf.exp(x);
  }
}
Exponential.className = 'exponential';

/**
 * erf64 is erf in float64: a Maclaurin series for |z| < 3 and a continued
 * fraction for erfc beyond (both far below float32 resolution).
 */
function erf64(z) {
  const t = Math.abs(z);
  let r;
  if (t < 3) {
    let term = t;
    let s = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const c = term / (2 * n + 1);
      s += c;
      if (Math.abs(c) < 1e-17 * Math.abs(s)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * s;
  } else {
    let f = 0;
    for (let k = 80; k >= 1; k--) f = k / 2 / (t + f);
    r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  }
  return z < 0 ? -r : r;
}

/** gelu64 is Keras's exact gelu, 0.5 x (1 + erf(x / sqrt 2)), in float64. */
function gelu64(x) {
  return 0.5 * x * (1 + erf64(x / Math.SQRT2));
}

/** Keras gelu (approximate=False) with an exact erf, rounded once to float32. */
class GeluExact extends Activation {
  apply(x) {
    const v = x.dataSync();
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = gelu64(v[i]);
    return tf.tensor(out, x.shape, 'float32');
  }
}
GeluExact.className = 'seqcastGelu';

// --------------------------------------------------------------------- layers

/** SeqcastCausalPad pads `left` zero steps before the sequence. */
class CausalPad extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.left = args.left;
  }
  computeOutputShape(s) {
    return [s[0], s[1] == null ? null : s[1] + this.left, s[2]];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.pad(x, [[0, 0], [this.left, 0], [0, 0]]);
  }
  getConfig() {
    return Object.assign(super.getConfig(), { left: this.left });
  }
}
CausalPad.className = 'SeqcastCausalPad';

/**
 * SeqcastReLU is Keras's ReLU layer (backend.relu / keras.activations.relu):
 * x > threshold ? x : 0, clipped to [0, max_value] if any, minus
 * negative_slope * relu(threshold - x).
 */
class KerasReLU extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.maxValue = args.maxValue == null ? null : args.maxValue;
    this.negativeSlope = args.negativeSlope || 0;
    this.threshold = args.threshold || 0;
  }
  computeOutputShape(s) {
    return s;
  }
  call(inputs) {
    return tf.tidy(() => {
      let x = Array.isArray(inputs) ? inputs[0] : inputs;
      const a = this.negativeSlope;
      const t = this.threshold;
      if (a !== 0 && this.maxValue == null && t === 0) return tf.leakyRelu(x, a);
      const neg = a !== 0 ? tf.relu(tf.add(tf.neg(x), t)) : null;
      let clip = this.maxValue != null;
      if (t !== 0) {
        x = tf.mul(x, tf.cast(tf.greater(x, t), 'float32'));
      } else if (this.maxValue === 6) {
        x = tf.relu6(x);
        clip = false;
      } else {
        x = tf.relu(x);
      }
      if (clip) x = tf.clipByValue(x, 0, this.maxValue);
      if (a !== 0) x = tf.sub(x, tf.mul(a, neg));
      return x;
    });
  }
  getConfig() {
    return Object.assign(super.getConfig(), {
      maxValue: this.maxValue,
      negativeSlope: this.negativeSlope,
      threshold: this.threshold,
    });
  }
}
KerasReLU.className = 'SeqcastReLU';

/** SeqcastELU is Keras's ELU layer with any alpha. */
class KerasELU extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.alpha = args.alpha == null ? 1 : args.alpha;
  }
  computeOutputShape(s) {
    return s;
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const res = tf.elu(x);
      if (this.alpha === 1) return res;
      return tf.where(tf.greater(x, 0), res, tf.mul(this.alpha, res));
    });
  }
  getConfig() {
    return Object.assign(super.getConfig(), { alpha: this.alpha });
  }
}
KerasELU.className = 'SeqcastELU';

/** SeqcastSubtract is Keras's Subtract: inputs[0] - inputs[1]. */
class Subtract extends tf.layers.Layer {
  computeOutputShape(shapes) {
    return shapes[0];
  }
  call(inputs) {
    if (!Array.isArray(inputs) || inputs.length !== 2) {
      throw new Error('SeqcastSubtract needs exactly 2 inputs');
    }
    return tf.sub(inputs[0], inputs[1]);
  }
}
Subtract.className = 'SeqcastSubtract';

/** SeqcastIdentity stands for layers that are the identity at inference. */
class Identity extends tf.layers.Layer {
  computeOutputShape(s) {
    return s;
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.clone(x);
  }
}
Identity.className = 'SeqcastIdentity';

/** SeqcastGlobalPooling1D is GlobalMax/AveragePooling1D with keepdims. */
class GlobalPooling1D extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.kind = args.kind; // 'max' or 'avg'
    this.keepdims = !!args.keepdims;
  }
  computeOutputShape(s) {
    return this.keepdims ? [s[0], 1, s[2]] : [s[0], s[2]];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return this.kind === 'max' ? tf.max(x, 1, this.keepdims) : tf.mean(x, 1, this.keepdims);
  }
  getConfig() {
    return Object.assign(super.getConfig(), { kind: this.kind, keepdims: this.keepdims });
  }
}
GlobalPooling1D.className = 'SeqcastGlobalPooling1D';

/**
 * kerasAxes turns Keras axes (batch = 0, negative from the end) into
 * non-negative axes of a rank-`rank` tensor (batch included), sorted.
 */
function kerasAxes(axes, rank) {
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  for (const a of out) {
    if (a <= 0 || a >= rank) throw new Error(`axis ${a} out of range 1..${rank - 1}`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/**
 * SeqcastSoftmax is Keras's Softmax layer over any axes: exp(x - logsumexp(x,
 * axes)), which is what Keras computes for several axes and equals
 * exp(x - max) / sum(exp(x - max)) for one. TF.js's softmax takes only the
 * last axis.
 */
class Softmax extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.axes = args.axes;
  }
  computeOutputShape(s) {
    return s;
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const axes = kerasAxes(this.axes, x.shape.length);
      return tf.exp(tf.sub(x, tf.logSumExp(x, axes, true)));
    });
  }
  getConfig() {
    return Object.assign(super.getConfig(), { axes: this.axes });
  }
}
Softmax.className = 'SeqcastSoftmax';

/**
 * normStats lays out Keras's Normalization statistics: `keep` are the kept
 * axes (sorted, batch included in the numbering) of an input of shape
 * `shape`; a (nested) list or number is aligned with the kept dims from the
 * right and broadcast, as Keras 3's build() (and Keras 2's
 * `mean * np.ones(shape)`) does. Returns the broadcast shape and the values
 * as a flat array over the kept dims.
 */
function normStats(value, keep, shape) {
  const keptDims = keep.map((d) => shape[d]);
  const t = tf.tensor(value);
  const expanded = [...keptDims.map(() => 1)];
  for (let i = 1; i <= t.shape.length; i++) expanded[keptDims.length - i] = t.shape[t.shape.length - i];
  const b = tf.broadcastTo(tf.reshape(t, expanded), keptDims);
  const out = b.dataSync();
  t.dispose();
  b.dispose();
  return out;
}

/**
 * SeqcastNormalization is Keras's Normalization (TF.js has none):
 * (x - mean) / max(sqrt(variance), 1e-7), or mean + x * max(sqrt(variance),
 * 1e-7) with invert. Statistics from the config, or the weights mean,
 * variance (the kept dims' shape) and count (a scalar, unused) that adapt()
 * leaves.
 */
class Normalization extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.axis = args.axis == null ? [] : (Array.isArray(args.axis) ? args.axis : [args.axis]);
    this.meanValue = args.mean == null ? null : args.mean;
    this.varianceValue = args.variance == null ? null : args.variance;
    this.invert = !!args.invert;
  }
  build(inputShape) {
    const rank = inputShape.length;
    this.keep = kerasAxes(this.axis, rank);
    this.bshape = inputShape.map((d, i) => (this.keep.includes(i) ? d : 1));
    const keptDims = this.keep.map((d) => inputShape[d]);
    if (this.meanValue == null) {
      const zeros = tf.initializers.zeros();
      this.mean = this.addWeight('mean', keptDims, 'float32', zeros, null, false);
      this.variance = this.addWeight('variance', keptDims, 'float32', tf.initializers.ones(), null, false);
      this.count = this.addWeight('count', [], 'float32', zeros, null, false);
    } else {
      this.fixedMean = normStats(this.meanValue, this.keep, inputShape);
      this.fixedVariance = normStats(this.varianceValue, this.keep, inputShape);
    }
    this.built = true;
  }
  computeOutputShape(s) {
    return s;
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const m = this.meanValue == null ? this.mean.read() : tf.tensor(this.fixedMean);
      const v = this.meanValue == null ? this.variance.read() : tf.tensor(this.fixedVariance);
      const mean = tf.reshape(m, this.bshape);
      const sd = tf.maximum(tf.sqrt(tf.reshape(v, this.bshape)), 1e-7);
      return this.invert ? tf.add(mean, tf.mul(x, sd)) : tf.div(tf.sub(x, mean), sd);
    });
  }
  getConfig() {
    return Object.assign(super.getConfig(), {
      axis: this.axis, mean: this.meanValue, variance: this.varianceValue, invert: this.invert,
    });
  }
}
Normalization.className = 'SeqcastNormalization';

// ------------------------------------------------------- GRU reset_after=True

const GRUCell = tf.layers.gruCell({ units: 1 }).constructor;

/**
 * GRUCellResetAfter is Keras's GRUCell with reset_after=True: bias (2, 3u),
 * row 0 for the input projection and row 1 for the recurrent one, and the
 * reset gate applied after the recurrent matrix product:
 *   hh = act(x W_h + b_ih + r * (h U_h + b_rh)),  h' = z h + (1 - z) hh.
 */
class GRUCellResetAfter extends GRUCell {
  constructor(args) {
    super(Object.assign({}, args, { resetAfter: false }));
  }
  build(inputShape) {
    const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
    const inputDim = shape[shape.length - 1];
    const u = this.units;
    this.kernel = this.addWeight('kernel', [inputDim, 3 * u], null, this.kernelInitializer,
      this.kernelRegularizer, true, this.kernelConstraint);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], null,
      this.recurrentInitializer, this.recurrentRegularizer, true, this.recurrentConstraint);
    this.bias = this.useBias
      ? this.addWeight('bias', [2, 3 * u], null, this.biasInitializer, this.biasRegularizer, true,
        this.biasConstraint)
      : null;
    this.built = true;
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = inputs[0];
      const h = inputs[1];
      let mx = tf.matMul(x, this.kernel.read());
      let mi = tf.matMul(h, this.recurrentKernel.read());
      if (this.useBias) {
        const [bi, br] = tf.unstack(this.bias.read(), 0);
        mx = tf.add(mx, bi);
        mi = tf.add(mi, br);
      }
      const [xz, xr, xh] = tf.split(mx, 3, 1);
      const [rz, rr, rh] = tf.split(mi, 3, 1);
      const z = this.recurrentActivation.apply(tf.add(xz, rz));
      const r = this.recurrentActivation.apply(tf.add(xr, rr));
      const hh = this.activation.apply(tf.add(xh, tf.mul(r, rh)));
      const out = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
      return [out, out];
    });
  }
}
GRUCellResetAfter.className = 'SeqcastGRUCellResetAfter';

/** SeqcastGRUResetAfter is keras.layers.GRU(reset_after=True). */
class GRUResetAfter extends tf.RNN {
  constructor(args) {
    const a = Object.assign({}, args);
    a.cell = new GRUCellResetAfter(a);
    super(a);
  }
  call(inputs, kwargs) {
    return tf.tidy(() => {
      const mask = kwargs == null ? null : kwargs.mask;
      const training = kwargs == null ? null : kwargs.training;
      const initialState = kwargs == null ? null : kwargs.initialState;
      return super.call(inputs, { mask, training, initialState });
    });
  }
  static fromConfig(cls, config) {
    return new cls(config);
  }
}
GRUResetAfter.className = 'SeqcastGRUResetAfter';
const NoMaskGRUResetAfter = noMask(GRUResetAfter, 'SeqcastNoMaskGRUResetAfter');


// ------------------------------------------------------ sequence reshaping

/** SeqcastZeroPadding1D is keras.layers.ZeroPadding1D (tf.pad). */
class ZeroPadding1D extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.padding = Array.isArray(args.padding) ? args.padding : [args.padding ?? 1, args.padding ?? 1];
  }
  computeOutputShape(s) {
    return [s[0], s[1] + this.padding[0] + this.padding[1], s[2]];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.pad(x, [[0, 0], this.padding, [0, 0]]);
  }
  getConfig() {
    return Object.assign(super.getConfig(), { padding: this.padding });
  }
}
ZeroPadding1D.className = 'SeqcastZeroPadding1D';

/** SeqcastCropping1D is keras.layers.Cropping1D (tf.slice). */
class Cropping1D extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.cropping = Array.isArray(args.cropping) ? args.cropping : [args.cropping ?? 1, args.cropping ?? 1];
  }
  computeOutputShape(s) {
    return [s[0], s[1] - this.cropping[0] - this.cropping[1], s[2]];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const T = x.shape[1];
    return tf.slice(x, [0, this.cropping[0], 0], [-1, T - this.cropping[0] - this.cropping[1], -1]);
  }
  getConfig() {
    return Object.assign(super.getConfig(), { cropping: this.cropping });
  }
}
Cropping1D.className = 'SeqcastCropping1D';

/** SeqcastUpSampling1D is keras.layers.UpSampling1D (repeat every step). */
class UpSampling1D extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.size = args.size ?? 2;
  }
  computeOutputShape(s) {
    return [s[0], s[1] * this.size, s[2]];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const [n, T, F] = x.shape;
    return tf.reshape(tf.tile(tf.expandDims(x, 2), [1, 1, this.size, 1]), [n, T * this.size, F]);
  }
  getConfig() {
    return Object.assign(super.getConfig(), { size: this.size });
  }
}
UpSampling1D.className = 'SeqcastUpSampling1D';

/** convTransposeLength is Keras's deconv_output_length. */
function convTransposeLength(T, k, padding, outputPadding, s, d) {
  const keff = k + (k - 1) * (d - 1);
  if (outputPadding == null) return padding === 'valid' ? T * s + Math.max(keff - s, 0) : T * s;
  const pad = padding === 'same' ? Math.floor(keff / 2) : 0;
  return (T - 1) * s + keff - 2 * pad + outputPadding;
}

/**
 * SeqcastConv1DTranspose is keras.layers.Conv1DTranspose, formulated as a
 * convolution: insert strides-1 zeros between the steps, pad keff-1 zeros on
 * both sides, tf.conv1d with the tap-reversed kernel (dilated), which gives
 * the full (T-1)*s + keff steps, then keep L steps from `before` on (TF's
 * SAME padding of the matching forward convolution).
 */
class Conv1DTranspose extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernel_size ?? args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'valid';
    this.dilationRate = args.dilation_rate ?? args.dilationRate ?? 1;
    const op = args.output_padding ?? args.outputPadding ?? null;
    this.outputPadding = Array.isArray(op) ? op[0] : op;
    this.useBias = args.use_bias ?? args.useBias ?? true;
    this.activationName = args.activation ?? 'linear';
    this.activation = tf.layers.activation({ activation: this.activationName });
  }
  build(inputShape) {
    const C = inputShape[inputShape.length - 1];
    const zeros = tf.initializers.zeros();
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.filters, C], null, zeros);
    this.bias = this.useBias ? this.addWeight('bias', [this.filters], null, zeros) : null;
    this.built = true;
  }
  computeOutputShape(s) {
    return [s[0], convTransposeLength(s[1], this.kernelSize, this.padding, this.outputPadding, this.strides,
      this.dilationRate), this.filters];
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const [n, T, C] = x.shape;
      const s = this.strides;
      const d = this.dilationRate;
      const k = this.kernelSize;
      const keff = d * (k - 1) + 1;
      const L = convTransposeLength(T, k, this.padding, this.outputPadding, s, d);
      const before = this.padding === 'same' ? Math.floor(Math.max((T - 1) * s + keff - L, 0) / 2) : 0;
      let z = tf.reshape(tf.pad(tf.expandDims(x, 2), [[0, 0], [0, 0], [0, s - 1], [0, 0]]), [n, T * s, C]);
      z = tf.slice(z, [0, 0, 0], [-1, (T - 1) * s + 1, -1]);
      z = tf.pad(z, [[0, 0], [keff - 1, keff - 1], [0, 0]]);
      const w = tf.reverse(tf.transpose(this.kernel.read(), [0, 2, 1]), 0); // (k, C, F), taps reversed
      let y = tf.conv1d(z, w, 1, 'valid', 'NWC', d); // (n, (T-1)*s + keff, F)
      const full = y.shape[1];
      if (before + L > full) y = tf.pad(y, [[0, 0], [0, before + L - full], [0, 0]]);
      y = tf.slice(y, [0, before, 0], [-1, L, -1]);
      if (this.useBias) y = tf.add(y, this.bias.read());
      return this.activation.apply(y);
    });
  }
  getConfig() {
    return Object.assign(super.getConfig(), {
      filters: this.filters,
      kernel_size: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilation_rate: this.dilationRate,
      output_padding: this.outputPadding,
      use_bias: this.useBias,
      activation: this.activationName,
    });
  }
}
Conv1DTranspose.className = 'SeqcastConv1DTranspose';

/**
 * SeqcastZeroMasked multiplies a sequence by its mask (1 kept, 0 masked)
 * and passes the mask on: Keras outputs zeros at masked steps from a
 * Bidirectional with return_sequences (it forces zero_output_for_mask) and
 * from an RNN with zero_output_for_mask, where TF.js repeats the previous
 * output. Without a mask it is the identity.
 */
class ZeroMasked extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.supportsMasking = true;
  }
  computeOutputShape(s) {
    return s;
  }
  call(inputs, kwargs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const mask = kwargs == null ? null : kwargs.mask;
      if (mask == null) return tf.clone(x);
      return tf.mul(x, tf.expandDims(tf.cast(mask, x.dtype), -1));
    });
  }
}
ZeroMasked.className = 'SeqcastZeroMasked';

/**
 * SeqcastDropMask is the identity and ends a mask. Keras 2.4+ and Keras 3
 * drop the mask at a layer without mask support (Conv1D, pooling,
 * Flatten, ...), while TF.js's executor carries it on to the next RNN, so
 * one follows each such layer in a model with a Masking layer.
 */
class DropMask extends tf.layers.Layer {
  constructor(args) {
    super(args);
    this.supportsMasking = true;
  }
  computeOutputShape(s) {
    return s;
  }
  computeMask() {
    return null;
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.clone(x);
  }
}
DropMask.className = 'SeqcastDropMask';

/**
 * noMask makes a recurrent class that ignores a mask. TF.js's executor
 * keeps handing the last mask it saw to every later layer (its kwargs
 * outlive the layer that had the mask), so SeqcastDropMask alone cannot end
 * one: a recurrent layer after a dropped mask is translated to its NoMask
 * variant.
 */
function noMask(Base, name) {
  class NoMask extends Base {
    call(inputs, kwargs) {
      return super.call(inputs, Object.assign({}, kwargs, { mask: null }));
    }
  }
  NoMask.className = name;
  return NoMask;
}
const NoMaskLSTM = noMask(tf.layers.lstm({ units: 1 }).constructor, 'SeqcastNoMaskLSTM');
const NoMaskGRU = noMask(tf.layers.gru({ units: 1 }).constructor, 'SeqcastNoMaskGRU');
const NoMaskSimpleRNN = noMask(tf.layers.simpleRNN({ units: 1 }).constructor, 'SeqcastNoMaskSimpleRNN');

let registered = false;

/** register adds every extension to TF.js's serialization registry (once). */
function register() {
  if (registered) return;
  for (const cls of [HardSigmoidK3, Exponential, GeluExact, CausalPad, KerasReLU, KerasELU,
    Subtract, Identity, GlobalPooling1D, GRUCellResetAfter, GRUResetAfter, ZeroPadding1D, Cropping1D,
    UpSampling1D, Conv1DTranspose, ZeroMasked, DropMask, NoMaskLSTM, NoMaskGRU, NoMaskSimpleRNN,
    NoMaskGRUResetAfter, Softmax, Normalization]) {
    tf.serialization.registerClass(cls);
  }
  registered = true;
}

module.exports = {
  register,
  erf64,
  gelu64,
  GRUCellResetAfter,
  GRUResetAfter,
  Conv1DTranspose,
  convTransposeLength,
  Softmax,
  Normalization,
};
