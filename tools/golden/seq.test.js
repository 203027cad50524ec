'use strict';
// The sequence extensions of lib/tfjs_ext.js (built from TF.js ops) against
// independent float64 loops: SeqcastConv1DTranspose (a convolution over the
// zero-inserted input) against the scatter definition of a transposed
// convolution; ZeroPadding1D, Cropping1D and UpSampling1D against index
// loops; and Masking -> Bidirectional(LSTM, return_sequences) (with the
// SeqcastZeroMasked the translator adds) against Keras's masking rule
// written out: masked steps keep the state, and a Bidirectional with
// return_sequences outputs zeros there. Also SeqcastSoftmax (Keras's Softmax
// layer over any axes; TF.js's softmax takes only the last one) and
// SeqcastNormalization (Keras's Normalization: kept axes, statistics from
// the config broadcast from the right or from the adapted weights, invert,
// the 1e-7 floor) against float64 loops.
const test = require('node:test');
const assert = require('node:assert/strict');
const tf = require('@tensorflow/tfjs');
const ext = require('./lib/tfjs_ext');
const { toTfjs } = require('./lib/translate');
const { emitModelJson } = require('./lib/keras_json');
const { Rng } = require('./lib/prng');

tf.setBackend('cpu');
ext.register();

function close(got, want, tol, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/** convT64 scatters every input step: y[i*s + j*d - before] += x[i] · kernel[j]. */
function convT64(x, [N, T, C], kernel, bias, F, K, s, d, padding, outPad) {
  const L = ext.convTransposeLength(T, K, padding, outPad, s, d);
  const keff = d * (K - 1) + 1;
  const before = padding === 'same' ? Math.floor(Math.max((T - 1) * s + keff - L, 0) / 2) : 0;
  const y = new Float64Array(N * L * F);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < L; o++) for (let f = 0; f < F; f++) y[(n * L + o) * F + f] = bias ? bias[f] : 0;
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < K; j++) {
        const p = i * s + j * d - before;
        if (p < 0 || p >= L) continue;
        for (let f = 0; f < F; f++) {
          for (let c = 0; c < C; c++) y[(n * L + p) * F + f] += x[(n * T + i) * C + c] * kernel[(j * F + f) * C + c];
        }
      }
    }
  }
  return { y, L };
}

test('SeqcastConv1DTranspose matches the scatter definition', () => {
  const rng = new Rng('seq.test/convT');
  for (const [T, C, F, K, s, d, padding, outPad] of [
    [5, 2, 3, 3, 2, 1, 'valid', null], [4, 3, 2, 2, 3, 1, 'valid', null], [5, 2, 4, 3, 2, 1, 'same', null],
    [6, 2, 2, 4, 1, 1, 'same', null], [4, 2, 3, 5, 3, 1, 'same', 2], [4, 2, 3, 3, 2, 1, 'valid', 1],
    [5, 2, 2, 3, 1, 2, 'valid', null], [5, 1, 2, 2, 1, 3, 'same', null]]) {
    const N = 2;
    const x = rng.uniformArray(N * T * C, -1, 1);
    const kernel = rng.uniformArray(K * F * C, -1, 1);
    const bias = rng.uniformArray(F, -0.5, 0.5);
    const layer = new ext.Conv1DTranspose({ filters: F, kernel_size: K, strides: s, padding, dilation_rate: d,
      output_padding: outPad });
    layer.build([N, T, C]);
    layer.setWeights([tf.tensor(kernel, [K, F, C]), tf.tensor(bias, [F])]);
    const got = layer.apply(tf.tensor(x, [N, T, C])).dataSync();
    const want = convT64(x, [N, T, C], kernel, bias, F, K, s, d, padding, outPad);
    close(got, want.y, 1e-5, `convT T=${T} K=${K} s=${s} d=${d} ${padding} op=${outPad}`);
  }
});

