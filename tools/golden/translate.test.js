'use strict';
// The Keras (any dialect) -> TF.js Keras 2 config translation.
const test = require('node:test');
const assert = require('node:assert/strict');
const { toTfjs, activationName, inboundRefs, ioRefs } = require('./lib/translate');
const { emitModelJson } = require('./lib/keras_json');
const { cases } = require('./cases');

const byName = (n) => {
  const c = cases.find((x) => x.name === n);
  assert.ok(c, `case ${n}`);
  return c;
};

/** walk calls fn(key, value, parent) on every key of a JSON tree. */
function walk(v, fn) {
  if (Array.isArray(v)) v.forEach((x) => walk(x, fn));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      fn(k, x, v);
      walk(x, fn);
    }
  }
}

test('Keras 3 Sequential becomes Keras 2 for TF.js', () => {
  const k3 = emitModelJson(byName('gold_forecaster_k3'));
  assert.equal(k3.config.layers[0].config.batch_shape.length, 3);
  assert.ok(k3.config.layers[3].config.backward_layer, 'Keras 3 writes backward_layer');
  const { modelTopology: t, inserted } = toTfjs(k3);
  assert.deepEqual(inserted, []);
  assert.equal(t.class_name, 'Sequential');
  const [input, conv, pool, bi] = t.config.layers;
  assert.deepEqual(input.config.batch_input_shape, [null, 60, 1]);
  assert.equal(input.config.batch_shape, undefined);
  assert.equal(input.config.optional, undefined);
  assert.equal(conv.config.kernel_size, 3);
  assert.equal(conv.config.strides, 1);
  assert.equal(conv.config.dilation_rate, 1);
  assert.equal(conv.config.groups, undefined);
  assert.equal(pool.config.pool_size, 2);
  assert.equal(bi.class_name, 'Bidirectional');
  assert.equal(bi.config.backward_layer, undefined);
  assert.equal(bi.config.layer.class_name, 'LSTM');
  assert.equal(bi.config.layer.config.go_backwards, false);
  walk(t, (k, v) => {
    assert.notEqual(k, 'module');
    assert.notEqual(k, 'registered_name');
    assert.notEqual(k, 'build_config');
    if (k === 'dtype') assert.equal(v, 'float32');
  });
});

test('Keras 3 Functional inbound_nodes and flat io refs become Keras 2 form', () => {
  const k3 = emitModelJson(byName('functional_merges_k3'));
  assert.deepEqual(k3.config.input_layers, ['input_layer', 0, 0]);
  const add = k3.config.layers.find((l) => l.name === 'add');
  assert.equal(add.inbound_nodes[0].args[0].length, 3, 'merge args are one list of tensors');
  assert.equal(add.inbound_nodes[0].args[0][0].class_name, '__keras_tensor__');
  const { modelTopology: t, inserted } = toTfjs(k3);
  assert.equal(t.class_name, 'Functional');
  assert.deepEqual(t.config.input_layers, [['input_layer', 0, 0]]);
  assert.deepEqual(t.config.output_layers, [['out', 0, 0]]);
  const tAdd = t.config.layers.find((l) => l.name === 'add');
  assert.deepEqual(tAdd.inbound_nodes, [[['conv_a', 0, 0, {}], ['conv_b', 0, 0, {}], ['sub', 0, 0, {}]]]);
  const sub = t.config.layers.find((l) => l.name === 'sub');
  assert.equal(sub.class_name, 'SeqcastSubtract');
  assert.deepEqual(sub.inbound_nodes, [[['conv_b', 0, 0, {}], ['conv_a', 0, 0, {}]]]);
  // causal conv_b (kernel 3, dilation 2) gets a 4-step left pad in front.
  assert.deepEqual(inserted, ['conv_b__causal_pad']);
  const pad = t.config.layers.find((l) => l.name === 'conv_b__causal_pad');
  assert.equal(pad.class_name, 'SeqcastCausalPad');
  assert.equal(pad.config.left, 4);
  assert.deepEqual(pad.inbound_nodes, [[['input_layer', 0, 0, {}]]]);
  const convB = t.config.layers.find((l) => l.name === 'conv_b');
  assert.equal(convB.config.padding, 'valid');
  assert.deepEqual(convB.inbound_nodes, [[['conv_b__causal_pad', 0, 0, {}]]]);
  const bi = t.config.layers.find((l) => l.name === 'bi');
  assert.equal(bi.config.layer.class_name, 'SeqcastGRUResetAfter');
});

test('nested io refs and Keras 2 inbound nodes pass through', () => {
  assert.deepEqual(ioRefs([['a', 0, 0]]), [['a', 0, 0]]);
  assert.deepEqual(ioRefs(['a', 0, 0]), [['a', 0, 0]]);
  assert.deepEqual(inboundRefs([['x', 0, 0, {}], ['y', 1, 0, {}]]), [['x', 0, 0], ['y', 1, 0]]);
  const k3node = {
    args: [[{ class_name: '__keras_tensor__', config: { keras_history: ['p', 0, 0] } },
      { class_name: '__keras_tensor__', config: { keras_history: ['q', 0, 1] } }]],
    kwargs: {},
  };
  assert.deepEqual(inboundRefs(k3node), [['p', 0, 0], ['q', 0, 1]]);
  const k2 = emitModelJson(byName('functional_merges_k2'));
  const t = toTfjs(k2).modelTopology;
  const cat = t.config.layers.find((l) => l.name === 'cat_time');
  assert.deepEqual(cat.inbound_nodes, [[['avg', 0, 0, {}], ['add', 0, 0, {}]]]);
  assert.equal(cat.config.axis, 1);
});

