'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { encodeNpy, decodeNpy } = require('./lib/npy');

test('npy round-trips float32 arrays of several ranks', () => {
  for (const shape of [[5], [2, 3], [2, 3, 4], [1, 1, 1], [0, 3]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => (i - 3.25) * 1.5e-3);
    const buf = encodeNpy(data, shape);
    assert.equal((10 + buf.readUInt16LE(8)) % 64, 0, 'header keeps the data 64-byte aligned');
    const back = decodeNpy(buf);
    assert.equal(back.dtype, '<f4');
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  }
});

test('npy writes the NumPy 1.0 header layout', () => {
  const buf = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual([...buf.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hlen = buf.readUInt16LE(8);
  assert.equal((10 + hlen) % 64, 0);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  assert.equal(buf.length, 10 + hlen + 6 * 4);
  assert.match(encodeNpy(new Float32Array(4), [4]).toString('latin1'), /'shape': \(4,\)/);
});

test('npy reads float64 and rejects what it cannot read', () => {
  const d = Float64Array.from([0.1, -2, 3e-9]);
  const back = decodeNpy(encodeNpy(d, [3], '<f8'));
  assert.equal(back.dtype, '<f8');
  assert.deepEqual(Array.from(back.data), Array.from(d));
  assert.throws(() => encodeNpy(new Float32Array(3), [2, 2]), /3 values for shape/);
  assert.throws(() => decodeNpy(Buffer.from('not an npy file at all')), /bad magic/);
  const fortran = Buffer.from(encodeNpy(new Float32Array(4), [2, 2]).toString('latin1')
    .replace("'fortran_order': False", "'fortran_order': True "), 'latin1');
  assert.throws(() => decodeNpy(fortran), /fortran/);
});
