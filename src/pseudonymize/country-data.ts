// Loads the country tables from the npm-shipped database @ip-location-db/geo-whois-asn-country
// (data: NRO/RIR delegation and whois data, CC BY 4.0 — credited in the README). Node-only:
// it reads files, so it is called once at start, never on the hit path. ~0.4 s, ~10 MB.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { CountryTables } from './country.ts';

const require = createRequire(import.meta.url);

function csvPath(name: string): string {
  return require.resolve(`@ip-location-db/geo-whois-asn-country/${name}`);
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

let cached: Promise<CountryTables> | null = null;

/** The country tables, loaded once per process. */
export function loadCountryTables(): Promise<CountryTables> {
  cached ??= (async () => {
    const [v4Text, v6Text] = await Promise.all([
      readFile(csvPath('geo-whois-asn-country-ipv4-num.csv'), 'utf8'),
      readFile(csvPath('geo-whois-asn-country-ipv6-num.csv'), 'utf8'),
    ]);
    const codes: string[] = [];
    const codeIndex = new Map<string, number>();
    const code = (c: string) => {
      let i = codeIndex.get(c);
      if (i === undefined) { i = codes.length; codes.push(c); codeIndex.set(c, i); }
      return i;
    };
    const l4 = lines(v4Text);
    const v4Start = new Uint32Array(l4.length), v4End = new Uint32Array(l4.length), v4Code = new Uint16Array(l4.length);
    l4.forEach((l, i) => {
      const [a, b, c] = l.split(',');
      v4Start[i] = Number(a); v4End[i] = Number(b); v4Code[i] = code(c.trim());
    });
    const l6 = lines(v6Text);
    const v6Start = new BigUint64Array(l6.length), v6End = new BigUint64Array(l6.length), v6Code = new Uint16Array(l6.length);
    l6.forEach((l, i) => {
      const [a, b, c] = l.split(',');
      v6Start[i] = BigInt(a) >> 64n; v6End[i] = BigInt(b) >> 64n; v6Code[i] = code(c.trim());
    });
    return { codes, v4Start, v4End, v4Code, v6Start, v6End, v6Code };
  })();
  return cached;
}
