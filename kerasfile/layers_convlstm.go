package kerasfile

// addConvLSTMLayers adds ConvLSTM1D and ConvLSTM2D to t.
//
// Where each format keeps a ConvLSTM layer's weights, from Keras's own
// source. In every format the layer has the weights of its cell, in
// get_weights() order kernel (kernel_size..., channels, 4*filters),
// recurrent_kernel (kernel_size..., filters, 4*filters) and, with use_bias,
// bias (4*filters,): the add_weight calls of ConvLSTMCell.build
// (keras/layers/rnn/base_conv_lstm.py in Keras 2.x,
// keras/src/layers/rnn/conv_lstm.py in Keras 3).
//
//   - Keras 2.x .h5 (keras/saving/legacy/hdf5_format.py
//     save_weights_to_hdf5_group: weight_names are the variables' names):
//     "conv_lst_m2d/kernel:0", "conv_lst_m2d/recurrent_kernel:0",
//     "conv_lst_m2d/bias:0", with no cell in the name, unlike LSTM's
//     "lstm/lstm_cell/kernel:0": ConvRNN.build (keras/layers/rnn/
//     base_conv_rnn.py) calls cell.build outside any name scope, where
//     RNN.build opens the cell's. (Keras 2's to_snake_case makes the
//     default layer name conv_lst_m2d.)
//   - Keras 3 legacy .h5 (keras/src/legacy/saving/legacy_h5_format.py:
//     weight_names are the variables' paths):
//     "<model>/conv_lst_m2d/conv_lstm_cell/kernel" and so on; ConvLSTM
//     names its cell "conv_lstm_cell" and Keras 3 builds a layer inside
//     its own name scope.
//   - Keras 3 .keras (keras/src/saving/saving_lib.py
//     _save_container_state keys a model's layers by
//     naming.to_snake_case(class name) plus a per-class counter, which gives
//     conv_lstm2d and conv_lstm1d; _save_state then walks the layer's
//     attributes): layers/conv_lstm2d/vars (empty, named after the
//     layer) and layers/conv_lstm2d/cell/vars/0, 1, 2 (named
//     conv_lstm_cell), the same NestRNN nesting as LSTM, whose class
//     ConvLSTM derives from (RNN with a cell attribute).
//   - Keras 2.13-2.15 .keras (keras/saving/saving_lib.py keys a class by
//     Keras 2's generic_utils.to_snake_case, where a capital followed by a
//     digit starts a word): _layer_checkpoint_dependencies/conv_lst_m2d/cell/vars
//     (keys.go).
//
// TimeDistributed around Conv1D, MaxPooling1D or Flatten (the subsequence
// CNN-LSTM) is NestWrapper: keras/src/layers/rnn/time_distributed.py keeps
// the inner layer in its layer attribute, so .keras has
// layers/time_distributed/vars (empty) and layers/time_distributed/layer/vars
// (the Conv1D's kernel and bias; empty for the weightless ones). Keras 2
// names the weights "time_distributed/kernel:0" (Wrapper.build builds the
// inner layer in the wrapper's scope), Keras 3's legacy .h5
// "<model>/time_distributed/conv1d/kernel".
//
// tools/tests/keras_layouts.py writes the ConvLSTM2D, ConvLSTM1D and
// subsequence CNN-LSTM goldens in these layouts (write_golden_files); the
// cross-check and cmd/seqcast's tests read and serve them.
func addConvLSTMLayers(t Table) {
	for _, c := range []string{"ConvLSTM1D", "ConvLSTM2D"} {
		t[c] = LayerSpec{Weights: withBias("kernel", "recurrent_kernel"), Nesting: NestRNN}
	}
}
