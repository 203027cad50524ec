"""Keras 2.13-2.15 dialect model config (what model.to_json() writes) for the canonical gold architecture.

The output is the same JSON structure Keras 2.15 writes for
    Sequential([Conv1D(64,3,relu,input_shape=(60,1)), MaxPooling1D(2), Bidirectional(LSTM(64,
    return_sequences=True)), Bidirectional(LSTM(32)), Dropout(0.2), Dense(16,relu), Dense(1)])
(field-for-field identical to testdata/bench/gold/model.json, which was written by Keras).
"""


def _init(cls, config=None):
    return {"module": "keras.initializers", "class_name": cls, "config": config if config is not None else {},
            "registered_name": None}


def _glorot():
    return _init("GlorotUniform", {"seed": None})


def _zeros():
    return _init("Zeros")


def _layer(cls, config, input_shape=None):
    d = {"module": "keras.layers", "class_name": cls, "config": config, "registered_name": None}
    if input_shape is not None:
        d["build_config"] = {"input_shape": input_shape}
    return d


def _lstm(name, units, return_sequences):
    return _layer("LSTM", {
        "name": name, "trainable": True, "dtype": "float32", "return_sequences": return_sequences,
        "return_state": False, "go_backwards": False, "stateful": False, "unroll": False, "time_major": False,
        "units": units, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
        "kernel_initializer": _glorot(), "recurrent_initializer": _init("Orthogonal", {"gain": 1.0, "seed": None}),
        "bias_initializer": _zeros(), "unit_forget_bias": True, "kernel_regularizer": None,
        "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
        "recurrent_dropout": 0.0, "implementation": 2})


def _dense(name, units, activation, in_dim):
    return _layer("Dense", {
        "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
        "use_bias": True, "kernel_initializer": _glorot(), "bias_initializer": _zeros(),
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}, [None, in_dim])


def gold_model_config(window=60, keras_version="2.15.0"):
    conv_len = window - 2
    pooled = (conv_len - 2) // 2 + 1
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_input_shape": [None, window, 1], "dtype": "float32", "sparse": False,
                    "ragged": False, "name": "conv1d_input"}, "registered_name": None},
        _layer("Conv1D", {
            "name": "conv1d", "trainable": True, "dtype": "float32", "batch_input_shape": [None, window, 1],
            "filters": 64, "kernel_size": [3], "strides": [1], "padding": "valid", "data_format": "channels_last",
            "dilation_rate": [1], "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": _glorot(), "bias_initializer": _zeros(), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}, [None, window, 1]),
        _layer("MaxPooling1D", {
            "name": "max_pooling1d", "trainable": True, "dtype": "float32", "strides": [2], "pool_size": [2],
            "padding": "valid", "data_format": "channels_last"}, [None, conv_len, 64]),
        _layer("Bidirectional", {
            "name": "bidirectional", "trainable": True, "dtype": "float32",
            "layer": _lstm("lstm", 64, True), "merge_mode": "concat"}, [None, pooled, 64]),
        _layer("Bidirectional", {
            "name": "bidirectional_1", "trainable": True, "dtype": "float32",
            "layer": _lstm("lstm_1", 32, False), "merge_mode": "concat"}, [None, pooled, 128]),
        _layer("Dropout", {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.2,
                           "noise_shape": None, "seed": None}, [None, 64]),
        _dense("dense", 16, "relu", 64),
        _dense("dense_1", 1, "linear", 16),
    ]
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
            "keras_version": keras_version, "backend": "tensorflow"}
