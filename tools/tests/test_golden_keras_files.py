"""The ConvLSTM2D, ConvLSTM1D and subsequence CNN-LSTM TF.js goldens written
as Keras files (keras_layouts.write_golden_files): the exporter turns each back
into the golden's weights, in the golden's order, and the same config."""

import json
import os

import numpy as np
import pytest

import export_keras
import keras_layouts as kl
from seqcast_export.keras_reader import snake_case, snake_case_keras2

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "parity", "testdata", "golden")


@pytest.mark.parametrize("name,bundle,writer,to1d", kl.GOLDEN_FILES, ids=[g[0] for g in kl.GOLDEN_FILES])
def test_golden_file_exports_to_golden(tmp_path, name, bundle, writer, to1d):
    src = os.path.join(GOLDEN, bundle)
    config, version, layers = kl.golden_model(src)
    if to1d:
        config, layers = kl.convlstm1d_from_2d(config, layers)
    writer(str(tmp_path / name), config, version, layers)
    out = tmp_path / "b"
    export_keras.export([str(tmp_path / name), "--out", str(out)])
    want = [a for _, arrays in layers for a in arrays]
    got = [np.load(os.path.join(out, "weights", n)) for n in sorted(os.listdir(out / "weights"))]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and np.array_equal(g, w), i
    if not to1d:
        for i, g in enumerate(got):
            assert np.array_equal(g, np.load(os.path.join(src, "weights", "%03d.npy" % i))), i
    with open(out / "model.json") as f:
        mj = json.load(f)
    if writer is kl.write_golden_keras213_zip:  # the layers renamed, mapped by class
        assert mj["keras_version"] == "2.13.1"
        assert [l["class_name"] for l in mj["config"]["layers"]] == [l["class_name"] for l in config["config"]["layers"]]
        assert all(l["config"]["name"].startswith("my_") for l in mj["config"]["layers"] if l["class_name"] != "InputLayer")
    else:
        assert mj["config"] == config["config"] and mj["keras_version"] == version


@pytest.mark.parametrize("cls,snake", [("ConvLSTM2D", "conv_lstm2d"), ("ConvLSTM1D", "conv_lstm1d")])
def test_convlstm_keras_key(cls, snake):
    # keras/src/saving/saving_lib.py keys a layer by naming.to_snake_case(class)
    assert snake_case(cls) == snake


def test_convlstm_without_bias_has_two_weights():
    layer = {"class_name": "ConvLSTM2D", "config": {"name": "c", "use_bias": False}}
    assert kl._slots(layer, False) == [("kernel", "cell", "kernel"), ("recurrent_kernel", "cell", "recurrent_kernel")]
    assert [h for h, _, _ in kl._slots(layer, True)] == ["conv_lstm_cell/kernel", "conv_lstm_cell/recurrent_kernel"]


@pytest.mark.parametrize("cls,snake", [("ConvLSTM2D", "conv_lst_m2d"), ("ConvLSTM1D", "conv_lst_m1d"),
                                       ("Conv1D", "conv1d"), ("PReLU", "p_re_lu"), ("TimeDistributed", "time_distributed")])
def test_keras213_key(cls, snake):
    # Keras 2.13-2.15's saving_lib keys a layer by generic_utils.to_snake_case(class)
    assert snake_case_keras2(cls) == snake
