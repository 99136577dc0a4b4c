// Loads the country tables from the npm-shipped database @ip-location-db/geo-whois-asn-country
// (data: NRO/RIR delegation and whois data, CC BY 4.0 — credited in the README). Node-only:
// it reads files, so it is called once at start, never on the hit path. The CSVs are read as a
// stream, 256 KB at a time: reading each whole (8 MB + 17.5 MB of text plus the buffers they were
// decoded from, alive together) was `hush import`'s peak RSS once its heap was kept tight.
// Rows are three comma-separated fields, the code trimmed, parsed from the bytes: a string per
// row and per field (and a BigInt per IPv6 bound) made ~190 MB of garbage and ~0.4 s of CPU at
// every start; the bytes take ~0.1 s and allocate only the tables.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import type { CountryTables } from './country.ts';

const require = createRequire(import.meta.url);
const COMMA = 0x2c, LF = 0x0a;
/** 24-bit limbs for 128-bit decimals: a limb × 10^6 plus a carry stays exact in a double. */
const LIMB = 16_777_216;

/**
 * Calls row(line, a, b, c) per row: `a` and `b` are the offsets of the two bounds, `c` of the
 * code, each field ending at the next comma or the end of the line. Rows split by a chunk
 * boundary are joined; lines without two commas are skipped.
 */
async function eachRow(name: string, row: (line: Buffer, a: number, b: number, c: number, end: number) => void): Promise<void> {
  let tail: Buffer | null = null;
  const file = require.resolve(`@ip-location-db/geo-whois-asn-country/${name}`);
  const rows = (buf: Buffer, last: boolean): void => {
    let start = 0;
    for (;;) {
      let end = buf.indexOf(LF, start);
      if (end < 0) {
        if (!last) {
          tail = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
          return;
        }
        end = buf.length;
      }
      const c1 = buf.indexOf(COMMA, start);
      const c2 = c1 < 0 ? -1 : buf.indexOf(COMMA, c1 + 1);
      if (c1 > start && c2 > c1 && c2 < end) row(buf, start, c1 + 1, c2 + 1, end);
      if (end >= buf.length - 1) return;
      start = end + 1;
    }
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const buf = tail ? Buffer.concat([tail, chunk as Buffer]) : (chunk as Buffer);
    tail = null;
    rows(buf, false);
  }
  if (tail) rows(tail, true);
}

/** The decimal number in buf[at …] up to the first non-digit (IPv4 bounds: < 2^32, exact). */
function decimal(buf: Buffer, at: number): number {
  let v = 0;
  for (let d = buf[at] - 48; d >= 0 && d <= 9; d = buf[++at] - 48) v = v * 10 + d;
  return v;
}

/**
 * The upper 64 bits of the 128-bit decimal in buf[at …], as [low 32, high 32] into out[0], out[1]
 * (an IPv6 bound: the tables keep `BigInt(a) >> 64n`).
 */
function upper64(buf: Buffer, at: number, limbs: Float64Array, out: Uint32Array, o: number): void {
  limbs.fill(0);
  for (;;) {
    // up to six digits at a time, then limbs = limbs × 10^k + chunk
    let chunk = 0, scale = 1;
    for (let k = 0; k < 6; k++) {
      const d = buf[at] - 48;
      if (!(d >= 0 && d <= 9)) break;
      chunk = chunk * 10 + d;
      scale *= 10;
      at++;
    }
    if (scale === 1) break;
    let carry = chunk;
    for (let i = 0; i < 6; i++) {
      const v = limbs[i] * scale + carry;
      carry = Math.floor(v / LIMB);
      limbs[i] = v - carry * LIMB;
    }
  }
  // limb i holds bits 24i … 24i + 23: bits 64–95 and 96–127
  out[o] = Math.floor(limbs[2] / 65536) + limbs[3] * 256;
  out[o + 1] = limbs[4] + (limbs[5] % 256) * LIMB;
}

/** The array with twice the room (the row count is not known before the end). */
function doubled<T extends Uint32Array | Uint16Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a as never);
  return b;
}

let cached: Promise<CountryTables> | null = null;

/** The country tables, loaded once per process (~0.1 s, ~10 MB held). */
export function loadCountryTables(): Promise<CountryTables> {
  cached ??= (async () => {
    const codes: string[] = [];
    const codeIndex = new Map<string, number>();
    /** Two-letter codes by their two bytes, without a string per row. */
    const byPair = new Int32Array(65536).fill(-1);
    const code = (line: Buffer, at: number, end: number) => {
      while (end > at && line[end - 1] <= 0x20) end--; // trimmed, as the rows end in \r or spaces
      while (at < end && line[at] <= 0x20) at++;
      const pair = end - at === 2 ? line[at] * 256 + line[at + 1] : -1;
      if (pair >= 0 && byPair[pair] >= 0) return byPair[pair];
      const c = line.toString('latin1', at, end);
      let i = codeIndex.get(c);
      if (i === undefined) { i = codes.length; codes.push(c); codeIndex.set(c, i); }
      if (pair >= 0) byPair[pair] = i;
      return i;
    };
    let n4 = 0, v4Start = new Uint32Array(1 << 19), v4End = new Uint32Array(1 << 19), v4Code = new Uint16Array(1 << 19);
    await eachRow('geo-whois-asn-country-ipv4-num.csv', (line, a, b, c, end) => {
      if (n4 === v4Start.length) { v4Start = doubled(v4Start); v4End = doubled(v4End); v4Code = doubled(v4Code); }
      v4Start[n4] = decimal(line, a); v4End[n4] = decimal(line, b); v4Code[n4++] = code(line, c, end);
    });
    // IPv6 bounds as pairs of 32-bit words, viewed as 64-bit integers at the end (little-endian
    // machines; elsewhere each is made a BigInt).
    const limbs = new Float64Array(6);
    let n6 = 0, v6Start = new Uint32Array(1 << 19), v6End = new Uint32Array(1 << 19), v6Code = new Uint16Array(1 << 18);
    await eachRow('geo-whois-asn-country-ipv6-num.csv', (line, a, b, c, end) => {
      if (n6 === v6Code.length) { v6Start = doubled(v6Start); v6End = doubled(v6End); v6Code = doubled(v6Code); }
      upper64(line, a, limbs, v6Start, 2 * n6); upper64(line, b, limbs, v6End, 2 * n6); v6Code[n6++] = code(line, c, end);
    });
    const big = (words: Uint32Array): BigUint64Array => {
      if (endianness() === 'LE') return new BigUint64Array(words.slice(0, 2 * n6).buffer);
      const out = new BigUint64Array(n6);
      for (let i = 0; i < n6; i++) out[i] = (BigInt(words[2 * i + 1]) << 32n) | BigInt(words[2 * i]);
      return out;
    };
    // Copies of the filled part, so the doubled arrays' spare room is freed.
    return {
      codes, v4Start: v4Start.slice(0, n4), v4End: v4End.slice(0, n4), v4Code: v4Code.slice(0, n4),
      v6Start: big(v6Start), v6End: big(v6End), v6Code: v6Code.slice(0, n6),
    };
  })();
  return cached;
}