test('Sequential causal Conv1D gets a pad layer carrying the input shape', () => {
  const k2 = emitModelJson(byName('conv1d_causal_k2'));
  const { modelTopology: t, inserted } = toTfjs(k2);
  assert.deepEqual(inserted, ['conv1d__causal_pad', 'conv1d_1__causal_pad']);
  const names = t.config.layers.map((l) => l.config.name);
  assert.deepEqual(names, ['conv1d_input', 'conv1d__causal_pad', 'conv1d', 'conv1d_1__causal_pad', 'conv1d_1', 'flatten']);
  assert.equal(t.config.layers[1].config.left, 3); // kernel 4
  assert.deepEqual(t.config.layers[1].config.batch_input_shape, [null, 9, 1]);
  assert.equal(t.config.layers[2].config.batch_input_shape, undefined);
  assert.equal(t.config.layers[3].config.left, 2); // kernel 3
});

test('activation names follow the model keras_version', () => {
  assert.equal(activationName('hard_sigmoid', false), 'hard_sigmoid');
  assert.equal(activationName('hard_sigmoid', true), 'seqcast_hard_sigmoid_k3');
  assert.equal(activationName('silu', true), 'swish');
  assert.equal(activationName('swish', false), 'swish');
  assert.equal(activationName('gelu', false), 'seqcast_gelu');
  assert.equal(activationName('exponential', true), 'exponential');
  assert.equal(activationName(null, true), 'linear');
  assert.throws(() => activationName('mish', true), /not supported/);
  const k3 = toTfjs(emitModelJson(byName('lstm_hard_sigmoid_k3'))).modelTopology;
  assert.equal(k3.config.layers[1].config.recurrent_activation, 'seqcast_hard_sigmoid_k3');
  const k2 = toTfjs(emitModelJson(byName('lstm_hard_sigmoid_k2'))).modelTopology;
  assert.equal(k2.config.layers[1].config.recurrent_activation, 'hard_sigmoid');
  const m = emitModelJson(byName('lstm_hard_sigmoid_k2'));
  delete m.keras_version;
  assert.throws(() => toTfjs(m), /keras_version/);
});

test('layer options TF.js lacks map to the seqcast classes', () => {
  const t = toTfjs(emitModelJson(byName('advanced_activations_k3'))).modelTopology;
  const cls = t.config.layers.map((l) => l.class_name);
  assert.deepEqual(cls, ['InputLayer', 'SeqcastReLU', 'Dense', 'LeakyReLU', 'Dense', 'ELU', 'Dense',
    'PReLU', 'SeqcastReLU', 'Dense', 'ReLU']);
  assert.equal(t.config.layers[3].config.alpha, 0.1, 'Keras 3 negative_slope -> alpha');
  assert.equal(t.config.layers[3].config.negative_slope, undefined);
  const t2 = toTfjs(emitModelJson(byName('relu_variants_k2_12'))).modelTopology;
  assert.equal(t2.config.layers.at(-1).class_name, 'SeqcastELU');
  const gru = toTfjs(emitModelJson(byName('gru_hard_sigmoid_k3_relu'))).modelTopology;
  assert.equal(gru.config.layers[1].class_name, 'SeqcastGRUResetAfter');
  assert.equal(gru.config.layers[2].class_name, 'GRU');
  assert.equal(gru.config.layers[2].config.reset_after, undefined);
  const ids = toTfjs(emitModelJson(byName('inference_identities_k3'))).modelTopology;
  assert.equal(ids.config.layers[5].class_name, 'SeqcastIdentity');
  const pool = toTfjs(emitModelJson(byName('pooling_avg_same_strides'))).modelTopology;
  assert.equal(pool.config.layers[3].class_name, 'SeqcastGlobalPooling1D');
  assert.equal(pool.config.layers[3].config.kind, 'max');
  const bn = toTfjs(emitModelJson(byName('batchnorm_layernorm_k2'), {
    inShapes: { batch_normalization: [null, 8, 4] },
  })).modelTopology;
  assert.equal(bn.config.layers[2].config.axis, 2, 'Keras 2 list axis [2] -> 2');
});

test('a Keras 3 backward_layer that is not the mirrored forward layer is refused', () => {
  const k3 = emitModelJson(byName('bilstm_concat_k3'));
  const bi = k3.config.layers[1];
  bi.config.backward_layer.config.units = 7;
  assert.throws(() => toTfjs(k3), /differs from the forward layer/);
  const k3b = emitModelJson(byName('bilstm_concat_k3'));
  k3b.config.layers[1].config.backward_layer.config.go_backwards = false;
  assert.throws(() => toTfjs(k3b), /go_backwards should be true/);
});

test('every case emits in its dialect and translates', () => {
  for (const c of cases) {
    const m = emitModelJson(c);
    const major = Number(m.keras_version.split('.')[0]);
    assert.equal(major >= 3, c.dialect === 'k3', c.name);
    const first = m.config.layers[0].config;
    if (c.dialect === 'k3') assert.ok(first.batch_shape, c.name);
    else assert.ok(first.batch_input_shape, c.name);
    assert.equal('module' in m.config.layers[0], c.dialect !== 'k2.12', c.name);
    assert.doesNotThrow(() => toTfjs(m), c.name);
  }
});
