'use strict';
// The golden cases. Each is a model in one Keras dialect (see lib/keras_json.js):
//   name        directory under parity/testdata/golden/
//   dialect     'k2.12' (Keras <= 2.12), 'k2.15' (Keras 2.13-2.15), 'k3' (Keras 3)
//   keras_version  written at the top of model.json (decides hard_sigmoid)
//   input       per-sample input shape [T, F];  n: samples in input.npy
//   layers      Sequential: [L(class, options)]; functional: true and each
//               layer names its inputs with `in` ('INPUT' is the model input)
//   manifest    true (sha256 of every file) or 'self_test' (plus a self-test)
// Options use Keras's own argument names; everything else takes Keras's default.

const L = (cls, cfg = {}, extra = {}) => Object.assign({ cls, cfg }, extra);
/** F is a functional layer: a name, its inputs, a class and options. */
const F = (name, inputs, cls, cfg = {}) => ({ name, in: inputs, cls, cfg });
const lstm = (cfg) => ({ cls: 'LSTM', cfg });
const gru = (cfg) => ({ cls: 'GRU', cfg });

const goldLayers = [
  L('Conv1D', { filters: 64, kernel_size: 3, activation: 'relu' }),
  L('MaxPooling1D', { pool_size: 2 }),
  L('Bidirectional', { layer: lstm({ units: 64, return_sequences: true }) }),
  L('Bidirectional', { layer: lstm({ units: 32 }) }),
  L('Dropout', { rate: 0.2 }),
  L('Dense', { units: 16, activation: 'relu' }),
  L('Dense', { units: 1 }),
];

const K2_ACTS = ['linear', 'relu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'softplus',
  'softsign', 'elu', 'selu', 'gelu', 'swish', 'exponential'];
const K3_ACTS = ['linear', 'relu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'softplus',
  'softsign', 'elu', 'selu', 'gelu', 'silu', 'exponential'];

/** activationFan: Dense(4) -> one Activation branch per name -> Concatenate. */
function activationFan(names) {
  const layers = [F('pre', ['INPUT'], 'Dense', { units: 4 })];
  for (const a of names) layers.push(F(`act_${a}`, ['pre'], 'Activation', { activation: a }));
  layers.push(F('concat', names.map((a) => `act_${a}`), 'Concatenate', { axis: -1 }));
  return layers;
}


/** Two LSTM stacks on two inputs, Concatenate, two Dense heads (the survey's Keras 2.0 model). */
const twoLstmInputs = [{ name: 'prices', shape: [8, 2] }, { name: 'weather', shape: [5, 3] }];
const twoLstmStacks = [
  F('prices_lstm_1', ['prices'], 'LSTM', { units: 4, return_sequences: true }),
  F('prices_lstm_2', ['prices_lstm_1'], 'LSTM', { units: 3 }),
  F('weather_lstm_1', ['weather'], 'LSTM', { units: 3, return_sequences: true }),
  F('weather_lstm_2', ['weather_lstm_1'], 'LSTM', { units: 2 }),
  F('joined', ['prices_lstm_2', 'weather_lstm_2'], 'Concatenate'),
  F('mean', ['joined'], 'Dense', { units: 1 }),
  F('quantiles', ['joined'], 'Dense', { units: 3, activation: 'tanh' }),
];

/** The store-id forecaster's inputs: a (6, 2) window and a (1,) store id of 7 stores. */
const embeddingInputs = (dtype) => [{ name: 'window', shape: [6, 2] }, { name: 'store', shape: [1], ids: 7, dtype }];
const embeddingStore = [
  F('window_lstm', ['window'], 'LSTM', { units: 4 }),
  F('store_emb', ['store'], 'Embedding', { input_dim: 7, output_dim: 3 }),
  F('store_flat', ['store_emb'], 'Flatten'),
  F('joined', ['window_lstm', 'store_flat'], 'Concatenate'),
  F('forecast', ['joined'], 'Dense', { units: 2 }),
];

/** One input read by a Conv1D/GRU branch and a Bidirectional LSTM, three heads. */
const sharedInputTwoHeads = [
  F('conv', ['window'], 'Conv1D', { filters: 3, kernel_size: 3, padding: 'causal', activation: 'relu' }),
  F('seq', ['conv'], 'GRU', { units: 3, return_sequences: true }),
  F('level_pool', ['seq'], 'GlobalAveragePooling1D'),
  F('level', ['level_pool'], 'Dense', { units: 1 }),
  F('bi', ['window'], 'Bidirectional', { layer: lstm({ units: 2 }) }),
  F('trend', ['bi'], 'Dense', { units: 2, activation: 'sigmoid' }),
];

