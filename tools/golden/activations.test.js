'use strict';
// Every activation and activation layer the goldens use, run the way the
// generator runs it (a Keras config through the translator into TF.js),
// against Keras's definition evaluated in float64.
const test = require('node:test');
const assert = require('node:assert/strict');
const tf = require('@tensorflow/tfjs');
const ext = require('./lib/tfjs_ext');
const { toTfjs } = require('./lib/translate');

const sig = (v) => 1 / (1 + Math.exp(-v));
const SELU_A = 1.6732632423543772848170429916717;
const SELU_S = 1.0507009873554804934193349852946;
const KERAS = {
  linear: (v) => v,
  relu: (v) => Math.max(0, v),
  sigmoid: sig,
  tanh: Math.tanh,
  softplus: (v) => Math.log1p(Math.exp(v)),
  softsign: (v) => v / (1 + Math.abs(v)),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  selu: (v) => SELU_S * (v > 0 ? v : SELU_A * Math.expm1(v)),
  gelu: ext.gelu64,
  swish: (v) => v * sig(v),
  silu: (v) => v * sig(v),
  exponential: Math.exp,
};
const HARD_K2 = (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5));
const HARD_K3 = (v) => Math.min(6, Math.max(0, v + 3)) / 6;

const xs = [];
for (let i = -600; i <= 600; i++) xs.push(Math.fround(i / 100 + 0.0037));

/** run applies one layer (Keras config in the given version) to xs. */
async function run(layer, version) {
  const model = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, xs.length], name: 'in' } },
        { class_name: layer.class_name, config: Object.assign({ name: 'l' }, layer.config) }],
    },
    keras_version: version,
  };
  const m = await tf.models.modelFromJSON({ modelTopology: toTfjs(model).modelTopology });
  return m.predict(tf.tensor(xs, [1, xs.length])).dataSync();
}

/** check asserts |got - want| <= 1e-6 + 1e-6 |want| everywhere. */
function check(name, got, f) {
  let worst = 0;
  xs.forEach((v, i) => {
    const w = f(v);
    worst = Math.max(worst, Math.abs(got[i] - w) / (1e-6 + 1e-6 * Math.abs(w)));
  });
  assert.ok(worst <= 1, `${name}: worst err/tol ${worst}`);
}

test('activations match Keras definitions in float64', async () => {
  await tf.setBackend('cpu');
  ext.register();
  for (const [name, f] of Object.entries(KERAS)) {
    check(name, await run({ class_name: 'Activation', config: { activation: name } }, '3.10.0'), f);
  }
  check('hard_sigmoid (Keras 2)', await run({ class_name: 'Activation', config: { activation: 'hard_sigmoid' } }, '2.15.0'), HARD_K2);
  check('hard_sigmoid (Keras 3)', await run({ class_name: 'Activation', config: { activation: 'hard_sigmoid' } }, '3.0.0'), HARD_K3);
  // softmax over the whole row
  const got = await run({ class_name: 'Activation', config: { activation: 'softmax' } }, '2.12.0');
  const mx = Math.max(...xs);
  const den = xs.reduce((a, v) => a + Math.exp(v - mx), 0);
  check('softmax', got, (v) => Math.exp(v - mx) / den);
});

test('TF.js gelu alone would be off by its erf approximation', async () => {
  await tf.setBackend('cpu');
  const y = tf.layers.activation({ activation: 'gelu' }).apply(tf.tensor(xs)).dataSync();
  let maxAbs = 0;
  xs.forEach((v, i) => { maxAbs = Math.max(maxAbs, Math.abs(y[i] - ext.gelu64(v))); });
  assert.ok(maxAbs > 1e-7 && maxAbs < 1e-5, `TF.js gelu max |err| ${maxAbs}`);
});

test('activation layers match Keras', async () => {
  await tf.setBackend('cpu');
  ext.register();
  // Keras backend.relu / keras.activations.relu
  const kerasRelu = (a, m, t) => (v) => {
    if (a !== 0 && m == null && t === 0) return v > 0 ? v : a * v;
    const neg = Math.max(0, t - v);
    let x = t !== 0 ? (v > t ? v : 0) : Math.max(0, v);
    if (m != null) x = Math.min(Math.max(x, 0), m);
    return x - a * neg;
  };
  const relus = [[0, 6, 0], [0.1, 1.5, 0.2], [0.05, null, 0], [0, null, 0.3], [0.2, null, 0.1], [0, 2, 0.5], [0, 0.8, 0]];
  for (const [a, m, t] of relus) {
    const got = await run({ class_name: 'ReLU', config: { max_value: m, negative_slope: a, threshold: t } }, '2.15.0');
    check(`ReLU(${a}, ${m}, ${t})`, got, kerasRelu(a, m, t));
  }
  for (const alpha of [1, 0.7, 1.5]) {
    const got = await run({ class_name: 'ELU', config: { alpha } }, '2.15.0');
    check(`ELU(${alpha})`, got, (v) => (v > 0 ? v : alpha * Math.expm1(v)));
  }
  check('LeakyReLU K3', await run({ class_name: 'LeakyReLU', config: { negative_slope: 0.1 } }, '3.10.0'), (v) => (v > 0 ? v : 0.1 * v));
  check('LeakyReLU K2', await run({ class_name: 'LeakyReLU', config: { alpha: 0.3 } }, '2.12.0'), (v) => (v > 0 ? v : 0.3 * v));
});

test('causal padding equals Keras causal Conv1D', async () => {
  await tf.setBackend('cpu');
  ext.register();
  const [T, k, d] = [9, 3, 2];
  const x = Array.from({ length: T }, (_, i) => Math.fround(Math.sin(i + 1)));
  const w = [0.5, -1.25, 2];
  const model = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, T, 1], name: 'in' } },
        { class_name: 'Conv1D', config: { name: 'c', filters: 1, kernel_size: [k], dilation_rate: [d], padding: 'causal', use_bias: false } }],
    },
    keras_version: '2.12.0',
  };
  const m = await tf.models.modelFromJSON({ modelTopology: toTfjs(model).modelTopology });
  m.getLayer('c').setWeights([tf.tensor(w, [k, 1, 1])]);
  const got = m.predict(tf.tensor(x, [1, T, 1])).dataSync();
  // y[t] = sum_j w[j] x[t - d*(k-1-j)], zeros before the start
  const want = x.map((_, t) => w.reduce((s, wj, j) => {
    const src = t - d * (k - 1 - j);
    return s + (src >= 0 ? wj * x[src] : 0);
  }, 0));
  assert.equal(got.length, T);
  want.forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-6, `t=${i}: ${got[i]} vs ${v}`));
});
