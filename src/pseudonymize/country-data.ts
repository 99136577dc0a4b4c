// Loads the country tables from the npm-shipped database @ip-location-db/geo-whois-asn-country
// (data: NRO/RIR delegation and whois data, CC BY 4.0 — credited in the README). Node-only:
// it reads files, so it is called once at start, never on the hit path. The CSVs are read as a
// stream of lines, 256 KB at a time: reading each whole (8 MB + 17.5 MB of text plus the buffers
// they were decoded from, alive together) was `hush import`'s peak RSS once its heap was kept
// tight (~190–200 MB at start against ~170 MB while importing), and streaming is also faster
// (0.36 s against 0.43 s). Rows are three comma-separated fields, the code trimmed.
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import type { CountryTables } from './country.ts';
import { LineSplitter } from '../import/line-source.ts';

const require = createRequire(import.meta.url);

async function eachRow(name: string, row: (a: string, b: string, c: string) => void): Promise<void> {
  const split = new LineSplitter();
  const rows = (lines: string[]) => {
    for (const line of lines) {
      const c1 = line.indexOf(','), c2 = line.indexOf(',', c1 + 1);
      if (c1 > 0 && c2 > c1) row(line.slice(0, c1), line.slice(c1 + 1, c2), line.slice(c2 + 1).trim());
    }
  };
  const file = require.resolve(`@ip-location-db/geo-whois-asn-country/${name}`);
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) rows(split.push(chunk as Buffer));
  rows(split.end());
}

/** A typed array that doubles as rows come (the row count is not known before the end). */
function grow<T extends Uint32Array | Uint16Array | BigUint64Array>(a: T, n: number, make: (size: number) => T): T {
  if (n < a.length) return a;
  const b = make(a.length * 2);
  b.set(a as never);
  return b;
}

let cached: Promise<CountryTables> | null = null;

/** The country tables, loaded once per process (~0.36 s, ~10 MB held). */
export function loadCountryTables(): Promise<CountryTables> {
  cached ??= (async () => {
    const codes: string[] = [];
    const codeIndex = new Map<string, number>();
    const code = (c: string) => {
      let i = codeIndex.get(c);
      if (i === undefined) { i = codes.length; codes.push(c); codeIndex.set(c, i); }
      return i;
    };
    let n4 = 0, v4Start = new Uint32Array(1 << 16), v4End = new Uint32Array(1 << 16), v4Code = new Uint16Array(1 << 16);
    await eachRow('geo-whois-asn-country-ipv4-num.csv', (a, b, c) => {
      v4Start = grow(v4Start, n4, (s) => new Uint32Array(s));
      v4End = grow(v4End, n4, (s) => new Uint32Array(s));
      v4Code = grow(v4Code, n4, (s) => new Uint16Array(s));
      v4Start[n4] = Number(a); v4End[n4] = Number(b); v4Code[n4++] = code(c);
    });
    let n6 = 0, v6Start = new BigUint64Array(1 << 16), v6End = new BigUint64Array(1 << 16), v6Code = new Uint16Array(1 << 16);
    await eachRow('geo-whois-asn-country-ipv6-num.csv', (a, b, c) => {
      v6Start = grow(v6Start, n6, (s) => new BigUint64Array(s));
      v6End = grow(v6End, n6, (s) => new BigUint64Array(s));
      v6Code = grow(v6Code, n6, (s) => new Uint16Array(s));
      v6Start[n6] = BigInt(a) >> 64n; v6End[n6] = BigInt(b) >> 64n; v6Code[n6++] = code(c);
    });
    // Copies of the filled part, so the doubled arrays' spare room is freed.
    return {
      codes, v4Start: v4Start.slice(0, n4), v4End: v4End.slice(0, n4), v4Code: v4Code.slice(0, n4),
      v6Start: v6Start.slice(0, n6), v6End: v6End.slice(0, n6), v6Code: v6Code.slice(0, n6),
    };
  })();
  return cached;
}
