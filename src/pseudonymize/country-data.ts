// Loads the country tables from the npm-shipped database @ip-location-db/geo-whois-asn-country
// (data: NRO/RIR delegation and whois data, CC BY 4.0 — credited in the README). Node-only:
// it reads files, so it is called once at start, never on the hit path. ~0.4 s, ~10 MB held.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { CountryTables } from './country.ts';

const require = createRequire(import.meta.url);

function csvPath(name: string): string {
  return require.resolve(`@ip-location-db/geo-whois-asn-country/${name}`);
}

/** Calls `row` with the three comma-separated fields of each line, without splitting the text into arrays. */
function eachRow(text: string, row: (a: string, b: string, c: string) => void): number {
  let n = 0, pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const c1 = text.indexOf(',', pos), c2 = text.indexOf(',', c1 + 1);
    if (c1 > 0 && c2 > c1 && c2 < end) {
      row(text.slice(pos, c1), text.slice(c1 + 1, c2), text.slice(c2 + 1, end).trim());
      n++;
    }
    pos = end + 1;
  }
  return n;
}

let cached: Promise<CountryTables> | null = null;

/** The country tables, loaded once per process; the files are read one at a time (peak ~60 MB). */
export function loadCountryTables(): Promise<CountryTables> {
  cached ??= (async () => {
    const codes: string[] = [];
    const codeIndex = new Map<string, number>();
    const code = (c: string) => {
      let i = codeIndex.get(c);
      if (i === undefined) { i = codes.length; codes.push(c); codeIndex.set(c, i); }
      return i;
    };
    let text = await readFile(csvPath('geo-whois-asn-country-ipv4-num.csv'), 'utf8');
    let n = eachRow(text, () => {});
    const v4Start = new Uint32Array(n), v4End = new Uint32Array(n), v4Code = new Uint16Array(n);
    let i = 0;
    eachRow(text, (a, b, c) => { v4Start[i] = Number(a); v4End[i] = Number(b); v4Code[i++] = code(c); });
    text = await readFile(csvPath('geo-whois-asn-country-ipv6-num.csv'), 'utf8');
    n = eachRow(text, () => {});
    const v6Start = new BigUint64Array(n), v6End = new BigUint64Array(n), v6Code = new Uint16Array(n);
    i = 0;
    eachRow(text, (a, b, c) => { v6Start[i] = BigInt(a) >> 64n; v6End[i] = BigInt(b) >> 64n; v6Code[i++] = code(c); });
    return { codes, v4Start, v4End, v4Code, v6Start, v6End, v6Code };
  })();
  return cached;
}
