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

let registered = false;

/** register adds every extension to TF.js's serialization registry (once). */
function register() {
  if (registered) return;
  for (const cls of [HardSigmoidK3, Exponential, GeluExact, CausalPad, KerasReLU, KerasELU,
    Subtract, Identity, GlobalPooling1D, GRUCellResetAfter, GRUResetAfter]) {
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
};
