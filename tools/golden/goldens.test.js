'use strict';
// The checked-in goldens: complete, up to date with the generator, readable
// back in TF.js, and sensitive to the semantics they are meant to pin down.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const ext = require('./lib/tfjs_ext');
const { predictBundle, maxAbsDiff } = require('./lib/bundle');
const { generateCase, OUT_DIR } = require('./generate');
const { cases } = require('./cases');

const setup = async () => {
  await tf.setBackend('cpu');
  ext.register();
};

test('there is one bundle per case, and at least 30', () => {
  const dirs = fs.readdirSync(OUT_DIR).filter((d) => fs.statSync(path.join(OUT_DIR, d)).isDirectory()).sort();
  assert.deepEqual(dirs, cases.map((c) => c.name).sort());
  assert.ok(dirs.length >= 30);
});

test('the goldens are what generate.js writes now (run `make golden` if not)', async () => {
  await setup();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seqcast-golden-'));
  try {
    for (const spec of cases) {
      await generateCase(spec, tmp);
      const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
        ? walk(path.join(d, e.name)).map((f) => path.join(e.name, f)) : [e.name])).sort();
      const fresh = walk(path.join(tmp, spec.name));
      const disk = walk(path.join(OUT_DIR, spec.name));
      assert.deepEqual(disk, fresh, `${spec.name}: file list`);
      for (const f of fresh) {
        const a = fs.readFileSync(path.join(tmp, spec.name, f));
        const b = fs.readFileSync(path.join(OUT_DIR, spec.name, f));
        assert.ok(a.equals(b), `${spec.name}/${f} is stale`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('every bundle read back from disk reproduces expected.npy', async () => {
  await setup();
  for (const spec of cases) {
    const { y, shape, expected } = await predictBundle(path.join(OUT_DIR, spec.name));
    assert.deepEqual(shape, expected.shape, spec.name);
    assert.equal(maxAbsDiff(y, expected.data), 0, spec.name);
  }
});

test('the bench gold bundle (another generator) is reproduced', async () => {
  await setup();
  const dir = path.join(__dirname, '..', '..', 'testdata', 'bench', 'gold');
  const { y, expected } = await predictBundle(dir);
  assert.ok(maxAbsDiff(y, expected.data) < 1e-6);
});

/** mutated runs a bundle with an edited model.json and returns max |y - expected|. */
async function mutated(name, edit) {
  const dir = path.join(OUT_DIR, name);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  edit(json);
  const { y, expected } = await predictBundle(dir, json);
  return maxAbsDiff(y, expected.data);
}

test('the goldens detect the semantics they cover', async () => {
  await setup();
  const layer = (j, i) => j.config.layers[i].config;
  const named = (j, name) => j.config.layers.find((l) => l.name === name).config;
  const checks = [
    ['lstm_hard_sigmoid_k3', 'Keras 2 hard_sigmoid', (j) => { j.keras_version = '2.15.0'; }],
    ['lstm_hard_sigmoid_k2', 'Keras 3 hard_sigmoid', (j) => { j.keras_version = '3.0.0'; }],
    ['gru_hard_sigmoid_k3_relu', 'Keras 2 hard_sigmoid', (j) => { j.keras_version = '2.15.0'; }],
    ['conv1d_causal_k2', 'same instead of causal', (j) => { layer(j, 1).padding = 'same'; }],
    ['bilstm_sum_ave_k2', 'concat->mul', (j) => { layer(j, 1).merge_mode = 'mul'; }],
    ['lstm_go_backwards_seq', 'forwards', (j) => { layer(j, 1).go_backwards = false; }],
    ['gold_forecaster', 'relu LSTM', (j) => { layer(j, 3).layer.config.activation = 'relu'; }],
    ['advanced_activations_k2', 'no threshold', (j) => { layer(j, 1).threshold = 0.0; }],
    ['batchnorm_layernorm_k2', 'epsilon', (j) => { layer(j, 2).epsilon = 0.5; }],
    ['masking_lstm_k2_12', 'no step masked', (j) => { layer(j, 1).mask_value = 0.5; }],
    ['masking_zero_output_k3', 'previous output at masked steps', (j) => { layer(j, 2).zero_output_for_mask = false; }],
    ['simplernn_stacked_k2_12', 'backwards', (j) => { layer(j, 1).go_backwards = true; }],
    ['conv1d_transpose_k3', 'valid instead of same', (j) => { layer(j, 1).padding = 'valid'; }],
    ['padding_crop_upsample_k3', 'no zero padding', (j) => { layer(j, 1).padding = [0, 0]; }],
    ['convlstm2d_dilated_strided_k2_15', 'forwards', (j) => { layer(j, 1).go_backwards = false; }],
    ['convlstm2d_same_seq_nobias_k3', 'Keras 2 hard_sigmoid', (j) => { j.keras_version = '2.15.0'; }],
    ['convlstm2d_tutorial_k2_12', 'tanh instead of relu', (j) => { layer(j, 1).activation = 'tanh'; }],
    ['multi_io_two_lstm_k3', 'Concatenate inputs swapped', (j) => {
      j.config.layers.find((l) => l.name === 'joined').inbound_nodes[0].args[0].reverse();
    }],
    ['multi_io_two_lstm_k2_0', 'Concatenate inputs swapped', (j) => {
      j.config.layers.find((l) => l.name === 'joined').inbound_nodes[0].reverse();
    }],
    ['activations_all_k3', 'gelu->swish', (j) => {
      j.config.layers.find((l) => l.name === 'act_gelu').config.activation = 'silu';
    }],
    ['luong_attention_k2_12', 'scores Dot inputs swapped (transposed scores)', (j) => {
      j.config.layers.find((l) => l.name === 'scores').inbound_nodes[0].reverse();
    }],
    ['luong_attention_k3', 'softmax over the decoder steps', (j) => { named(j, 'weights').axis = 1; }],
    ['luong_attention_k3', 'no Rescaling offset', (j) => { named(j, 'scale').offset = 0.0; }],
    ['max_min_cosine_dot_k2_15', 'no normalize', (j) => { named(j, 'cos').normalize = false; }],
    ['max_min_cosine_dot_k2_15', 'softmax over the last axis', (j) => { named(j, 'sm').axis = -1; }],
    ['max_min_cosine_dot_k2_15', 'Minimum instead of Maximum', (j) => {
      j.config.layers.find((l) => l.name === 'hi').class_name = 'Minimum';
    }],
    ['softmax_axes_dot_int_k3', 'softmax over one axis', (j) => { named(j, 'sm_all').axis = 2; }],
    ['normalization_adapted_k3', 'invert', (j) => { layer(j, 1).invert = true; }],
    ['normalization_config_invert_k2_15', 'per feature instead of per step', (j) => {
      Object.assign(layer(j, 1), { axis: [-1], mean: [0.5, -1.0, 2.0], variance: [4.0, 0.25, 1.0] });
    }],
    ['normalization_config_invert_k2_15', 'not inverted', (j) => { layer(j, 2).invert = false; }],
    ['embedding_store_k3', 'Concatenate inputs swapped', (j) => {
      j.config.layers.find((l) => l.name === 'joined').inbound_nodes[0].args[0].reverse();
    }],
    ['embedding_mask_zero_k2_12', 'no mask', (j) => { layer(j, 1).mask_zero = false; }],
    ['embedding_mask_zero_k3', 'no mask', (j) => { layer(j, 1).mask_zero = false; }],
    ['embedding_sequence_k2_15', 'ids read backwards', (j) => { layer(j, 2).go_backwards = true; }],
  ];
  for (const [name, what, edit] of checks) {
    const d = await mutated(name, edit);
    assert.ok(d > 1e-3, `${name}: ${what} changes the output by only ${d}`);
  }
});
