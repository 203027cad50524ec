#!/usr/bin/python3
"""Regenerate the small HDF5 files hdf5's tests read (needs python3-h5py):

    cd hdf5/testdata && /usr/bin/python3 gen.py

types.h5      every datatype, layout and attribute form the reader supports
big_group.h5  a group of 600 members: a two-level group B-tree
userblock.h5  a 512-byte user block before the superblock
deep.h5       groups nested 70 deep (beyond the reader's limit of 64 for Walk)
tiny.h5       one dataset and one variable-length string attribute (a fuzz seed)
latest.h5     libver='latest' (superblock 3): refused
chunked.h5    a chunked, gzip-compressed dataset: refused
float16.h5    a float16 dataset (converted exactly to float32)
enum.h5       an h5py bool (enum) dataset: refused
compound.h5   a compound dataset: refused
"""

import h5py
import numpy as np


def types():
    with h5py.File("types.h5", "w", libver="earliest") as f:
        f.create_dataset("f4", data=np.arange(6, dtype="<f4").reshape(2, 3) / 4)
        f.create_dataset("f8be", data=np.array([1.5, -2.25, 1e300], dtype=">f8"))
        f.create_dataset("i8", data=np.int64(-120))
        f.create_dataset("i4be", data=np.array([1, -2, 3], dtype=">i4"))
        f.create_dataset("u1", data=np.array([0, 7, 255], dtype="u1"))
        f.create_dataset("i2", data=np.array([-300, 300], dtype="<i2"))
        f.create_dataset("empty", data=np.zeros((0,), dtype="<f4"))
        f.create_dataset("empty2d", shape=(0, 4), dtype="<f4")
        # a compact dataset (data inside the object header)
        sid = h5py.h5s.create_simple((4,))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        dsid = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, sid, dcpl=dcpl)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([1, 2, 3, 4], dtype="<f4"))
        g = f.create_group("a/b/c")
        g.create_dataset("deep", data=np.array([42], dtype="<f4"))
        f.attrs["vlen_scalar"] = "héllo"
        f.attrs.create("vlen_array", np.array(["x", "yy", ""], dtype=object), dtype=h5py.string_dtype())
        f.attrs["fixed_array"] = np.array([b"conv1d", b"lstm_cell_12"])
        f.attrs["fixed_scalar"] = b"tensorflow"
        f.attrs["empty_f8"] = np.array([])
        f.attrs["ints"] = np.array([3, -4], dtype="<i8")
        f.attrs["float"] = np.float32(0.5)
        # enough attributes after the fact to need continuation blocks
        for i in range(40):
            f["a"].attrs["attr_%02d" % i] = "value %d " % i * 20


def big_group():
    with h5py.File("big_group.h5", "w", libver="earliest") as f:
        g = f.create_group("many")
        for i in range(600):
            g.create_dataset("d%03d" % i, data=np.array([i], dtype="<f4"))


def userblock():
    with h5py.File("userblock.h5", "w", userblock_size=512, libver="earliest") as f:
        f.create_dataset("x", data=np.array([1, 2], dtype="<f4"))


def deep():
    with h5py.File("deep.h5", "w", libver="earliest") as f:
        f.create_group("/".join(["g"] * 70))


def tiny():
    with h5py.File("tiny.h5", "w", libver="earliest") as f:
        f.create_dataset("w", data=np.array([[1, 2], [3, 4]], dtype="<f4"))
        f.attrs["name"] = "dense_1"


def refused():
    with h5py.File("latest.h5", "w", libver="latest") as f:
        f.create_dataset("x", data=np.array([1, 2], dtype="<f4"))
    with h5py.File("chunked.h5", "w", libver="earliest") as f:
        f.create_dataset("x", data=np.arange(100, dtype="<f4"), chunks=(10,), compression="gzip")
    with h5py.File("enum.h5", "w", libver="earliest") as f:
        f.create_dataset("x", data=np.array([True, False]))


def float16():
    with h5py.File("float16.h5", "w", libver="earliest") as f:
        f.create_dataset("x", data=np.array([1, 2, -0.0, 6.103515625e-05, 5.960464477539063e-08, 65504,
                                             np.inf, -np.inf], dtype="<f2"))


if __name__ == "__main__":
    types()
    big_group()
    userblock()
    deep()
    tiny()
    float16()
    refused()
