// The Worker's packed country table answers exactly as Node's tables for every prefix: at every
// range boundary of the data (and the blocks beside it) and at random addresses, IPv4 and IPv6,
// both precisions. Also its size, which the Worker's upload limit bounds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import ipaddr from 'ipaddr.js';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';
import { lookupCountry, type CountryTables } from '../src/pseudonymize/country.ts';
import { truncateIp, type Precision } from '../src/pseudonymize/truncate.ts';
import { packCountries, unpackCountries } from '../src/edge/country-pack.ts';

const packed = suite('edge: the packed country table');
let node: CountryTables, edge: CountryTables, bin: Uint8Array;

packed.before(async () => {
  node = await loadCountryTables();
  bin = packCountries(node);
  edge = unpackCountries(bin);
});

function v4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function same(ip: string, precision: Precision): void {
  const p = truncateIp(ip, precision)!;
  assert.is(lookupCountry(edge, p), lookupCountry(node, p), `${ip} (${precision})`);
}

packed('IPv4: every 5th range boundary (a different fifth each run), the addresses beside it, 50,000 random ones', () => {
  let n = 0;
  for (let i = Math.floor(Math.random() * 5); i < node.v4Start.length; i += 5) {
    for (const x of [node.v4Start[i], node.v4End[i], node.v4Start[i] - 1, node.v4End[i] + 1]) {
      if (x < 0 || x > 0xffffffff) continue;
      same(v4(x), 'default');
      if (i % 20 < 5) same(v4(x), 'strict');
      n++;
    }
  }
  for (let i = 0; i < 50_000; i++) {
    const x = randomBytes(4).readUInt32BE(0);
    same(v4(x), 'default');
    same(v4(x), 'strict');
  }
  assert.ok(n > 200_000, `${n} boundary addresses`);
});

packed('IPv6: every 4th range boundary (a different fourth each run) and 50,000 random global addresses', () => {
  const text = (hi: bigint) => {
    const parts = [0, 1, 2, 3].map((k) => Number((hi >> BigInt(48 - 16 * k)) & 0xffffn));
    return ipaddr.fromByteArray([...Buffer.from(parts.flatMap((p) => [p >> 8, p & 255])), ...Array(8).fill(0)]).toString();
  };
  for (let i = Math.floor(Math.random() * 4); i < node.v6Start.length; i += 4) {
    for (const x of [node.v6Start[i], node.v6End[i], node.v6Start[i] - 1n, node.v6End[i] + 1n]) {
      if (x < 0n || x >= 1n << 64n) continue;
      same(text(x), 'default');
      if (i % 16 < 4) same(text(x), 'strict');
    }
  }
  for (let i = 0; i < 50_000; i++) {
    const b = randomBytes(16);
    b[0] = 0x20 | (b[0] & 0x1f); // 2000::/3
    same(ipaddr.fromByteArray([...b]).toString(), 'default');
  }
});

packed('fits the Worker comfortably: about 1 MB, about 340 KB gzipped', () => {
  assert.ok(bin.length < 1_500_000, `${bin.length} bytes`);
  assert.ok(gzipSync(bin).length < 500_000, `${gzipSync(bin).length} bytes gzipped`);
});

packed.run();
