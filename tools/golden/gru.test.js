'use strict';
// The TF.js GRU(reset_after=True) built from ops (lib/tfjs_ext.js) against an
// independent float64 loop written from Keras's GRUCell.call, for both
// reset_after values, go_backwards, return_sequences, use_bias=False and
// Bidirectional; the LSTM reference checks TF.js's own go_backwards order.
const test = require('node:test');
const assert = require('node:assert/strict');
const tf = require('@tensorflow/tfjs');
const ext = require('./lib/tfjs_ext');
const { toTfjs } = require('./lib/translate');
const { Rng } = require('./lib/prng');

const sigmoid = (v) => 1 / (1 + Math.exp(-v));
const ACT = {
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
  sigmoid,
  hard_sigmoid_k2: (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5)),
  hard_sigmoid_k3: (v) => Math.min(6, Math.max(0, v + 3)) / 6,
};

/** gru64 runs a Keras GRU on x (N, T, F) in float64; W (F,3u), U (u,3u) row-major. */
function gru64(x, [N, T, F], u, W, U, b, o) {
  const act = ACT[o.act];
  const rec = ACT[o.rec];
  const out = [];
  for (let s = 0; s < N; s++) {
    let h = new Array(u).fill(0);
    const seq = [];
    for (let step = 0; step < T; step++) {
      const t = o.goBackwards ? T - 1 - step : step;
      const xt = x.slice((s * T + t) * F, (s * T + t + 1) * F);
      const mx = new Array(3 * u).fill(0);
      for (let j = 0; j < 3 * u; j++) {
        for (let f = 0; f < F; f++) mx[j] += xt[f] * W[f * 3 * u + j];
        if (o.useBias) mx[j] += o.resetAfter ? b[j] : b[j];
      }
      const inner = (vec, col0, cols) => {
        const r = new Array(cols).fill(0);
        for (let j = 0; j < cols; j++) for (let k = 0; k < u; k++) r[j] += vec[k] * U[k * 3 * u + col0 + j];
        return r;
      };
      const next = new Array(u);
      if (o.resetAfter) {
        const mi = inner(h, 0, 3 * u);
        if (o.useBias) for (let j = 0; j < 3 * u; j++) mi[j] += b[3 * u + j];
        for (let j = 0; j < u; j++) {
          const z = rec(mx[j] + mi[j]);
          const r = rec(mx[u + j] + mi[u + j]);
          const hh = act(mx[2 * u + j] + r * mi[2 * u + j]);
          next[j] = z * h[j] + (1 - z) * hh;
        }
      } else {
        const zr = inner(h, 0, 2 * u);
        const z = zr.slice(0, u).map((v, j) => rec(mx[j] + v));
        const r = zr.slice(u).map((v, j) => rec(mx[u + j] + v));
        const rh = inner(h.map((v, j) => r[j] * v), 2 * u, u);
        for (let j = 0; j < u; j++) {
          const hh = act(mx[2 * u + j] + rh[j]);
          next[j] = z[j] * h[j] + (1 - z[j]) * hh;
        }
      }
      h = next;
      seq.push(h);
    }
    if (o.returnSequences) seq.forEach((v) => out.push(...v));
    else out.push(...h);
  }
  return out;
}

/** lstm64 is Keras's LSTM in float64 (gate blocks i, f, c, o). */
function lstm64(x, [N, T, F], u, W, U, b, o) {
  const act = ACT[o.act];
  const rec = ACT[o.rec];
  const out = [];
  for (let s = 0; s < N; s++) {
    let h = new Array(u).fill(0);
    let c = new Array(u).fill(0);
    const seq = [];
    for (let step = 0; step < T; step++) {
      const t = o.goBackwards ? T - 1 - step : step;
      const z = new Array(4 * u).fill(0);
      for (let j = 0; j < 4 * u; j++) {
        for (let f = 0; f < F; f++) z[j] += x[(s * T + t) * F + f] * W[f * 4 * u + j];
        for (let k = 0; k < u; k++) z[j] += h[k] * U[k * 4 * u + j];
        z[j] += b[j];
      }
      const nc = new Array(u);
      const nh = new Array(u);
      for (let j = 0; j < u; j++) {
        nc[j] = rec(z[u + j]) * c[j] + rec(z[j]) * act(z[2 * u + j]);
        nh[j] = rec(z[3 * u + j]) * act(nc[j]);
      }
      c = nc;
      h = nh;
      seq.push(h);
    }
    if (o.returnSequences) seq.forEach((v) => out.push(...v));
    else out.push(...h);
  }
  return out;
}

/** rnnModel builds a one-layer model from a Keras-3-dialect config via the translator. */
async function rnnModel(cls, cfg, shape, keras3, bidi) {
  let layer = { module: 'keras.layers', class_name: cls, config: Object.assign({ name: 'rnn', dtype: 'float32' }, cfg) };
  if (bidi) {
    const back = JSON.parse(JSON.stringify(layer));
    back.config.name = 'backward_rnn';
    back.config.go_backwards = true;
    layer = { class_name: 'Bidirectional', config: { name: 'bi', layer, backward_layer: keras3 ? back : undefined, merge_mode: bidi } };
    if (!keras3) delete layer.config.backward_layer;
  }
  const model = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [{ class_name: 'InputLayer', config: { batch_shape: [null, ...shape], name: 'in' } }, layer],
    },
    keras_version: keras3 ? '3.10.0' : '2.15.0',
  };
  return tf.models.modelFromJSON({ modelTopology: toTfjs(model).modelTopology });
}

