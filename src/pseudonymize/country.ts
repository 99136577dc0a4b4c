// Country from a truncated IP prefix, by binary search over sorted, non-overlapping ranges.
// Runtime-neutral: the tables are plain typed arrays; loading them from disk is the server's job
// (country-data.ts). A lookup costs ~1 µs (19 probes for 334k IPv4 ranges).
import type { IpPrefix } from './truncate.ts';

export interface CountryTables {
  codes: string[];
  v4Start: Uint32Array;
  v4End: Uint32Array;
  v4Code: Uint16Array;
  /** IPv6 ranges by their upper 64 bits: prefixes are at most /48, so finer bounds do not matter. */
  v6Start: BigUint64Array;
  v6End: BigUint64Array;
  v6Code: Uint16Array;
}

function search<T extends number | bigint>(start: ArrayLike<T>, end: ArrayLike<T>, x: T): number {
  let lo = 0, hi = start.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid] <= x) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found >= 0 && x <= end[found] ? found : -1;
}

// Special-purpose IPv4 blocks (RFC 6890): no country, whatever a registry dump says (the shipped
// data maps 10.0.0.0/8 to AU, for one).
const V4_SPECIAL: Array<[number, number]> = ([
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3],
] as Array<[string, number]>).map(([a, bits]) => {
  const n = a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return [n, (0xffffffff << (32 - bits)) >>> 0];
});

function specialV4(x: number): boolean {
  for (const [net, mask] of V4_SPECIAL) if (((x & mask) >>> 0) === net) return true;
  return false;
}

/** IPv6 outside global unicast 2000::/3 (ULA, link-local, loopback, multicast…) and 2001:db8::/32. */
function specialV6(hi: bigint): boolean {
  return (hi >> 61n) !== 1n || (hi >> 32n) === 0x20010db8n;
}

/** ISO 3166-1 alpha-2 code of the prefix, or null when the database has no range for it. */
export function lookupCountry(t: CountryTables, prefix: IpPrefix): string | null {
  if (prefix.version === 4) {
    if (specialV4(prefix.v4)) return null;
    const i = search(t.v4Start, t.v4End, prefix.v4);
    return i < 0 ? null : t.codes[t.v4Code[i]];
  }
  if (specialV6(prefix.v6hi)) return null;
  const i = search(t.v6Start, t.v6End, prefix.v6hi);
  return i < 0 ? null : t.codes[t.v6Code[i]];
}
