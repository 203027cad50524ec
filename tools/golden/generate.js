#!/usr/bin/env node
'use strict';
// Regenerates every TF.js golden bundle of parity/testdata/golden/<case>/:
//   model.json          the case's Keras config in its Keras dialect
//   weights/NNN.npy     seeded random weights in Keras get_weights() order
//   input.npy           seeded inputs (N, T, F) float32
//   expected.npy        TensorFlow.js Layers 4.22 (CPU backend) outputs, float32
//   manifest.json       (some cases) sha256 of every file, optional self-test
// Usage: node generate.js [case-name-substring ...]
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const tf = require('@tensorflow/tfjs');
const ext = require('./lib/tfjs_ext');
const { emitModelJson, pyJson } = require('./lib/keras_json');
const { toTfjs } = require('./lib/translate');
const { writeNpy } = require('./lib/npy');
const { Rng } = require('./lib/prng');
const { cases } = require('./cases');

const OUT_DIR = path.join(__dirname, '..', '..', 'parity', 'testdata', 'golden');

/** buildTfjs builds the TF.js model of a Keras model.json. */
async function buildTfjs(modelJson) {
  const { modelTopology, inserted, renamed = {} } = toTfjs(modelJson);
  const model = await tf.models.modelFromJSON({ modelTopology });
  return { model, inserted, renamed, modelTopology };
}

/** shapeInfo reads each Keras layer's input/output shape from a built TF.js model. */
function shapeInfo(model, inserted, renamed = {}) {
  const inShapes = {};
  const outShapes = {};
  const names = new Set(model.layers.map((l) => l.name));
  const kerasName = Object.fromEntries(Object.entries(renamed).map(([k, v]) => [v, k]));
  for (const l0 of model.layers) {
    if (inserted.includes(l0.name) || l0.name in renamed) continue;
    const l = l0;
    const pad = `${l.name}__causal_pad`;
    const src = names.has(pad) ? model.getLayer(pad) : l;
    const node = src.inboundNodes[0];
    const shapes = node.inputTensors.map((t) => t.shape);
    const kn = kerasName[l.name] || l.name;
    inShapes[kn] = shapes.length === 1 ? shapes[0] : shapes;
    outShapes[kn] = l.outputShape;
  }
  return { inShapes, outShapes };
}

