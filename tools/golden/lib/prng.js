'use strict';
// Deterministic pseudo-random numbers (mulberry32): goldens must not change
// from one run to the next.

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** seedFromString hashes a string (FNV-1a) into a 32-bit seed. */
function seedFromString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Rng wraps mulberry32 with the few draws the generator needs. */
class Rng {
  constructor(seed) {
    this.next = mulberry32(typeof seed === 'string' ? seedFromString(seed) : seed);
  }
  uniform(lo, hi) {
    return lo + (hi - lo) * this.next();
  }
  /** array of n float32-rounded uniforms in [lo, hi). */
  uniformArray(n, lo, hi) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
}

module.exports = { mulberry32, seedFromString, Rng };