const cases = [
  // ------------------------------------------------------------ the gold model
  {
    name: 'gold_forecaster', dialect: 'k2.15', keras_version: '2.15.0', input: [60, 1], n: 8,
    input_range: [0, 1], manifest: 'self_test', layers: goldLayers,
  },
  {
    name: 'gold_forecaster_k3', dialect: 'k3', keras_version: '3.13.2', input: [60, 1], n: 4,
    input_range: [0, 1], manifest: true, layers: goldLayers,
  },
  // ------------------------------------------------------------------- Conv1D
  {
    name: 'conv1d_valid_relu', dialect: 'k2.12', input: [10, 3], n: 5, manifest: true,
    layers: [
      L('Conv1D', { filters: 6, kernel_size: 3, activation: 'relu' }),
      L('Flatten'),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'conv1d_same_strides2', dialect: 'k3', keras_version: '3.10.0', input: [11, 2], n: 5,
    layers: [
      L('Conv1D', { filters: 5, kernel_size: 4, padding: 'same', strides: 2, activation: 'tanh' }),
      L('Conv1D', { filters: 3, kernel_size: 3, padding: 'same', activation: 'sigmoid' }),
      L('GlobalAveragePooling1D'),
    ],
  },
  {
    name: 'conv1d_causal_dilation2', dialect: 'k3', keras_version: '3.14.0', input: [12, 2], n: 6,
    layers: [
      L('Conv1D', { filters: 4, kernel_size: 3, padding: 'causal', dilation_rate: 2, activation: 'elu' }),
      L('Conv1D', { filters: 4, kernel_size: 2, padding: 'causal', activation: 'selu' }),
      L('Flatten'),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'conv1d_causal_k2', dialect: 'k2.12', input: [9, 1], n: 5,
    layers: [
      L('Conv1D', { filters: 3, kernel_size: 4, padding: 'causal', activation: 'relu' }),
      L('Conv1D', { filters: 2, kernel_size: 3, padding: 'causal', strides: 2 }),
      L('Flatten'),
    ],
  },
  {
    name: 'conv1d_nobias_dilation_valid', dialect: 'k2.15', input: [12, 3], n: 5,
    layers: [
      L('Conv1D', { filters: 4, kernel_size: 3, use_bias: false, activation: 'softplus' }),
      L('Conv1D', { filters: 3, kernel_size: 2, dilation_rate: 2, activation: 'softsign' }),
      L('GlobalMaxPooling1D'),
    ],
  },
  {
    name: 'conv1d_activations_k2', dialect: 'k2.12', input: [10, 2], n: 5,
    layers: [
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'swish' }),
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'gelu' }),
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'hard_sigmoid' }),
      L('Conv1D', { filters: 3, kernel_size: 2, activation: 'exponential' }),
      L('Flatten'),
      L('Dense', { units: 3, activation: 'softmax' }),
    ],
  },
  {
    name: 'conv1d_activations_k3', dialect: 'k3', keras_version: '3.13.2', input: [10, 2], n: 5,
    layers: [
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'silu' }),
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'gelu' }),
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'hard_sigmoid' }),
      L('Conv1D', { filters: 4, kernel_size: 2, activation: 'selu' }),
      L('GlobalAveragePooling1D', { keepdims: true }),
      L('Flatten'),
      L('Dense', { units: 3, activation: 'softmax' }),
    ],
  },
  // ------------------------------------------------------------------ pooling
  {
    name: 'pooling_max_same_strides', dialect: 'k2.15', input: [11, 3], n: 4,
    layers: [
      L('MaxPooling1D', { pool_size: 3, strides: 2, padding: 'same' }),
      L('AveragePooling1D', { pool_size: 2, strides: 1 }),
      L('Flatten'),
    ],
  },
  {
    name: 'pooling_avg_same_strides', dialect: 'k3', input: [13, 3], n: 4,
    layers: [
      L('AveragePooling1D', { pool_size: 3, strides: 2, padding: 'same' }),
      L('MaxPooling1D', { pool_size: 2, strides: 3 }),
      L('GlobalMaxPooling1D', { keepdims: true }),
    ],
  },
  {
    name: 'pooling_k2_valid_same', dialect: 'k2.12', input: [12, 2], n: 4,
    layers: [
      L('Conv1D', { filters: 3, kernel_size: 2 }),
      L('AveragePooling1D', { pool_size: 4, strides: 3, padding: 'same' }),
      L('MaxPooling1D', { pool_size: 2, strides: 1, padding: 'same' }),
      L('GlobalAveragePooling1D', { keepdims: true }),
    ],
  },
  // --------------------------------------------------------------------- LSTM
  {
    name: 'lstm_stacked_k2', dialect: 'k2.12', input: [8, 3], n: 5, manifest: true,
    layers: [
      L('LSTM', { units: 5, return_sequences: true }),
      L('LSTM', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'lstm_go_backwards_seq', dialect: 'k3', input: [7, 2], n: 5,
    layers: [
      L('LSTM', { units: 4, go_backwards: true, return_sequences: true }),
      L('TimeDistributed', { layer: { cls: 'Dense', cfg: { units: 2 } } }),
    ],
  },
  {
    name: 'lstm_nobias_relu', dialect: 'k2.15', input: [8, 2], n: 5,
    layers: [
      L('LSTM', { units: 4, use_bias: false, activation: 'relu', return_sequences: true }),
      L('LSTM', { units: 3, go_backwards: true }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'lstm_hard_sigmoid_k2', dialect: 'k2.12', keras_version: '2.11.0', input: [8, 3], n: 5,
    weight_scale: 2,
    layers: [
      L('LSTM', { units: 5, recurrent_activation: 'hard_sigmoid', return_sequences: true }),
      L('GlobalAveragePooling1D'),
    ],
  },
  {
    name: 'lstm_hard_sigmoid_k3', dialect: 'k3', keras_version: '3.11.3', input: [8, 3], n: 5,
    weight_scale: 2,
    layers: [
      L('LSTM', { units: 5, recurrent_activation: 'hard_sigmoid', return_sequences: true }),
      L('GlobalAveragePooling1D'),
    ],
  },
  // ---------------------------------------------------------------------- GRU
  {
    name: 'gru_reset_after_k3', dialect: 'k3', input: [8, 3], n: 5, manifest: true,
    layers: [
      L('GRU', { units: 5, return_sequences: true }),
      L('GRU', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'gru_reset_before_k2', dialect: 'k2.12', input: [8, 3], n: 5,
    layers: [
      L('GRU', { units: 5, reset_after: false, return_sequences: true }),
      L('GRU', { units: 4, reset_after: false, go_backwards: true }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'gru_reset_after_backwards_nobias', dialect: 'k2.15', input: [7, 2], n: 5,
    layers: [
      L('GRU', { units: 4, go_backwards: true, return_sequences: true, use_bias: false }),
      L('GRU', { units: 3, recurrent_activation: 'hard_sigmoid' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'gru_hard_sigmoid_k3_relu', dialect: 'k3', keras_version: '3.6.0', input: [7, 2], n: 5,
    weight_scale: 2,
    layers: [
      L('GRU', { units: 4, recurrent_activation: 'hard_sigmoid', activation: 'relu', return_sequences: true }),
      L('GRU', { units: 3, reset_after: false, go_backwards: true }),
    ],
  },
  // ------------------------------------------------------------ Bidirectional
  {
    name: 'bilstm_concat_k3', dialect: 'k3', input: [7, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: lstm({ units: 4, return_sequences: true }) }),
      L('Bidirectional', { layer: lstm({ units: 3 }) }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'bilstm_sum_ave_k2', dialect: 'k2.15', input: [7, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: lstm({ units: 4, return_sequences: true }), merge_mode: 'sum' }),
      L('Bidirectional', { layer: lstm({ units: 3 }), merge_mode: 'ave' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'bilstm_mul_k2_12', dialect: 'k2.12', input: [6, 3], n: 5, weight_scale: 1.6,
    layers: [
      L('Bidirectional', { layer: lstm({ units: 4, return_sequences: true }), merge_mode: 'mul' }),
      L('Bidirectional', { layer: lstm({ units: 3 }), merge_mode: 'mul' }),
    ],
  },
  {
    name: 'bilstm_ave_sum_seq_k3', dialect: 'k3', keras_version: '3.3.3', input: [6, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: lstm({ units: 3, return_sequences: true }), merge_mode: 'ave' }),
      L('Bidirectional', { layer: lstm({ units: 3, return_sequences: true }), merge_mode: 'sum' }),
      L('Flatten'),
    ],
  },
  {
    name: 'bigru_concat_sum_k3', dialect: 'k3', input: [7, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: gru({ units: 4, return_sequences: true }) }),
      L('Bidirectional', { layer: gru({ units: 3 }), merge_mode: 'sum' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'bigru_reset_before_ave_mul', dialect: 'k2.15', input: [7, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: gru({ units: 4, reset_after: false, return_sequences: true }), merge_mode: 'ave' }),
      L('Bidirectional', { layer: gru({ units: 3, reset_after: false }), merge_mode: 'mul' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'bigru_mul_ave_seq_k2_12', dialect: 'k2.12', input: [6, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: gru({ units: 3, return_sequences: true }), merge_mode: 'mul' }),
      L('Bidirectional', { layer: gru({ units: 3, return_sequences: true }), merge_mode: 'ave' }),
      L('GlobalAveragePooling1D'),
    ],
  },
  // ------------------------------------------------------ Dense and reshaping
  {
    name: 'dense_2d_3d', dialect: 'k2.12', input: [5, 3], n: 6,
    layers: [
      L('Dense', { units: 6, activation: 'tanh' }),
      L('Dense', { units: 4, activation: 'relu', use_bias: false }),
      L('Flatten'),
      L('Dense', { units: 3, activation: 'sigmoid' }),
    ],
  },
  {
    name: 'timedistributed_repeatvector', dialect: 'k3', input: [6, 2], n: 5,
    layers: [
      L('LSTM', { units: 4 }),
      L('RepeatVector', { n: 3 }),
      L('LSTM', { units: 4, return_sequences: true }),
      L('TimeDistributed', { layer: { cls: 'Dense', cfg: { units: 2, activation: 'tanh' } } }),
    ],
  },
  // The CNN-LSTM of the most copied time-series tutorial: each sample is split
  // into subsequences, a TimeDistributed Conv1D/MaxPooling1D/Flatten reads
  // each one, an LSTM reads their features in order.
  {
    name: 'timedistributed_cnn_lstm_k2_12', dialect: 'k2.12', input: [3, 4, 2], n: 5,
    layers: [
      L('TimeDistributed', { layer: { cls: 'Conv1D', cfg: { filters: 4, kernel_size: 2, activation: 'relu' } } }),
      L('TimeDistributed', { layer: { cls: 'MaxPooling1D', cfg: { pool_size: 2 } } }),
      L('TimeDistributed', { layer: { cls: 'Flatten', cfg: {} } }),
      L('LSTM', { units: 5 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'timedistributed_cnn_lstm_k3', dialect: 'k3', input: [3, 4, 2], n: 5,
    layers: [
      L('TimeDistributed', { layer: { cls: 'Conv1D', cfg: { filters: 3, kernel_size: 2, padding: 'same', activation: 'tanh' } } }),
      L('TimeDistributed', { layer: { cls: 'GlobalAveragePooling1D', cfg: {} } }),
      L('Bidirectional', { layer: { cls: 'LSTM', cfg: { units: 3, return_sequences: true } } }),
      L('TimeDistributed', { layer: { cls: 'Dense', cfg: { units: 2 } } }),
    ],
  },
  // Brownlee's univariate CNN-LSTM exactly: X.reshape((n, n_seq 2, n_steps 3,
  // 1 feature)), served as a window of 2 x 3 prices (historical_prices).
  {
    name: 'timedistributed_cnn_lstm_univariate_k2_15', dialect: 'k2.15', input: [2, 3, 1], n: 5,
    layers: [
      L('TimeDistributed', { layer: { cls: 'Conv1D', cfg: { filters: 8, kernel_size: 1, activation: 'relu' } } }),
      L('TimeDistributed', { layer: { cls: 'MaxPooling1D', cfg: { pool_size: 2 } } }),
      L('TimeDistributed', { layer: { cls: 'Flatten', cfg: {} } }),
      L('LSTM', { units: 6 }),
      L('Dense', { units: 1 }),
    ],
  },
  // The fifth of the tutorial's LSTM forecasters: ConvLSTM2D over
  // X.reshape((n, n_seq 2, 1, n_steps 3, 1 feature)), kernel (1, 2), relu,
  // Flatten, Dense(1); served as a window of 2 x 3 prices.
  {
    name: 'convlstm2d_tutorial_k2_12', dialect: 'k2.12', input: [2, 1, 3, 1], n: 5,
    layers: [
      L('ConvLSTM2D', { filters: 64, kernel_size: [1, 2], activation: 'relu' }),
      L('Flatten'),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'convlstm2d_tutorial_k3', dialect: 'k3', input: [2, 1, 3, 1], n: 5,
    layers: [
      L('ConvLSTM2D', { filters: 64, kernel_size: [1, 2], activation: 'relu' }),
      L('Flatten'),
      L('Dense', { units: 1 }),
    ],
  },
  // padding same, return_sequences, a 2x2 kernel over 4 x 3 positions,
  // tanh with Keras 3's hard_sigmoid, no bias; Flatten keeps every value.
  {
    name: 'convlstm2d_same_seq_nobias_k3', dialect: 'k3', input: [3, 4, 3, 2], n: 4,
    layers: [
      L('ConvLSTM2D', { filters: 4, kernel_size: [2, 2], padding: 'same', return_sequences: true,
        activation: 'tanh', recurrent_activation: 'hard_sigmoid', use_bias: false }),
      L('Flatten'),
    ],
  },
  // Stacked: dilation (2, 1) with go_backwards and return_sequences (Keras 2
  // hard_sigmoid), then strides 2 with padding same and a 3x3 kernel.
  {
    name: 'convlstm2d_dilated_strided_k2_15', dialect: 'k2.15', input: [4, 6, 5, 2], n: 4,
    layers: [
      L('ConvLSTM2D', { filters: 3, kernel_size: [2, 2], dilation_rate: [2, 1], return_sequences: true,
        go_backwards: true, recurrent_activation: 'hard_sigmoid' }),
      L('ConvLSTM2D', { filters: 2, kernel_size: [3, 3], strides: [2, 2], padding: 'same',
        recurrent_activation: 'sigmoid' }),
      L('Flatten'),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'reshape_flatten_k2', dialect: 'k2.15', input: [8, 3], n: 5,
    layers: [
      L('Conv1D', { filters: 4, kernel_size: 3 }),
      L('Reshape', { target_shape: [3, 8] }),
      L('TimeDistributed', { layer: { cls: 'Dense', cfg: { units: 2 } } }),
      L('Flatten'),
      L('RepeatVector', { n: 2 }),
      L('Reshape', { target_shape: [-1, 3] }),
    ],
  },
  // ------------------------------------------------------------ normalisation
  {
    name: 'batchnorm_layernorm_k3', dialect: 'k3', input: [8, 3], n: 5, manifest: true,
    layers: [
      L('Conv1D', { filters: 4, kernel_size: 3 }),
      L('BatchNormalization'),
      L('LayerNormalization'),
      L('Flatten'),
      L('BatchNormalization', { center: false }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'batchnorm_layernorm_k2', dialect: 'k2.12', input: [8, 3], n: 5,
    layers: [
      L('Dense', { units: 4 }),
      L('BatchNormalization', { scale: false, epsilon: 0.01 }),
      L('LayerNormalization', { center: false, epsilon: 1e-5 }),
      L('LSTM', { units: 3 }),
      L('BatchNormalization'),
      L('LayerNormalization', { scale: false }),
    ],
  },
  {
    name: 'batchnorm_k2_15', dialect: 'k2.15', input: [6, 2], n: 5,
    layers: [
      L('BatchNormalization'),
      L('Conv1D', { filters: 3, kernel_size: 2, activation: 'relu' }),
      L('BatchNormalization', { center: false, scale: false }),
      L('GlobalAveragePooling1D'),
      L('LayerNormalization'),
    ],
  },
  // ----------------------------------------------- layers that are identities
  {
    name: 'inference_identities_k3', dialect: 'k3', input: [6, 3], n: 5,
    layers: [
      L('Dropout', { rate: 0.3 }),
      L('SpatialDropout1D', { rate: 0.2 }),
      L('GaussianNoise', { stddev: 0.5 }),
      L('GaussianDropout', { rate: 0.4 }),
      L('ActivityRegularization', { l1: 0.01, l2: 0.01 }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'inference_identities_k2', dialect: 'k2.12', input: [6, 3], n: 5,
    layers: [
      L('Conv1D', { filters: 3, kernel_size: 2 }),
      L('SpatialDropout1D', { rate: 0.2 }),
      L('GaussianNoise', { stddev: 0.5 }),
      L('GaussianDropout', { rate: 0.4 }),
      L('ActivityRegularization', { l2: 0.001 }),
      L('Flatten'),
      L('Dropout', { rate: 0.5 }),
    ],
  },
  // ----------------------------------------------------- advanced activations
  {
    name: 'advanced_activations_k2', dialect: 'k2.15', input: [6, 3], n: 6, input_range: [-2, 2],
    layers: [
      L('ReLU', { max_value: 1.5, negative_slope: 0.1, threshold: 0.2 }),
      L('Dense', { units: 4 }),
      L('LeakyReLU', { alpha: 0.2 }),
      L('Dense', { units: 4 }),
      L('ELU', { alpha: 0.7 }),
      L('Dense', { units: 4 }),
      L('PReLU', { shared_axes: [1] }),
      L('ReLU', { max_value: 6.0 }),
    ],
  },
  {
    name: 'advanced_activations_k3', dialect: 'k3', input: [6, 3], n: 6, input_range: [-2, 2],
    layers: [
      L('ReLU', { negative_slope: 0.05 }),
      L('Dense', { units: 4 }),
      L('LeakyReLU', { alpha: 0.1 }),
      L('Dense', { units: 4 }),
      L('ELU'),
      L('Dense', { units: 4 }),
      L('PReLU'),
      L('ReLU', { threshold: 0.3 }),
      L('Dense', { units: 3 }),
      L('ReLU', { max_value: 0.8 }),
    ],
  },
  {
    name: 'relu_variants_k2_12', dialect: 'k2.12', input: [5, 4], n: 6, input_range: [-3, 3],
    layers: [
      L('Dense', { units: 4 }),
      L('ReLU', { max_value: 2.0, threshold: 0.5 }),
      L('Dense', { units: 4 }),
      L('ReLU', { negative_slope: 0.2, threshold: 0.1 }),
      L('PReLU', { shared_axes: [2] }),
      L('LeakyReLU'),
      L('ELU', { alpha: 1.5 }),
    ],
  },
  // ----------------------------------------- every activation (Activation layer)
  {
    name: 'activations_all_k2', dialect: 'k2.15', input: [4, 3], n: 6, functional: true,
    input_range: [-2, 2], layers: activationFan(K2_ACTS),
  },
  {
    name: 'activations_all_k3', dialect: 'k3', keras_version: '3.13.2', input: [4, 3], n: 6,
    functional: true, input_range: [-2, 2], layers: activationFan(K3_ACTS),
  },
  {
    name: 'activations_all_k2_12', dialect: 'k2.12', input: [4, 3], n: 6, functional: true,
    input_range: [-2, 2], layers: activationFan(K2_ACTS),
  },
  // ------------------------------------------------------ functional graphs
  {
    name: 'functional_merges_k2', dialect: 'k2.15', input: [8, 3], n: 5, functional: true,
    manifest: true,
    layers: [
      F('conv_a', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 3, padding: 'same', activation: 'tanh' }),
      F('conv_b', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 3, padding: 'causal' }),
      F('add', ['conv_a', 'conv_b'], 'Add'),
      F('sub', ['conv_a', 'conv_b'], 'Subtract'),
      F('mul', ['add', 'sub'], 'Multiply'),
      F('avg', ['conv_a', 'mul', 'conv_b'], 'Average'),
      F('cat_time', ['avg', 'add'], 'Concatenate', { axis: 1 }),
      F('lstm', ['cat_time'], 'LSTM', { units: 3 }),
      F('dense_skip', ['INPUT'], 'Flatten'),
      F('dense_in', ['dense_skip'], 'Dense', { units: 3 }),
      F('cat', ['lstm', 'dense_in'], 'Concatenate'),
      F('out', ['cat'], 'Dense', { units: 1 }),
    ],
  },
  {
    name: 'functional_merges_k3', dialect: 'k3', keras_version: '3.10.0', input: [8, 3], n: 5,
    functional: true,
    layers: [
      F('conv_a', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 3, padding: 'same', activation: 'relu' }),
      F('conv_b', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 3, padding: 'causal', dilation_rate: 2 }),
      F('sub', ['conv_b', 'conv_a'], 'Subtract'),
      F('add', ['conv_a', 'conv_b', 'sub'], 'Add'),
      F('mul', ['add', 'conv_a'], 'Multiply'),
      F('avg', ['mul', 'sub'], 'Average'),
      F('bi', ['avg'], 'Bidirectional', { layer: gru({ units: 3, return_sequences: true }) }),
      F('gmax', ['bi'], 'GlobalMaxPooling1D'),
      F('gavg', ['bi'], 'GlobalAveragePooling1D'),
      F('cat', ['gmax', 'gavg'], 'Concatenate', { axis: -1 }),
      F('out', ['cat'], 'Dense', { units: 2 }),
    ],
  },
  {
    name: 'functional_nested_io_k3', dialect: 'k3', keras_version: '3.13.2', input: [10, 2], n: 4,
    functional: true, nested_io: true,
    layers: [
      F('c1', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 3, activation: 'relu' }),
      F('p1', ['c1'], 'MaxPooling1D', { pool_size: 2 }),
      F('bl', ['p1'], 'Bidirectional', { layer: lstm({ units: 3, return_sequences: true }) }),
      F('ln', ['bl'], 'LayerNormalization'),
      F('keep', ['ln'], 'GlobalAveragePooling1D', { keepdims: true }),
      F('keepmax', ['ln'], 'GlobalMaxPooling1D', { keepdims: true }),
      F('cat', ['keep', 'keepmax'], 'Concatenate', { axis: 1 }),
      F('flat', ['cat'], 'Flatten'),
      F('out', ['flat'], 'Dense', { units: 1 }),
    ],
  },
  {
    name: 'functional_cnn_bilstm_k2_12', dialect: 'k2.12', input: [12, 2], n: 5, functional: true,
    layers: [
      F('conv_causal', ['INPUT'], 'Conv1D', { filters: 3, kernel_size: 3, padding: 'causal', activation: 'relu' }),
      F('conv_same', ['INPUT'], 'Conv1D', { filters: 3, kernel_size: 5, padding: 'same', activation: 'tanh' }),
      F('merge', ['conv_causal', 'conv_same'], 'Concatenate'),
      F('pool', ['merge'], 'AveragePooling1D', { pool_size: 2 }),
      F('bi', ['pool'], 'Bidirectional', { layer: lstm({ units: 4 }), merge_mode: 'concat' }),
      F('drop', ['bi'], 'Dropout', { rate: 0.2 }),
      F('d1', ['drop'], 'Dense', { units: 4, activation: 'relu' }),
      F('out', ['d1'], 'Dense', { units: 1 }),
    ],
  },
  // ------------------------------------------- Permute and the attention block
  {
    name: 'permute_dense_k2_12', dialect: 'k2.12', input: [6, 3], n: 5,
    layers: [
      L('Permute', { dims: [2, 1] }),
      L('Dense', { units: 4, activation: 'tanh' }),
      L('Permute', { dims: [2, 1] }),
      L('Flatten'),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'permute_attention_k2_15', dialect: 'k2.15', keras_version: '2.10.0', input: [8, 3], n: 5,
    functional: true,
    layers: [
      F('conv', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 1, activation: 'relu' }),
      F('bi', ['conv'], 'Bidirectional', {
        layer: lstm({ units: 3, return_sequences: true, recurrent_activation: 'hard_sigmoid' }),
      }),
      F('drop', ['bi'], 'Dropout', { rate: 0.3 }),
      F('perm', ['drop'], 'Permute', { dims: [2, 1] }),
      F('att', ['perm'], 'Dense', { units: 8, activation: 'softmax' }),
      F('perm_back', ['att'], 'Permute', { dims: [2, 1] }),
      F('mul', ['drop', 'perm_back'], 'Multiply'),
      F('flat', ['mul'], 'Flatten'),
      F('out', ['flat'], 'Dense', { units: 1, activation: 'sigmoid' }),
    ],
  },
  {
    name: 'permute_attention_k3', dialect: 'k3', keras_version: '3.10.0', input: [7, 2], n: 5,
    functional: true,
    layers: [
      F('bi', ['INPUT'], 'Bidirectional', {
        layer: gru({ units: 3, return_sequences: true, recurrent_activation: 'hard_sigmoid' }),
      }),
      F('perm', ['bi'], 'Permute', { dims: [2, 1] }),
      F('att', ['perm'], 'Dense', { units: 7, activation: 'softmax' }),
      F('perm_back', ['att'], 'Permute', { dims: [2, 1] }),
      F('mul', ['bi', 'perm_back'], 'Multiply'),
      F('gap', ['mul'], 'GlobalAveragePooling1D'),
      F('out', ['gap'], 'Dense', { units: 2 }),
    ],
  },
  // ------------------------------- Luong attention, Dot, Maximum/Minimum, Softmax, Rescaling, Normalization
  {
    // The seq2seq forecasters' Luong attention: scores = Dot(axes=[2, 2])(decoder, encoder),
    // Activation('softmax'), context = Dot(axes=[2, 1])(weights, encoder), Concatenate, Dense.
    name: 'luong_attention_k2_12', dialect: 'k2.12', input: [8, 3], n: 5, functional: true,
    layers: [
      F('encoder', ['INPUT'], 'LSTM', { units: 4, return_sequences: true }),
      F('decoder', ['encoder'], 'LSTM', { units: 4, return_sequences: true }),
      F('scores', ['decoder', 'encoder'], 'Dot', { axes: [2, 2] }),
      F('weights', ['scores'], 'Activation', { activation: 'softmax' }),
      F('context', ['weights', 'encoder'], 'Dot', { axes: [2, 1] }),
      F('joined', ['context', 'decoder'], 'Concatenate'),
      F('hidden', ['joined'], 'Dense', { units: 3, activation: 'tanh' }),
      F('flat', ['hidden'], 'Flatten'),
      F('out', ['flat'], 'Dense', { units: 1 }),
    ],
  },
  {
    // The same block in Keras 3 with a Softmax layer, a Rescaling in front and the decoder
    // state's last step as the output.
    name: 'luong_attention_k3', dialect: 'k3', keras_version: '3.10.0', input: [7, 2], n: 5,
    functional: true, input_range: [0, 10],
    layers: [
      F('scale', ['INPUT'], 'Rescaling', { scale: 0.2, offset: -1.0 }),
      F('encoder', ['scale'], 'LSTM', { units: 5, return_sequences: true }),
      F('decoder', ['encoder'], 'GRU', { units: 5, return_sequences: true }),
      F('scores', ['decoder', 'encoder'], 'Dot', { axes: [2, 2] }),
      F('weights', ['scores'], 'Softmax', { axis: -1 }),
      F('context', ['weights', 'encoder'], 'Dot', { axes: [2, 1] }),
      F('joined', ['context', 'decoder'], 'Concatenate', { axis: -1 }),
      F('hidden', ['joined'], 'Dense', { units: 4, activation: 'tanh' }),
      F('pool', ['hidden'], 'GlobalAveragePooling1D'),
      F('out', ['pool'], 'Dense', { units: 2 }),
    ],
  },
  {
    // Maximum/Minimum of three branches, a cosine Dot with negative axes (over time),
    // a Softmax over axis 1 (TF.js: SeqcastSoftmax).
    name: 'max_min_cosine_dot_k2_15', dialect: 'k2.15', input: [6, 3], n: 5, functional: true,
    layers: [
      F('a', ['INPUT'], 'Dense', { units: 4 }),
      F('b', ['INPUT'], 'Dense', { units: 4, activation: 'tanh' }),
      F('c', ['INPUT'], 'Conv1D', { filters: 4, kernel_size: 3, padding: 'same' }),
      F('hi', ['a', 'b', 'c'], 'Maximum'),
      F('lo', ['a', 'b'], 'Minimum'),
      F('cos', ['hi', 'lo'], 'Dot', { axes: [-2, -2], normalize: true }),
      F('sm', ['cos'], 'Softmax', { axis: 1 }),
      F('flat', ['sm'], 'Flatten'),
      F('out', ['flat'], 'Dense', { units: 2 }),
    ],
  },
  {
    // Keras 3: Softmax over both per-sample axes, a cosine Dot with one integer axis over
    // features, and Minimum/Maximum of the results.
    name: 'softmax_axes_dot_int_k3', dialect: 'k3', keras_version: '3.13.2', input: [5, 4], n: 6,
    functional: true,
    layers: [
      F('p', ['INPUT'], 'Dense', { units: 3 }),
      F('q', ['INPUT'], 'Dense', { units: 3, activation: 'relu' }),
      F('cos', ['p', 'q'], 'Dot', { axes: -1, normalize: true }),
      F('sm_all', ['cos'], 'Softmax', { axis: [1, 2] }),
      F('sm_time', ['cos'], 'Softmax', { axis: 1 }),
      F('hi', ['sm_all', 'sm_time'], 'Maximum'),
      F('lo', ['sm_all', 'sm_time', 'cos'], 'Minimum'),
      F('joined', ['hi', 'lo'], 'Concatenate'),
      F('flat', ['joined'], 'Flatten'),
      F('out', ['flat'], 'Dense', { units: 1 }),
    ],
  },
  {
    // An adapted Normalization (weights mean, variance, count) in front of an LSTM, Keras 3
    // (TF.js: SeqcastNormalization).
    name: 'normalization_adapted_k3', dialect: 'k3', keras_version: '3.10.0', input: [8, 3], n: 5,
    input_range: [-6, 6],
    layers: [
      L('Normalization', { axis: -1 }),
      L('LSTM', { units: 4 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    // Normalization with mean and variance in the config: one per time step (axis 1,
    // broadcast over features), then an inverting one over the features, Keras 2.15.
    name: 'normalization_config_invert_k2_15', dialect: 'k2.15', input: [4, 3], n: 5,
    input_range: [-3, 3],
    layers: [
      L('Normalization', { axis: 1, mean: [0.5, -1.0, 2.0, 0.0], variance: [4.0, 0.25, 1.0, 9.0] }),
      L('Normalization', { axis: -1, mean: [1.0, 2.0, -3.0], variance: [2.0, 0.5, 0.0], invert: true }),
      L('Normalization', { axis: null, mean: 0.25, variance: 1.5 }),
      L('GRU', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  // ----------------------------------------------------------------- SimpleRNN
  {
    name: 'simplernn_stacked_k2_12', dialect: 'k2.12', input: [8, 3], n: 5,
    layers: [
      L('SimpleRNN', { units: 5, return_sequences: true }),
      L('SimpleRNN', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'simplernn_backwards_relu_nobias_k3', dialect: 'k3', keras_version: '3.13.2', input: [7, 2], n: 5,
    layers: [
      L('SimpleRNN', { units: 4, return_sequences: true, go_backwards: true, activation: 'relu', use_bias: false }),
      L('SimpleRNN', { units: 3, go_backwards: true, activation: 'sigmoid' }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'bisimplernn_concat_sum_k2_15', dialect: 'k2.15', input: [6, 3], n: 5,
    layers: [
      L('Bidirectional', { layer: { cls: 'SimpleRNN', cfg: { units: 4, return_sequences: true } } }),
      L('Bidirectional', { layer: { cls: 'SimpleRNN', cfg: { units: 3 } }, merge_mode: 'sum' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'bisimplernn_ave_mul_k3', dialect: 'k3', input: [6, 2], n: 5,
    layers: [
      L('Bidirectional', { layer: { cls: 'SimpleRNN', cfg: { units: 3, return_sequences: true, activation: 'relu' } }, merge_mode: 'ave' }),
      L('Bidirectional', { layer: { cls: 'SimpleRNN', cfg: { units: 3 } }, merge_mode: 'mul' }),
      L('Dense', { units: 2 }),
    ],
  },
  // ------------------------------------------------------------------- Masking
  {
    name: 'masking_lstm_k2_12', dialect: 'k2.12', input: [7, 3], n: 6, manifest: true,
    masked: { value: 0, steps: [[], [0, 1, 2], [1, 3, 5], 'all', [6], [0, 6]] },
    layers: [
      L('Masking', { mask_value: 0.0 }),
      L('LSTM', { units: 4, return_sequences: true }),
      L('LSTM', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'masking_gru_simplernn_k3', dialect: 'k3', keras_version: '3.10.0', input: [7, 2], n: 6,
    masked: { value: -10000, steps: [[0, 1], [], [2, 3, 4], [6], 'all', [1, 5]] },
    layers: [
      L('Masking', { mask_value: -10000 }),
      L('Dropout', { rate: 0.2 }),
      L('GRU', { units: 4, return_sequences: true }),
      L('SimpleRNN', { units: 3, go_backwards: true }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'masking_dense_passthrough_k2_15', dialect: 'k2.15', input: [6, 3], n: 6,
    masked: { value: 0, steps: [[0, 1, 2], [5], [], [2], 'all', [0, 2, 4]] },
    layers: [
      L('Masking'),
      L('Dense', { units: 4, activation: 'relu' }),
      L('Activation', { activation: 'tanh' }),
      L('LayerNormalization'),
      L('GRU', { units: 3, reset_after: false, go_backwards: true, return_sequences: true }),
      L('LSTM', { units: 2, recurrent_activation: 'hard_sigmoid' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'masking_bilstm_seq_k3', dialect: 'k3', keras_version: '3.13.2', input: [6, 2], n: 6,
    masked: { value: 0, steps: [[0, 1], [3], [], [5], [1, 2, 3, 4], 'all'] },
    layers: [
      L('Masking'),
      L('Bidirectional', { layer: lstm({ units: 3, return_sequences: true }) }),
      L('Bidirectional', { layer: gru({ units: 2 }), merge_mode: 'sum' }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'masking_bigru_seq_out_k2_12', dialect: 'k2.12', input: [6, 2], n: 6,
    masked: { value: 0, steps: [[0, 1], [3], [], [5], [1, 2, 3, 4], 'all'] },
    layers: [
      L('Masking'),
      L('Bidirectional', { layer: gru({ units: 3, return_sequences: true }), merge_mode: 'mul' }),
      L('Bidirectional', { layer: { cls: 'SimpleRNN', cfg: { units: 2, return_sequences: true } }, merge_mode: 'ave' }),
    ],
  },
  {
    name: 'masking_zero_output_k3', dialect: 'k3', keras_version: '3.13.2', input: [6, 2], n: 6,
    masked: { value: 0, steps: [[0, 1], [3], [], [5], [1, 2, 3, 4], 'all'] },
    layers: [
      L('Masking'),
      L('LSTM', { units: 3, return_sequences: true, zero_output_for_mask: true }),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'masking_dropped_at_conv1d_k2_12', dialect: 'k2.12', input: [7, 2], n: 6,
    masked: { value: 0, steps: [[0, 1], [3], [], [5], [1, 2, 3, 4], 'all'] },
    layers: [
      L('Masking'),
      L('Conv1D', { filters: 3, kernel_size: 2, padding: 'same' }),
      L('LSTM', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'masking_functional_merge_k3', dialect: 'k3', keras_version: '3.13.2', input: [6, 2], n: 6,
    functional: true,
    masked: { value: 0, steps: [[0, 1], [3], [], [5], [1, 2, 3, 4], 'all'] },
    layers: [
      F('mask', ['INPUT'], 'Masking'),
      F('proj', ['mask'], 'Dense', { units: 3, activation: 'tanh' }),
      F('bi', ['mask'], 'Bidirectional', { layer: gru({ units: 2, return_sequences: true }) }),
      F('cat', ['proj', 'bi'], 'Concatenate', { axis: -1 }),
      F('rnn', ['cat'], 'SimpleRNN', { units: 3 }),
      F('out', ['rnn'], 'Dense', { units: 1 }),
    ],
  },
  // ------------------------------------------------------------ stateful RNNs
  {
    name: 'lstm_stateful_batch1_k2_12', dialect: 'k2.12', keras_version: '2.3.1', input: [4, 3], n: 6,
    batch_size: 1,
    layers: [
      L('LSTM', { units: 4, stateful: true, return_sequences: true }),
      L('GRU', { units: 3, stateful: true, reset_after: false }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'simplernn_stateful_k3', dialect: 'k3', keras_version: '3.13.2', input: [5, 2], n: 5, batch_size: 2,
    layers: [
      L('SimpleRNN', { units: 3, stateful: true }),
      L('Dense', { units: 2 }),
    ],
  },
  // ------------------------------------------------ 1-D padding and transposed conv
  {
    name: 'padding_crop_upsample_k2_12', dialect: 'k2.12', input: [8, 2], n: 5,
    layers: [
      L('ZeroPadding1D', { padding: [2, 1] }),
      L('Conv1D', { filters: 3, kernel_size: 3, activation: 'relu' }),
      L('Cropping1D', { cropping: [1, 2] }),
      L('UpSampling1D', { size: 3 }),
      L('Flatten'),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'padding_crop_upsample_k3', dialect: 'k3', keras_version: '3.10.0', input: [7, 3], n: 5,
    layers: [
      L('ZeroPadding1D', { padding: 2 }),
      L('UpSampling1D'),
      L('Cropping1D', { cropping: 3 }),
      L('Conv1D', { filters: 2, kernel_size: 2 }),
      L('GlobalMaxPooling1D'),
    ],
  },
  {
    name: 'conv1d_transpose_k2_12', dialect: 'k2.12', input: [6, 2], n: 5,
    layers: [
      L('Conv1DTranspose', { filters: 3, kernel_size: 3, strides: 2 }),
      L('Conv1DTranspose', { filters: 2, kernel_size: 4, strides: 2, padding: 'same', activation: 'relu' }),
      L('Flatten'),
      L('Dense', { units: 2 }),
    ],
  },
  {
    name: 'conv1d_transpose_k3', dialect: 'k3', keras_version: '3.13.2', input: [5, 3], n: 5,
    layers: [
      L('Conv1DTranspose', { filters: 4, kernel_size: 5, strides: 3, padding: 'same', output_padding: 2, activation: 'tanh' }),
      L('Conv1DTranspose', { filters: 3, kernel_size: 3, padding: 'valid', dilation_rate: 2, use_bias: false }),
      L('Conv1DTranspose', { filters: 2, kernel_size: 2, strides: 3, padding: 'valid', output_padding: 1 }),
      L('GlobalAveragePooling1D'),
    ],
  },
  {
    name: 'conv1d_transpose_k2_15', dialect: 'k2.15', input: [6, 2], n: 5,
    layers: [
      L('Conv1DTranspose', { filters: 3, kernel_size: 2, strides: 3, padding: 'valid' }),
      L('Conv1DTranspose', { filters: 2, kernel_size: 3, padding: 'same', dilation_rate: 2, activation: 'sigmoid' }),
      L('Flatten'),
      L('Dense', { units: 1 }),
    ],
  },
  // ------------------------------------------------ several inputs/outputs
  // inputs: [{name, shape}] (layers name them), outputs: output layer names
  // in the model's order; the bundle holds input_<j>.npy and expected_<j>.npy.
  {
    name: 'multi_io_two_lstm_k2_0', dialect: 'k2.12', keras_version: '2.0.8', model_class: 'Model', n: 5,
    functional: true, inputs: twoLstmInputs, outputs: ['mean', 'quantiles'], layers: twoLstmStacks,
  },
  {
    name: 'multi_io_two_lstm_k2_15', dialect: 'k2.15', n: 6,
    functional: true, inputs: twoLstmInputs, outputs: ['quantiles', 'mean'], layers: twoLstmStacks,
  },
  {
    name: 'multi_io_two_lstm_k3', dialect: 'k3', keras_version: '3.13.2', n: 4,
    functional: true, inputs: twoLstmInputs, outputs: ['mean', 'quantiles'], layers: twoLstmStacks,
  },
  {
    // One input, two outputs; an output ('seq') also feeds later layers.
    name: 'multi_io_shared_input_k2_12', dialect: 'k2.12', n: 5,
    functional: true, inputs: [{ name: 'window', shape: [9, 2] }], outputs: ['level', 'seq', 'trend'],
    layers: sharedInputTwoHeads,
  },
  {
    name: 'multi_io_shared_input_k3', dialect: 'k3', keras_version: '3.10.0', n: 5,
    functional: true, inputs: [{ name: 'window', shape: [9, 2] }], outputs: ['trend', 'level'],
    layers: sharedInputTwoHeads,
  },
  // ------------------------------------------------ Embedding (categorical inputs)
  // A numeric window into an LSTM and a store id into Embedding -> Flatten,
  // concatenated into a Dense; ids: input_dim (the generator draws integer ids).
  {
    name: 'embedding_store_k2_12', dialect: 'k2.12', n: 6,
    functional: true, inputs: embeddingInputs(), outputs: ['forecast'], layers: embeddingStore,
  },
  {
    name: 'embedding_store_k3', dialect: 'k3', keras_version: '3.10.0', n: 6,
    functional: true, inputs: embeddingInputs('int32'), outputs: ['forecast'], layers: embeddingStore,
  },
  {
    // A sequence of ids (item per step) -> Embedding -> LSTM -> Dense.
    name: 'embedding_sequence_k2_15', dialect: 'k2.15', input: [8], input_ids: 11, n: 5,
    layers: [
      L('Embedding', { input_dim: 11, output_dim: 4, input_length: 8 }),
      L('LSTM', { units: 5 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'embedding_sequence_k3', dialect: 'k3', keras_version: '3.13.2', input: [8], input_ids: 11, n: 5,
    layers: [
      L('Embedding', { input_dim: 11, output_dim: 4 }),
      L('LSTM', { units: 5, return_sequences: true }),
      L('GlobalAveragePooling1D'),
      L('Dense', { units: 2 }),
    ],
  },
  {
    // mask_zero: id 0 is padding; the LSTMs skip those steps (input_ids 5:
    // about one id in five is 0, the first of all).
    name: 'embedding_mask_zero_k2_12', dialect: 'k2.12', input: [8], input_ids: 5, n: 6,
    layers: [
      L('Embedding', { input_dim: 5, output_dim: 3, mask_zero: true, input_length: 8 }),
      L('LSTM', { units: 4, return_sequences: true }),
      L('LSTM', { units: 3 }),
      L('Dense', { units: 1 }),
    ],
  },
  {
    name: 'embedding_mask_zero_k3', dialect: 'k3', keras_version: '3.10.0', input: [8], input_ids: 4, n: 6,
    layers: [
      L('Embedding', { input_dim: 4, output_dim: 3, mask_zero: true }),
      L('GRU', { units: 4 }),
      L('Dense', { units: 2 }),
    ],
  },
];

module.exports = { cases };