const CONFIGS = [];
for (const resetAfter of [true, false]) {
  for (const goBackwards of [false, true]) {
    for (const returnSequences of [false, true]) {
      CONFIGS.push({ resetAfter, goBackwards, returnSequences, useBias: true, act: 'tanh', rec: 'sigmoid' });
    }
  }
  CONFIGS.push({ resetAfter, goBackwards: false, returnSequences: true, useBias: false, act: 'relu', rec: 'hard_sigmoid_k3' });
  CONFIGS.push({ resetAfter, goBackwards: true, returnSequences: false, useBias: true, act: 'tanh', rec: 'hard_sigmoid_k2' });
}

test('GRU matches a float64 loop', async (t) => {
  await tf.setBackend('cpu');
  ext.register();
  const [N, T, F, u] = [3, 6, 4, 5];
  for (const o of CONFIGS) {
    await t.test(JSON.stringify(o), async () => {
      const keras3 = o.rec === 'hard_sigmoid_k3';
      const rng = new Rng(`gru/${JSON.stringify(o)}`);
      const W = rng.uniformArray(F * 3 * u, -0.9, 0.9);
      const U = rng.uniformArray(u * 3 * u, -0.7, 0.7);
      const b = rng.uniformArray(o.resetAfter ? 6 * u : 3 * u, -0.5, 0.5);
      const x = rng.uniformArray(N * T * F, -2, 2);
      const model = await rnnModel('GRU', {
        units: u, reset_after: o.resetAfter, go_backwards: o.goBackwards, return_sequences: o.returnSequences,
        use_bias: o.useBias, activation: o.act, recurrent_activation: o.rec.startsWith('hard') ? 'hard_sigmoid' : o.rec,
      }, [T, F], keras3);
      const layer = model.getLayer('rnn');
      const ws = [tf.tensor(W, [F, 3 * u]), tf.tensor(U, [u, 3 * u])];
      if (o.useBias) ws.push(o.resetAfter ? tf.tensor(b, [2, 3 * u]) : tf.tensor(b, [3 * u]));
      assert.deepEqual(layer.weights.map((w) => w.shape), ws.map((w) => w.shape));
      layer.setWeights(ws);
      const got = model.predict(tf.tensor(x, [N, T, F])).dataSync();
      const want = gru64(Array.from(x), [N, T, F], u, W, U, b, o);
      assert.equal(got.length, want.length);
      const err = Math.max(...want.map((w, i) => Math.abs(w - got[i])));
      assert.ok(err < 2e-6, `max |err| ${err}`);
    });
  }
});

test('Bidirectional GRU(reset_after) and LSTM match float64 loops', async () => {
  await tf.setBackend('cpu');
  ext.register();
  const [N, T, F, u] = [2, 5, 3, 4];
  for (const [cls, gates] of [['GRU', 3], ['LSTM', 4]]) {
    for (const mode of ['concat', 'sum', 'ave', 'mul']) {
      for (const returnSequences of [false, true]) {
        const rng = new Rng(`bidi/${cls}/${mode}/${returnSequences}`);
        const mk = () => ({
          W: rng.uniformArray(F * gates * u, -0.9, 0.9),
          U: rng.uniformArray(u * gates * u, -0.7, 0.7),
          b: rng.uniformArray((cls === 'GRU' ? 2 : 1) * gates * u, -0.5, 0.5),
        });
        const fw = mk();
        const bw = mk();
        const x = rng.uniformArray(N * T * F, -2, 2);
        const model = await rnnModel(cls, { units: u, return_sequences: returnSequences, activation: 'tanh', recurrent_activation: 'sigmoid' },
          [T, F], true, mode);
        const bshape = cls === 'GRU' ? [2, gates * u] : [gates * u];
        const ts = (p) => [tf.tensor(p.W, [F, gates * u]), tf.tensor(p.U, [u, gates * u]), tf.tensor(p.b, bshape)];
        model.getLayer('bi').setWeights([...ts(fw), ...ts(bw)]);
        const got = model.predict(tf.tensor(x, [N, T, F])).dataSync();
        const ref = cls === 'GRU' ? gru64 : lstm64;
        const base = { resetAfter: true, useBias: true, act: 'tanh', rec: 'sigmoid', returnSequences };
        const f = ref(Array.from(x), [N, T, F], u, fw.W, fw.U, fw.b, Object.assign({}, base, { goBackwards: false }));
        const bk = ref(Array.from(x), [N, T, F], u, bw.W, bw.U, bw.b, Object.assign({}, base, { goBackwards: true }));
        // Keras puts the backward sequence back in time order before merging.
        const steps = returnSequences ? T : 1;
        const want = [];
        for (let s = 0; s < N; s++) {
          for (let k = 0; k < steps; k++) {
            const fv = f.slice((s * steps + k) * u, (s * steps + k + 1) * u);
            const kb = returnSequences ? steps - 1 - k : k;
            const bv = bk.slice((s * steps + kb) * u, (s * steps + kb + 1) * u);
            if (mode === 'concat') want.push(...fv, ...bv);
            else want.push(...fv.map((v, j) => ({ sum: v + bv[j], ave: (v + bv[j]) / 2, mul: v * bv[j] })[mode]));
          }
        }
        assert.equal(got.length, want.length, `${cls} ${mode}`);
        const err = Math.max(...want.map((w, i) => Math.abs(w - got[i])));
        assert.ok(err < 2e-6, `${cls} ${mode} rs=${returnSequences}: max |err| ${err}`);
      }
    }
  }
});
