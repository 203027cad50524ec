// Package hdf5 is a minimal, read-only, pure-Go reader for the part of the
// HDF5 file format that Keras model files use (h5py writing with libhdf5's
// default format bounds):
//
//   - superblock version 0 or 1 (a user block before it is allowed);
//   - version-1 object headers and their continuation blocks;
//   - old-style symbol-table groups: version-1 group B-trees of any depth,
//     local heaps and symbol table nodes;
//   - contiguous and compact datasets without filters;
//   - integer (1, 2, 4, 8 bytes), IEEE float16, float32 and float64 (little
//     or big endian; float16 is converted exactly), fixed-length strings and
//     variable-length strings (from the global heap);
//   - attributes, message versions 1 to 3, scalar, array or empty.
//
// Anything else is refused with an *UnsupportedError naming the feature
// (superblock 2 or 3 and version-2 object headers from libver='latest', link
// and link-info messages, dense attribute storage, chunked or filtered
// (compressed) datasets, compound, enum, reference, array and other
// datatypes, shared messages, external storage). A corrupt, truncated
// or hostile file ends in a *FormatError that says what is wrong and where;
// missing names in a *NotFoundError; values read as the wrong type in a
// *TypeError. Use errors.As.
//
// Every size a file claims is checked against the file before anything is
// allocated; B-tree, continuation and group cycles are detected, nesting and
// chains are bounded, and a File reads and decodes at most six times the
// file's size (plus 1 MiB) in all, so no input makes a reader allocate more
// than a small multiple of its size.
//
// Open reads only the superblock and the root group; groups, datasets and
// attributes are read when asked for (metadata is cached, data is not).
// The HDF5 File Format Specification (version 3 text: superblock II.A, v1
// B-trees III.A.1, symbol table nodes III.B and entries III.C, local heap
// III.D, global heap III.E, object headers IV.A.1.a, messages IV.A.2) is
// what this follows; ../shared/docs/keras-formats.md measures what real
// Keras files use.
package hdf5
