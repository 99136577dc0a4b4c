// The visitor id: HMAC-SHA256(daily key, site ‖ IP prefix ‖ user-agent), first 64 bits, as a
// signed integer (SQLite's INTEGER). Each field is length-prefixed, so no two different inputs
// can produce the same message ("ab"+"c" vs "a"+"bc"). The site is part of every input, so no
// id spans two sites. node:crypto is synchronous; Web Crypto's HMAC is async and slower per
// call, and edge runtimes offer node:crypto through their Node compatibility layers.
//
// The HMAC is computed as its definition reads, H(K⊕opad ‖ H(K⊕ipad ‖ m)), with the two padded
// keys prepared once per daily key and two one-shot crypto.hash calls (Node ≥ 20.12): a
// createHmac object per hit cost ~4.2 µs CPU, this ~3.4 µs (100k realistic messages, medians of
// 4 runs); the result is the same bytes (test/keys checks it against createHmac). Without
// crypto.hash, or for a message over MAX_FAST characters, createHmac does it.
import crypto, { createHmac } from 'node:crypto';

/** The exact HMAC message (exported for tests of its unambiguity). */
export function visitorMessage(siteId: number, prefix: string, userAgent: string): string {
  const site = String(siteId);
  return `${site.length}:${site}|${prefix.length}:${prefix}|${userAgent.length}:${userAgent}`;
}

const BLOCK = 64;
/** Messages up to this many characters (≤ 3 UTF-8 bytes each) fit the per-key scratch buffer. */
const MAX_FAST = 1400;
type OneShot = (algorithm: string, data: Buffer, outputEncoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash ?? null;

/** Per key: K⊕ipad followed by room for the message, and K⊕opad followed by the inner digest. */
interface Pads { inner: Buffer; outer: Buffer }
const padsOf = new WeakMap<Buffer, Pads>();

function pads(key: Buffer): Pads {
  let p = padsOf.get(key);
  if (p) return p;
  const k = key.length > BLOCK ? crypto.createHash('sha256').update(key).digest() : key;
  p = { inner: Buffer.alloc(BLOCK + MAX_FAST * 3, 0x36), outer: Buffer.alloc(BLOCK + 32, 0x5c) };
  for (let i = 0; i < k.length; i++) {
    p.inner[i] ^= k[i];
    p.outer[i] ^= k[i];
  }
  padsOf.set(key, p);
  return p;
}

/** HMAC-SHA256 of `message` under `key`, the first 8 bytes as a signed 64-bit integer. */
export function hmac64(key: Buffer, message: string): bigint {
  if (oneShot === null || message.length > MAX_FAST) return createHmac('sha256', key).update(message).digest().readBigInt64BE(0);
  const { inner, outer } = pads(key);
  const n = inner.write(message, BLOCK, 'utf8');
  oneShot('sha256', inner.subarray(0, BLOCK + n), 'buffer').copy(outer, BLOCK);
  return oneShot('sha256', outer, 'buffer').readBigInt64BE(0);
}

export function visitorId(key: Buffer, siteId: number, prefix: string, userAgent: string): bigint {
  return hmac64(key, visitorMessage(siteId, prefix, userAgent));
}
