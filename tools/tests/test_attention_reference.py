"""tools/attention_reference.py is deterministic: regenerating into a
temporary directory rewrites the committed files byte for byte."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import attention_reference  # noqa: E402


def test_reference_files_are_up_to_date(tmp_path):
    attention_reference.main(str(tmp_path))
    for name in ("input.npy", "reference.npy"):
        with open(os.path.join(attention_reference.OUT, name), "rb") as f:
            committed = f.read()
        with open(tmp_path / name, "rb") as f:
            assert f.read() == committed, name + " differs from what tools/attention_reference.py writes"
