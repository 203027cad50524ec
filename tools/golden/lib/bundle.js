'use strict';
// Runs an on-disk bundle (model.json + weights/NNN.npy) in TF.js: the
// inverse of generate.js, used by the tests to re-check the goldens.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { toTfjs } = require('./translate');
const { readNpy } = require('./npy');

/**
 * loadBundle builds the TF.js model of dir/model.json (or of `modelJson`
 * when given) and sets dir/weights/*.npy in Keras get_weights() order:
 * layer by layer in model.json order, each layer's own order within.
 */
async function loadBundle(dir, modelJson) {
  const json = modelJson || JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const { modelTopology, renamed = {} } = toTfjs(json);
  const model = await tf.models.modelFromJSON({ modelTopology });
  const wdir = path.join(dir, 'weights');
  const files = fs.existsSync(wdir) ? fs.readdirSync(wdir).filter((f) => f.endsWith('.npy')).sort() : [];
  let next = 0;
  for (const entry of json.config.layers) {
    if (entry.class_name === 'InputLayer') continue;
    const name = entry.name || entry.config.name;
    const layer = model.getLayer(renamed[name] || name);
    if (layer.weights.length === 0) continue;
    const vals = layer.weights.map((w) => {
      if (next >= files.length) throw new Error(`${dir}: too few weight files`);
      const a = readNpy(path.join(wdir, files[next++]));
      if (JSON.stringify(a.shape) !== JSON.stringify(w.shape)) {
        throw new Error(`${dir}: ${files[next - 1]} has shape ${a.shape}, ${w.originalName} wants ${w.shape}`);
      }
      return tf.tensor(Float32Array.from(a.data), a.shape, 'float32');
    });
    layer.setWeights(vals);
    vals.forEach((v) => v.dispose());
  }
  if (next !== files.length) throw new Error(`${dir}: ${files.length - next} weight files left over`);
  return { model, json };
}

/**
 * predictBundle runs dir/input.npy through the bundle and returns {y, shape,
 * expected}. A multi-input or multi-output bundle holds input_<j>.npy and
 * expected_<j>.npy: y and expected.data are then its outputs one after the
 * other, and shape and expected.shape list each output's shape.
 */
async function predictBundle(dir, modelJson) {
  const { model } = await loadBundle(dir, modelJson);
  const multi = !fs.existsSync(path.join(dir, 'input.npy'));
  const numbered = (base) => {
    const out = [];
    for (let j = 0; fs.existsSync(path.join(dir, `${base}_${j}.npy`)); j++) {
      out.push(readNpy(path.join(dir, `${base}_${j}.npy`)));
    }
    return out;
  };
  const xs = multi ? numbered('input') : [readNpy(path.join(dir, 'input.npy'))];
  const exps = multi ? numbered('expected') : [readNpy(path.join(dir, 'expected.npy'))];
  const xts = xs.map((x) => tf.tensor(Float32Array.from(x.data), x.shape, 'float32'));
  const pred = model.predict(multi ? xts : xts[0]);
  const yts = Array.isArray(pred) ? pred : [pred];
  const y = Float32Array.from(yts.flatMap((t) => Array.from(t.dataSync())));
  const shape = multi ? yts.map((t) => t.shape) : yts[0].shape;
  const expected = multi
    ? { data: Float32Array.from(exps.flatMap((e) => Array.from(e.data))), shape: exps.map((e) => e.shape) }
    : exps[0];
  xts.forEach((t) => t.dispose());
  yts.forEach((t) => t.dispose());
  model.dispose();
  return { y, shape, expected };
}

/** maxAbsDiff is max |a - b| over two equal-length arrays. */
function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

module.exports = { loadBundle, predictBundle, maxAbsDiff };
