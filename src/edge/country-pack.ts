// The country tables packed for the Worker: the same @ip-location-db data Node loads (see
// pseudonymize/country-data.ts), reduced to what a truncated prefix can ask. A prefix is at most
// a /24 (IPv4) or a /48 (IPv6), and Node looks up its first address, so the answer can only
// change at /24 and /48 block boundaries: each table is the runs of blocks with one answer,
// adjacent runs merged. ~330k IPv4 ranges become ~n runs of 5 bytes (measured by
// scripts/edge-build.ts). Unpacked back into CountryTables, the lookup is Node's own
// lookupCountry, so both hosts answer the same for every prefix (test/edge-countries.test.ts).
// Runtime-neutral: no Node APIs.
import { lookupCountry, type CountryTables } from '../pseudonymize/country.ts';

const MAGIC = 0x32435548; // "HUC2", little-endian
/** /48 blocks: 2^48, still exact as a JS number (so no BigInt while packing or unpacking). */
const V6_BLOCKS = 2 ** 48;

interface Runs {
  /** Block numbers where a run begins, ascending. */
  starts: number[];
  /** 0: no country; i + 1: codes[i]. */
  codes: number[];
}

/** Merges sorted candidate blocks with the same answer into runs. */
function toRuns(candidates: number[], answer: (block: number) => number): Runs {
  const runs: Runs = { starts: [], codes: [] };
  let last = -1;
  for (const b of candidates) {
    const a = answer(b);
    if (a === last) continue;
    runs.starts.push(b);
    runs.codes.push(a);
    last = a;
  }
  return runs;
}

/** Unsigned LEB128: run starts are written as gaps from the previous one, mostly one or two bytes. */
function writeVarint(out: number[], n: number): void {
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** Packs Node's tables (as loadCountryTables gives them) into the binary the Worker ships. */
export function packCountries(t: CountryTables): Uint8Array {
  if (t.codes.length > 254) throw new Error('more than 254 country codes: the packed table keeps one byte per code');
  const codeOf = (c: string | null) => (c === null ? 0 : t.codes.indexOf(c) + 1);
  // The answer changes only at ranges' starts and ends + 1, seen from the block holding them.
  const v4 = new Set<number>([0]);
  for (let i = 0; i < t.v4Start.length; i++) {
    v4.add(Math.ceil(t.v4Start[i] / 256));
    v4.add(Math.ceil((t.v4End[i] + 1) / 256));
  }
  const r4 = toRuns([...v4].filter((b) => b < 2 ** 24).sort((a, b) => a - b),
    (b) => codeOf(lookupCountry(t, { text: '', version: 4, v4: b * 256, v6hi: 0n })));
  const v6 = new Set<number>([0]);
  const block = (x: bigint) => Number((x + 0xffffn) >> 16n); // the first /48 at or after x
  for (let i = 0; i < t.v6Start.length; i++) {
    v6.add(block(t.v6Start[i]));
    v6.add(block(t.v6End[i] + 1n));
  }
  const r6 = toRuns([...v6].filter((b) => b < V6_BLOCKS).sort((a, b) => a - b),
    (b) => codeOf(lookupCountry(t, { text: '', version: 6, v4: 0, v6hi: BigInt(b) << 16n })));

  const bytes: number[] = [];
  const u32 = (n: number) => bytes.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);
  u32(MAGIC); u32(t.codes.length); u32(r4.starts.length); u32(r6.starts.length);
  for (const c of t.codes) bytes.push(c.charCodeAt(0), c.charCodeAt(1));
  // Columns, not rows (codes together, gaps together): the Worker ships gzipped, and like
  // values side by side compress better.
  for (const c of r4.codes) bytes.push(c);
  for (const c of r6.codes) bytes.push(c);
  for (const runs of [r4, r6]) {
    let prev = 0;
    for (const s of runs.starts) { writeVarint(bytes, s - prev); prev = s; }
  }
  return Uint8Array.from(bytes);
}

/** The CountryTables of a packed binary: the runs that have a country, as address ranges. */
export function unpackCountries(bin: ArrayBuffer | Uint8Array): CountryTables {
  const b = bin instanceof Uint8Array ? bin : new Uint8Array(bin);
  const u32 = (o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  if (u32(0) !== MAGIC) throw new Error('not a packed country table of this version (rebuild it: node --import tsx scripts/edge-build.ts)');
  const nc = u32(4), n4 = u32(8), n6 = u32(12);
  let o = 16;
  const codes: string[] = [];
  for (let i = 0; i < nc; i++, o += 2) codes.push(String.fromCharCode(b[o], b[o + 1]));
  const c4 = o, c6 = c4 + n4;
  o = c6 + n6;
  const starts = (n: number): Float64Array => {
    const out = new Float64Array(n + 1);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      let x = 0, scale = 1, byte;
      do { byte = b[o++]; x += (byte & 127) * scale; scale *= 128; } while (byte & 128);
      out[i] = prev += x;
    }
    return out;
  };
  const s4 = starts(n4);
  s4[n4] = 2 ** 24;
  const s6 = starts(n6);
  s6[n6] = V6_BLOCKS;
  let k4 = 0, k6 = 0;
  for (let i = 0; i < n4; i++) if (b[c4 + i]) k4++;
  for (let i = 0; i < n6; i++) if (b[c6 + i]) k6++;
  const v4Start = new Uint32Array(k4), v4End = new Uint32Array(k4), v4Code = new Uint16Array(k4);
  for (let i = 0, k = 0; i < n4; i++) {
    const code = b[c4 + i];
    if (!code) continue;
    v4Start[k] = s4[i] * 256;
    v4End[k] = s4[i + 1] * 256 - 1;
    v4Code[k++] = code - 1;
  }
  const v6Start = new BigUint64Array(k6), v6End = new BigUint64Array(k6), v6Code = new Uint16Array(k6);
  for (let i = 0, k = 0; i < n6; i++) {
    const code = b[c6 + i];
    if (!code) continue;
    v6Start[k] = BigInt(s6[i]) << 16n;
    v6End[k] = (BigInt(s6[i + 1]) << 16n) - 1n;
    v6Code[k++] = code - 1;
  }
  return { codes, v4Start, v4End, v4Code, v6Start, v6End, v6Code };
}
