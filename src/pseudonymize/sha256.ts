// HMAC-SHA256 in plain JavaScript, for the visitor id: a key's two padded blocks are compressed
// once (the "midstates"), so each message costs only its own blocks plus one outer block — four
// compressions of ~0.45 µs for a typical ~180-byte visitor message. Node's crypto.hash runs each
// block almost for free (SHA-NI) but costs ~1.5 µs per call in binding and Buffer overhead, and
// the HMAC needs two calls over six blocks. The output is FIPS 180-4 / RFC 2104 to the bit:
// test/keys compares it with createHmac over random keys and messages of every block length.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
/** The message schedule (a rolling window of 16 words measured ~10 % slower: index masking). */
const W = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes at buf[off …] into `st`. */
export function compress(st: Int32Array, buf: Uint8Array, off: number): void {
  const w = W;
  for (let i = 0; i < 16; i++) {
    const j = off + (i << 2);
    w[i] = (buf[j] << 24) | (buf[j + 1] << 16) | (buf[j + 2] << 8) | buf[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15], y = w[i - 2];
    w[i] = (w[i - 16] + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w[i - 7]
      + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
  }
  let a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  st[0] = (st[0] + a) | 0; st[1] = (st[1] + b) | 0; st[2] = (st[2] + c) | 0; st[3] = (st[3] + d) | 0;
  st[4] = (st[4] + e) | 0; st[5] = (st[5] + f) | 0; st[6] = (st[6] + g) | 0; st[7] = (st[7] + h) | 0;
}

/** A key made ready: the SHA-256 states after its inner (K⊕ipad) and outer (K⊕opad) blocks. */
export interface HmacKey { inner: Int32Array; outer: Int32Array }

/** Prepares a key of any length (a key longer than a block is hashed first, per RFC 2104). */
export function hmacKey(key: Uint8Array, sha256: (data: Uint8Array) => Uint8Array): HmacKey {
  const k = key.length > 64 ? sha256(key) : key;
  // plain Uint8Arrays throughout (not Buffers), so compress's loads see one array shape
  const ipad = new Uint8Array(64).fill(0x36), opad = new Uint8Array(64).fill(0x5c);
  for (let i = 0; i < k.length; i++) { ipad[i] ^= k[i]; opad[i] ^= k[i]; }
  const inner = IV.slice(), outer = IV.slice();
  compress(inner, ipad, 0);
  compress(outer, opad, 0);
  return { inner, outer };
}

const state = new Int32Array(8);
/** The outer message: the inner digest, then its padding for 64 + 32 bytes (768 bits). */
const outerBlock = new Uint8Array(64);
outerBlock[32] = 0x80;
outerBlock[62] = 0x03;
const out = new DataView(new ArrayBuffer(8));

/**
 * HMAC-SHA256 of msg[0 … n) under `key`, its first 8 bytes as a signed 64-bit integer. `msg` must
 * have room for the padding: at least n + 72 bytes. Its bytes from n on are overwritten.
 */
export function hmacFirst64(key: HmacKey, msg: Uint8Array, n: number): bigint {
  const end = (n + 9 + 63) & ~63; // message, 0x80, zeros, 64-bit length: whole blocks
  msg[n] = 0x80;
  msg.fill(0, n + 1, end - 4);
  const bits = (64 + n) * 8; // the ipad block comes first; below 2^32 for any message here
  msg[end - 4] = bits >>> 24; msg[end - 3] = (bits >>> 16) & 255; msg[end - 2] = (bits >>> 8) & 255; msg[end - 1] = bits & 255;
  const st = state;
  st.set(key.inner);
  for (let o = 0; o < end; o += 64) compress(st, msg, o);
  for (let i = 0; i < 8; i++) {
    const v = st[i], j = i << 2;
    outerBlock[j] = v >>> 24; outerBlock[j + 1] = (v >>> 16) & 255; outerBlock[j + 2] = (v >>> 8) & 255; outerBlock[j + 3] = v & 255;
  }
  st.set(key.outer);
  compress(st, outerBlock, 0);
  out.setInt32(0, st[0]);
  out.setInt32(4, st[1]);
  return out.getBigInt64(0);
}
