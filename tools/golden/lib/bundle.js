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

/** predictBundle runs dir/input.npy through the bundle and returns {y, expected}. */
async function predictBundle(dir, modelJson) {
  const { model } = await loadBundle(dir, modelJson);
  const x = readNpy(path.join(dir, 'input.npy'));
  const expected = readNpy(path.join(dir, 'expected.npy'));
  const xt = tf.tensor(Float32Array.from(x.data), x.shape, 'float32');
  const yt = model.predict(xt);
  const y = Float32Array.from(yt.dataSync());
  const shape = yt.shape;
  xt.dispose();
  yt.dispose();
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