/** weightValues draws one weight array, scaled by what the weight is. */
function weightValues(rng, varName, shape, scale) {
  const kind = varName.split('/').pop().replace(/_\d+$/, '');
  const n = shape.reduce((a, b) => a * b, 1);
  const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : shape[0];
  switch (kind) {
    case 'kernel': {
      const s = scale * 1.2 * Math.sqrt(3 / fanIn);
      return rng.uniformArray(n, -s, s);
    }
    case 'recurrent_kernel': { // fan-in: units, or kernel rows x cols x filters for a ConvLSTM
      const s = scale * 0.9 * Math.sqrt(3 / fanIn);
      return rng.uniformArray(n, -s, s);
    }
    case 'bias':
      return rng.uniformArray(n, -0.5, 0.5);
    case 'gamma':
      return rng.uniformArray(n, 0.6, 1.4);
    case 'beta':
      return rng.uniformArray(n, -0.4, 0.4);
    case 'moving_mean':
      return rng.uniformArray(n, -0.5, 0.5);
    case 'moving_variance':
      return rng.uniformArray(n, 0.4, 1.6); // strictly positive
    case 'alpha':
      return rng.uniformArray(n, -0.2, 0.6);
    case 'mean': // Normalization's adapted statistics
      return rng.uniformArray(n, -2, 2);
    case 'variance':
      return rng.uniformArray(n, 0.05, 9); // strictly positive
    case 'count':
      return new Float32Array(n).fill(1000); // unused at inference
    case 'embeddings':
      return rng.uniformArray(n, -1, 1);
    default:
      throw new Error(`no value rule for weight ${varName}`);
  }
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function pad3(i) {
  return String(i).padStart(3, '0');
}

/**
 * maskSteps sets whole time steps of the input to the Masking layer's
 * mask_value: spec.masked.steps[s % len] lists sample s's masked steps
 * ('all' for every step), so that a case shows left padding, holes and a
 * fully masked sample.
 */
function maskSteps(spec, x) {
  const [T, F] = spec.input;
  const { value, steps } = spec.masked;
  for (let s = 0; s < spec.n; s++) {
    let list = steps[s % steps.length];
    if (list === 'all') list = [...Array(T).keys()];
    for (const t of list) x.fill(value, (s * T + t) * F, (s * T + t + 1) * F);
  }
}

/** idValues draws n integer ids in [0, dim), every one of 0 and dim-1 included when n allows. */
function idValues(rng, n, dim) {
  const x = rng.uniformArray(n, 0, dim).map(Math.floor);
  if (n >= 2) {
    x[0] = 0;
    x[n - 1] = dim - 1;
  }
  return x;
}

/** generateCase writes one bundle and returns a summary line. */
async function generateCase(spec, outDir = OUT_DIR) {
  // Pass 1: build once to learn every layer's shapes (for build_config,
  // Keras 2 list axes and Keras 3 keras_tensor shapes).
  const first = await buildTfjs(emitModelJson(spec));
  const info = shapeInfo(first.model, first.inserted, first.renamed);
  first.model.dispose();

  // Pass 2: the model.json that is written is the one translated and run.
  const modelJson = emitModelJson(spec, info);
  const { model, renamed } = await buildTfjs(modelJson);

  const rng = new Rng(`seqcast-golden/${spec.name}`);
  const arrays = [];
  for (const entry of modelJson.config.layers) {
    if (entry.class_name === 'InputLayer') continue;
    const name = entry.name || entry.config.name;
    const layer = model.getLayer(renamed[name] || name);
    const vals = layer.weights.map((w) => {
      const data = weightValues(rng, w.originalName, w.shape, spec.weight_scale ?? 1);
      arrays.push({ data, shape: w.shape, layer: name, weight: w.originalName });
      return tf.tensor(data, w.shape, 'float32');
    });
    if (vals.length) layer.setWeights(vals);
    vals.forEach((v) => v.dispose());
  }

  const [lo, hi] = spec.input_range || [-1.5, 1.5];
  // A multi-input or multi-output case (spec.inputs / spec.outputs) writes
  // input_<j>.npy and expected_<j>.npy, in the model's input and output order.
  const multi = Boolean(spec.inputs || spec.outputs);
  const xs = [];
  for (const s of spec.inputs || [{ shape: spec.input, ids: spec.input_ids }]) {
    const shape = [spec.n, ...s.shape];
    // An Embedding's input (ids: its input_dim) holds integer ids in range.
    const x = s.ids ? idValues(rng, shape.reduce((a, b) => a * b, 1), s.ids)
      : rng.uniformArray(shape.reduce((a, b) => a * b, 1), lo, hi);
    if (spec.masked) maskSteps(spec, x);
    xs.push({ x, shape, t: tf.tensor(x, shape, 'float32') });
  }
  const pred = model.predict(multi ? xs.map((e) => e.t) : xs[0].t);
  const ys = (Array.isArray(pred) ? pred : [pred]).map((t) => ({ y: t.dataSync(), shape: t.shape, t }));
  for (const { y } of ys) {
    if (!y.every(Number.isFinite)) throw new Error(`case ${spec.name}: non-finite output`);
  }
  const { x, shape } = xs[0];
  const { y, shape: yShape } = ys[0];

  const dir = path.join(outDir, spec.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'weights'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), pyJson(modelJson));
  arrays.forEach((a, i) => writeNpy(path.join(dir, 'weights', `${pad3(i)}.npy`), a.data, a.shape));
  if (multi) {
    xs.forEach((e, j) => writeNpy(path.join(dir, `input_${j}.npy`), e.x, e.shape));
    ys.forEach((e, j) => writeNpy(path.join(dir, `expected_${j}.npy`), e.y, e.shape));
  } else {
    writeNpy(path.join(dir, 'input.npy'), x, shape);
    writeNpy(path.join(dir, 'expected.npy'), y, yShape);
  }

  if (spec.manifest) {
    const files = ['model.json', ...arrays.map((_, i) => `weights/${pad3(i)}.npy`)];
    if (spec.manifest === 'self_test') files.push('input.npy', 'expected.npy');
    const manifest = {
      name: spec.name,
      version: '1',
      keras_version: modelJson.keras_version,
      files: Object.fromEntries(files.map((f) => [f, sha256(path.join(dir, f))])),
    };
    if (spec.manifest === 'self_test') {
      manifest.self_test = { input: 'input.npy', output: 'expected.npy', tolerance: 1e-4 };
    }
    fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  let absMax = 0;
  for (const e of ys) for (const v of e.y) absMax = Math.max(absMax, Math.abs(v));
  xs.forEach((e) => e.t.dispose());
  ys.forEach((e) => e.t.dispose());
  model.dispose();
  const outs = multi ? ys.map((e) => e.shape) : yShape;
  return `${spec.name.padEnd(36)} ${spec.dialect.padEnd(6)} ${modelJson.keras_version.padEnd(7)} ` +
    `weights=${String(arrays.length).padStart(2)} out=${JSON.stringify(outs)} max|y|=${absMax.toFixed(3)}`;
}

async function main() {
  await tf.setBackend('cpu');
  ext.register();
  const filters = process.argv.slice(2);
  const selected = cases.filter((c) => filters.length === 0 || filters.some((f) => c.name.includes(f)));
  if (selected.length === 0) throw new Error(`no case matches ${filters.join(' ')}`);
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    names.add(c.name);
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  if (filters.length === 0) {
    // Remove bundles of cases that no longer exist.
    for (const d of fs.readdirSync(OUT_DIR)) {
      if (!names.has(d) && fs.statSync(path.join(OUT_DIR, d)).isDirectory()) {
        fs.rmSync(path.join(OUT_DIR, d), { recursive: true });
      }
    }
  }
  for (const spec of selected) {
    const t0 = Date.now();
    const line = await generateCase(spec);
    console.log(`${line} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  console.log(`wrote ${selected.length} case(s) to ${path.relative(process.cwd(), OUT_DIR)}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { buildTfjs, generateCase, weightValues, OUT_DIR };