test('SeqcastZeroPadding1D, Cropping1D and UpSampling1D match index loops', () => {
  const rng = new Rng('seq.test/pad');
  const [N, T, F] = [2, 5, 3];
  const x = rng.uniformArray(N * T * F, -1, 1);
  const at = (n, t, f) => x[(n * T + t) * F + f];
  const cases = [
    [new (tf.serialization.SerializationMap.getMap().classNameMap.SeqcastZeroPadding1D[0])({ padding: [2, 1] }), 8,
      (n, t, f) => (t < 2 || t >= 2 + T ? 0 : at(n, t - 2, f))],
    [new (tf.serialization.SerializationMap.getMap().classNameMap.SeqcastCropping1D[0])({ cropping: [1, 2] }), 2,
      (n, t, f) => at(n, t + 1, f)],
    [new (tf.serialization.SerializationMap.getMap().classNameMap.SeqcastUpSampling1D[0])({ size: 3 }), 15,
      (n, t, f) => at(n, Math.floor(t / 3), f)],
  ];
  for (const [layer, L, ref] of cases) {
    const got = layer.apply(tf.tensor(x, [N, T, F])).dataSync();
    const want = [];
    for (let n = 0; n < N; n++) for (let t = 0; t < L; t++) for (let f = 0; f < F; f++) want.push(ref(n, t, f));
    close(got, want, 0, layer.getClassName());
  }
});

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

/** lstm64 is one sample through a Keras LSTM with a mask; returns per-step outputs. */
function lstm64(x, T, F, u, W, U, b, mask, backwards, zeroOut) {
  let h = new Array(u).fill(0);
  let c = new Array(u).fill(0);
  const outs = [];
  for (let step = 0; step < T; step++) {
    const t = backwards ? T - 1 - step : step;
    if (mask[t]) {
      const z = new Array(4 * u).fill(0);
      for (let j = 0; j < 4 * u; j++) {
        z[j] = b[j];
        for (let f = 0; f < F; f++) z[j] += x[t * F + f] * W[f * 4 * u + j];
        for (let k = 0; k < u; k++) z[j] += h[k] * U[k * 4 * u + j];
      }
      const nc = c.map((cv, j) => sigmoid(z[u + j]) * cv + sigmoid(z[j]) * Math.tanh(z[2 * u + j]));
      h = nc.map((cv, j) => sigmoid(z[3 * u + j]) * Math.tanh(cv));
      c = nc;
    }
    outs.push(mask[t] || !zeroOut ? h.slice() : new Array(u).fill(0));
  }
  return outs; // processing order
}

test('a masked Bidirectional(LSTM) sequence follows Keras', async () => {
  const spec = {
    name: 'seq_test_mask', dialect: 'k3', keras_version: '3.13.2', input: [5, 2], n: 3,
    layers: [
      { cls: 'Masking', cfg: {} },
      { cls: 'Bidirectional', cfg: { layer: { cls: 'LSTM', cfg: { units: 2, return_sequences: true } } } },
    ],
  };
  const { modelTopology } = toTfjs(emitModelJson(spec));
  assert.ok(modelTopology.config.layers.some((l) => l.class_name === 'SeqcastZeroMasked'));
  const model = await tf.models.modelFromJSON({ modelTopology });
  const rng = new Rng('seq.test/mask');
  const [T, F, u] = [5, 2, 2];
  const ws = model.layers.filter((l) => l.weights.length).map((l) => l.weights.map((w) => rng.uniformArray(w.shape.reduce((a, b) => a * b, 1), -0.8, 0.8)));
  model.layers.filter((l) => l.weights.length).forEach((l, i) => l.setWeights(l.weights.map((w, k) => tf.tensor(ws[i][k], w.shape))));
  const masks = [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [1, 0, 1, 1, 0]];
  const x = rng.uniformArray(3 * T * F, -1, 1);
  masks.forEach((m, s) => m.forEach((keep, t) => { if (!keep) x.fill(0, (s * T + t) * F, (s * T + t + 1) * F); }));
  const got = model.predict(tf.tensor(x, [3, T, F])).dataSync();
  const [[fW, fU, fb, bW, bU, bb]] = ws;
  const want = [];
  masks.forEach((m, s) => {
    const xs = x.slice(s * T * F, (s + 1) * T * F);
    const f = lstm64(xs, T, F, u, fW, fU, fb, m, false, true);
    const b = lstm64(xs, T, F, u, bW, bU, bb, m, true, true).reverse();
    for (let t = 0; t < T; t++) want.push(...f[t], ...b[t]);
  });
  assert.ok(want.some((v, i) => v === 0 && Math.abs(got[i]) === 0), 'no masked step in the output');
  close(got, want, 1e-5, 'masked model');
});

