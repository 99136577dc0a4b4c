// Country from a truncated IP prefix, by binary search over sorted, non-overlapping ranges.
// Runtime-neutral: the tables are plain typed arrays; loading them from disk is the server's job
// (country-data.ts). A whole-table search is 19 probes over 334k IPv4 ranges, most of them cache
// misses for random addresses (~0.3 µs); a first-level index by the top 16 bits, built once per
// table (256 KB, ~1 ms), narrows it to the few ranges of one /16: ~0.03 µs a lookup. The answer is
// the same range either way: the index only bounds the search (test/ip compares the two).
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

/**
 * For each 16-bit top h (and 65536), the index of the first range starting at or above h << 16:
 * every range below first[h] starts below any address of /16 h, every range from first[h + 1]
 * on starts above them all, so the last range starting at or below x is in
 * [first[h] - 1, first[h + 1] - 1].
 */
function v4Index(start: Uint32Array): Uint32Array {
  const first = new Uint32Array(65537);
  let i = 0;
  for (let h = 0; h <= 65536; h++) {
    const bound = h * 65536;
    while (i < start.length && start[i] < bound) i++;
    first[h] = i;
  }
  return first;
}

/** Each table's index (tables are read-only once loaded); the last one used is one comparison away. */
const indexes = new WeakMap<Uint32Array, Uint32Array>();
let lastStart: Uint32Array | null = null, lastIndex: Uint32Array | null = null;

function indexOf(start: Uint32Array): Uint32Array {
  if (start === lastStart) return lastIndex!;
  let index = indexes.get(start);
  if (!index) indexes.set(start, (index = v4Index(start)));
  lastStart = start;
  lastIndex = index;
  return index;
}

function searchV4(t: CountryTables, x: number): number {
  const first = indexOf(t.v4Start), h = x >>> 16, start = t.v4Start;
  let found = first[h] - 1, lo = first[h], hi = first[h + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid] <= x) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found >= 0 && x <= t.v4End[found] ? found : -1;
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

/** Per first octet: 0 in no special block, 1 wholly special (0/8, 10/8, 127/8, 224/3), 2 partly. */
const SPECIAL_FIRST = new Uint8Array(256);
for (const [net, mask] of V4_SPECIAL) {
  const whole = (mask & 0xffffff) === 0; // a /8 or shorter covers its first octets whole
  for (let o = net >>> 24; o <= (net | ~mask) >>> 24; o++) SPECIAL_FIRST[o] = whole ? 1 : SPECIAL_FIRST[o] || 2;
}

function specialV4(x: number): boolean {
  const kind = SPECIAL_FIRST[x >>> 24];
  if (kind !== 2) return kind === 1;
  for (let i = 0; i < V4_SPECIAL.length; i++) if (((x & V4_SPECIAL[i][1]) >>> 0) === V4_SPECIAL[i][0]) return true;
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
    const i = searchV4(t, prefix.v4);
    return i < 0 ? null : t.codes[t.v4Code[i]];
  }
  if (specialV6(prefix.v6hi)) return null;
  const i = search(t.v6Start, t.v6End, prefix.v6hi);
  return i < 0 ? null : t.codes[t.v6Code[i]];
}
