'use strict';
// Minimal .npy (format version 1.0) writer and reader for little-endian
// float32/float64 C-order arrays: all the golden bundles need.
const fs = require('fs');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function shapeRepr(shape) {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** encodeNpy returns the bytes of a float32 (or float64) .npy file. */
function encodeNpy(data, shape, dtype = '<f4') {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new Error(`npy: ${data.length} values for shape ${JSON.stringify(shape)} (want ${size})`);
  }
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  // magic(6) + version(2) + header length(2) + header + '\n', padded to 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  let body;
  if (dtype === '<f4') {
    body = Buffer.from(Float32Array.from(data).buffer);
  } else if (dtype === '<f8') {
    body = Buffer.from(Float64Array.from(data).buffer);
  } else {
    throw new Error(`npy: unsupported dtype ${dtype}`);
  }
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** decodeNpy parses .npy bytes into {dtype, shape, data}. */
function decodeNpy(buf) {
  if (!buf.subarray(0, 6).equals(MAGIC)) throw new Error('npy: bad magic');
  const major = buf[6];
  let hlen;
  let off;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    off = 10;
  } else {
    hlen = buf.readUInt32LE(8);
    off = 12;
  }
  const header = buf.subarray(off, off + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) throw new Error(`npy: bad header ${header}`);
  if (fortran[1] === 'True') throw new Error('npy: fortran order unsupported');
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const start = off + hlen;
  const bytes = buf.subarray(start);
  const copy = Buffer.from(bytes); // aligned copy
  let data;
  if (descr[1] === '<f4') data = new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4);
  else if (descr[1] === '<f8') data = new Float64Array(copy.buffer, copy.byteOffset, copy.length / 8);
  else throw new Error(`npy: unsupported dtype ${descr[1]}`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`npy: ${data.length} values for shape ${shape}`);
  return { dtype: descr[1], shape, data };
}

function writeNpy(path, data, shape, dtype) {
  fs.writeFileSync(path, encodeNpy(data, shape, dtype));
}

function readNpy(path) {
  return decodeNpy(fs.readFileSync(path));
}

module.exports = { encodeNpy, decodeNpy, writeNpy, readNpy };
