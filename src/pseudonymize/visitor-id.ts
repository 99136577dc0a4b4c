// The visitor id: HMAC-SHA256(daily key, site ‖ IP prefix ‖ user-agent), first 64 bits, as a
// signed integer (SQLite's INTEGER). Each field is length-prefixed, so no two different inputs
// can produce the same message ("ab"+"c" vs "a"+"bc"). The site is part of every input, so no
// id spans two sites. node:crypto's HMAC (~4 µs) is synchronous; Web Crypto's is async and
// slower per call, and edge runtimes offer node:crypto through their Node compatibility layers.
import { createHmac } from 'node:crypto';

/** The exact HMAC message (exported for tests of its unambiguity). */
export function visitorMessage(siteId: number, prefix: string, userAgent: string): string {
  const site = String(siteId);
  return `${site.length}:${site}|${prefix.length}:${prefix}|${userAgent.length}:${userAgent}`;
}

export function visitorId(key: Buffer, siteId: number, prefix: string, userAgent: string): bigint {
  return createHmac('sha256', key).update(visitorMessage(siteId, prefix, userAgent)).digest().readBigInt64BE(0);
}