/** coords lists the multi-indices of shape in row-major order. */
function coords(shape) {
  const out = [];
  const c = shape.map(() => 0);
  const n = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    out.push(c.slice());
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++c[d] < shape[d]) break;
      c[d] = 0;
    }
  }
  return out;
}

/** groupKey is the position of c over the axes not in `over`. */
const groupKey = (c, over) => c.filter((_, d) => !over.includes(d)).join(',');

function softmax64(x, shape, over) {
  const cs = coords(shape);
  const sum = new Map();
  cs.forEach((c, i) => sum.set(groupKey(c, over), (sum.get(groupKey(c, over)) || 0) + Math.exp(x[i])));
  return cs.map((c, i) => Math.exp(x[i]) / sum.get(groupKey(c, over)));
}

test('SeqcastSoftmax matches a float64 softmax over the given axes', () => {
  const rng = new Rng('merge-test/softmax');
  const shape = [3, 4, 5];
  const x = rng.uniformArray(60, -4, 4);
  for (const [axes, over] of [[[1], [1]], [[-1], [2]], [[1, 2], [1, 2]], [[-2, 2], [1, 2]]]) {
    const layer = new ext.Softmax({ axes });
    const y = layer.apply(tf.tensor(x, shape));
    close(y.dataSync(), softmax64(Array.from(x, Number), shape, over), 1e-6, `axes ${axes}`);
  }
});

/** norm64 is Keras's Normalization with per-kept-position statistics. */
function norm64(x, shape, keep, mean, variance, invert) {
  return coords(shape).map((c, i) => {
    const k = keep.reduce((acc, d) => acc * shape[d] + c[d], 0);
    const sd = Math.max(Math.sqrt(variance[k]), 1e-7);
    return invert ? mean[k] + x[i] * sd : (x[i] - mean[k]) / sd;
  });
}

test('SeqcastNormalization matches Keras\'s formula', () => {
  const rng = new Rng('merge-test/normalization');
  const shape = [2, 4, 3];
  const x = Array.from(rng.uniformArray(24, -3, 3), Number);
  const m3 = [0.5, -1, 2];
  const v3 = [4, 0.25, 0];
  const m4 = [1, 2, 3, 4];
  const v4 = [1, 9, 0.01, 2];
  const cases = [
    ['config, last axis', { axis: [-1], mean: m3, variance: v3 }, [2], m3, v3],
    ['config, time axis', { axis: [1], mean: m4, variance: v4 }, [1], m4, v4],
    ['config, scalar, axis None', { axis: [], mean: 1.5, variance: 2 }, [], [1.5], [2]],
    ['config, two axes, (4, 1) broadcast', { axis: [1, 2], mean: m4.map((v) => [v]), variance: v4.map((v) => [v]) },
      [1, 2], m4.flatMap((v) => [v, v, v]), v4.flatMap((v) => [v, v, v])],
    ['config, invert', { axis: [-1], mean: m3, variance: v3, invert: true }, [2], m3, v3],
  ];
  for (const [what, args, keep, mean, variance] of cases) {
    const layer = new ext.Normalization(args);
    const y = layer.apply(tf.tensor(x, shape));
    close(y.dataSync(), norm64(x, shape, keep, mean, variance, !!args.invert), 1e-6, what);
  }
  // Adapted: the weights mean, variance and count.
  const layer = new ext.Normalization({ axis: [-1], invert: false });
  layer.apply(tf.tensor(x, shape));
  assert.deepEqual(layer.weights.map((w) => w.originalName.split('/').pop()), ['mean', 'variance', 'count']);
  layer.setWeights([tf.tensor(m3), tf.tensor(v3), tf.scalar(7)]);
  close(layer.apply(tf.tensor(x, shape)).dataSync(), norm64(x, shape, [2], m3, v3, false), 1e-6, 'adapted');
});
