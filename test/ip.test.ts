// Client address resolution (trusted and untrusted proxies), truncation at both precisions,
// and the country lookup on the truncated prefix.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientIpResolver, parseCidrList } from '../src/collector/client-ip.ts';
import { truncateIp, type IpPrefix } from '../src/pseudonymize/truncate.ts';
import { parsePlainIPv6 } from '../src/pseudonymize/ipv6.ts';
import ipaddr from 'ipaddr.js';
import { lookupCountry } from '../src/pseudonymize/country.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomInts } from '../src/demo/random.ts';

const proxies = suite('client ip: proxies');

proxies('without trusted proxies the socket address wins, whatever X-Forwarded-For says', () => {
  const r = new ClientIpResolver([]);
  assert.is(r.resolve('203.0.113.9', '1.2.3.4'), '203.0.113.9');
});

proxies('an untrusted peer cannot pick its address through X-Forwarded-For', () => {
  const r = new ClientIpResolver(parseCidrList('10.0.0.0/8'));
  assert.is(r.resolve('203.0.113.9', '1.2.3.4'), '203.0.113.9');
});

proxies('a trusted peer: the rightmost entry that is not a trusted proxy', () => {
  const r = new ClientIpResolver(parseCidrList('10.0.0.0/8, 192.168.1.1'));
  // client-forged leftmost entry, then the real client, then an inner proxy
  assert.is(r.resolve('10.0.0.5', '6.6.6.6, 198.51.100.20, 192.168.1.1'), '198.51.100.20');
  assert.is(r.resolve('10.0.0.5', '198.51.100.20'), '198.51.100.20');
});

proxies('every hop trusted: the leftmost is the origin', () => {
  const r = new ClientIpResolver(parseCidrList('10.0.0.0/8'));
  assert.is(r.resolve('10.0.0.5', '10.1.1.1, 10.2.2.2'), '10.1.1.1');
  // one hop (no list to split): trusted or not, it is the origin, spaces trimmed
  assert.is(r.resolve('10.0.0.5', ' 10.1.1.1 '), '10.1.1.1');
  assert.is(r.resolve('10.0.0.5', ' 198.51.100.7'), '198.51.100.7');
  assert.is(r.resolve('10.0.0.5', '::ffff:10.1.1.1'), '::ffff:10.1.1.1');
  assert.is(r.resolve('10.0.0.5', ''), '10.0.0.5');
});

proxies('garbage written by a proxy falls back to the last good address', () => {
  const r = new ClientIpResolver(parseCidrList('10.0.0.0/8'));
  assert.is(r.resolve('10.0.0.5', 'unknown'), '10.0.0.5');
  assert.is(r.resolve('10.0.0.5', 'nonsense, 10.9.9.9'), '10.9.9.9');
});

proxies('IPv6 and IPv4-mapped peers and ranges', () => {
  const r = new ClientIpResolver(parseCidrList('::1/128, fd00::/8, ::ffff:127.0.0.0/104'));
  assert.is(r.resolve('::1', '2001:db8::5'), '2001:db8::5');
  assert.is(r.resolve('::ffff:127.0.0.1', '198.51.100.1'), '198.51.100.1'); // mapped peer, mapped range
  assert.is(r.resolve('fd12::1', '2001:db8::1, fd00::9'), '2001:db8::1');
  assert.is(r.resolve('2001:db8::77', '198.51.100.1'), '2001:db8::77');
});

proxies('bad CIDR lists are rejected with the offending item', () => {
  assert.throws(() => parseCidrList('10.0.0.0/8, banana'), /"banana"/);
  assert.throws(() => parseCidrList('10.0.0.0/33'), /10\.0\.0\.0\/33/);
});

proxies.run();

const trunc = suite('truncation');

trunc('IPv4 /24 by default, /16 strict', () => {
  assert.is(truncateIp('203.0.113.77', 'default')!.text, '203.0.113.0/24');
  assert.is(truncateIp('203.0.113.77', 'strict')!.text, '203.0.0.0/16');
});

trunc('IPv6 /48 by default, /32 strict; compressed and expanded forms agree', () => {
  assert.is(truncateIp('2001:db8:abcd:12::1', 'default')!.text, '2001:db8:abcd::/48');
  assert.is(truncateIp('2001:0db8:abcd:0012:0000:0000:0000:0001', 'default')!.text, '2001:db8:abcd::/48');
  assert.is(truncateIp('2001:db8:abcd:12::1', 'strict')!.text, '2001:db8::/32');
});

trunc('IPv4-mapped IPv6 is unwrapped and truncated as IPv4', () => {
  assert.is(truncateIp('::ffff:203.0.113.77', 'default')!.text, '203.0.113.0/24');
  assert.is(truncateIp('::ffff:cb00:714d', 'default')!.text, '203.0.113.0/24');
});

trunc('the prefix never contains the host part', () => {
  for (let i = 0; i < 256; i++) {
    const p = truncateIp(`198.51.100.${i}`, 'default')!;
    assert.is(p.text, '198.51.100.0/24');
    assert.is(p.v4 & 255, 0);
  }
});

trunc('non-addresses give null', () => {
  for (const s of ['', 'localhost', '256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', 'fe80::zz']) assert.is(truncateIp(s, 'default'), null, s);
});

/** IPv6-like text: hex groups, colons, zone ids, dotted tails, case, the odd bad character. */
function ipv6Like(rnd: (n: number) => number): string {
  const pieces = ['0', '1', 'ffff', 'FFFF', 'db8', '2001', 'fe80', 'abcd', '12345', 'g', ':', ':', '::', ':::', '%eth0', '%', '1.2.3.4', '.', ' ', '00000', '0:0'];
  if (rnd(2) === 0) { // the plain form, or nearly: 1–9 groups, perhaps one '::' somewhere
    const n = 1 + rnd(9), gap = rnd(3) ? rnd(n + 1) : -1;
    const groups = Array.from({ length: n }, () => (rnd(8) ? rnd(65536) : rnd(3)).toString(16));
    const text = gap < 0 ? groups.join(':') : `${groups.slice(0, gap).join(':')}::${groups.slice(gap).join(':')}`;
    return rnd(4) === 0 ? `::ffff:${text}` : rnd(5) === 0 ? text.toUpperCase() : text;
  }
  let t = '';
  for (let j = 1 + rnd(12); j > 0; j--) t += rnd(2) ? pieces[rnd(pieces.length)] : `${rnd(65536).toString(16)}:`;
  return rnd(4) === 0 ? `::ffff:${t}` : t;
}

trunc('the plain IPv6 parser accepts only what ipaddr.js accepts, with the same groups', () => {
  const rnd = randomInts(11);
  const g = new Uint16Array(8);
  let accepted = 0;
  for (let i = 0; i < 50_000; i++) {
    const s = ipv6Like(rnd);
    if (!parsePlainIPv6(s, g)) continue;
    accepted++;
    assert.ok(ipaddr.IPv6.isValid(s), s);
    assert.equal([...g], ipaddr.IPv6.parse(s).parts, s);
  }
  for (const s of ['::', '::1', '1::', '1::2', '2001:db8::1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', 'ABCD:ef01::']) {
    assert.ok(parsePlainIPv6(s, g), s);
    assert.equal([...g], ipaddr.IPv6.parse(s).parts, s);
  }
  assert.ok(accepted > 2000, `only ${accepted} plain addresses generated`);
});

trunc('IPv6 truncation and trust give what ipaddr.js alone gives', () => {
  // the truncation as it was before the plain parser: ipaddr.js for everything not dotted-quad IPv4
  const reference = (ip: string, precision: 'default' | 'strict'): string | null => {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return truncateIp(ip, precision)?.text ?? null;
    if (!ip.includes(':') || !ipaddr.isValid(ip)) return null;
    let a: ipaddr.IPv4 | ipaddr.IPv6;
    try { a = ipaddr.process(ip); } catch { return null; }
    if (a.kind() === 'ipv4') return truncateIp(a.toString(), precision)?.text ?? null;
    const kept = precision === 'default' ? 3 : 2;
    return `${(a as ipaddr.IPv6).parts.slice(0, kept).map((p) => p.toString(16)).join(':')}::/${kept * 16}`;
  };
  const hi = (ip: string): bigint => {
    const parts = ipaddr.parse(ip).kind() === 'ipv6' ? (ipaddr.parse(ip) as ipaddr.IPv6).parts : [0, 0, 0, 0];
    return parts.slice(0, 4).reduce((acc, p, i) => (acc << 16n) | BigInt(i < 3 ? p : 0), 0n);
  };
  const r = new ClientIpResolver(parseCidrList('fd00::/8, 2001:db8:1::/48, 10.0.0.0/8'));
  const trust = (ip: string) => {
    if (!ipaddr.isValid(ip)) return null;
    const a = ipaddr.process(ip);
    return a.kind() === 'ipv4' ? (a as ipaddr.IPv4).match(ipaddr.parseCIDR('10.0.0.0/8'))
      : ['fd00::/8', '2001:db8:1::/48'].some((c) => (a as ipaddr.IPv6).match(ipaddr.parseCIDR(c)));
  };
  const rnd = randomInts(12);
  for (let i = 0; i < 30_000; i++) {
    const ip = ipv6Like(rnd);
    for (const precision of ['default', 'strict'] as const) {
      const p: IpPrefix | null = truncateIp(ip, precision);
      assert.is(p?.text ?? null, reference(ip, precision), `${JSON.stringify(ip)} ${precision}`);
      if (p?.version === 6 && precision === 'default') assert.is(p.v6hi, hi(ip), ip);
    }
    if (!/^\d/.test(ip)) assert.is(r.trust(ip), trust(ip), JSON.stringify(ip));
  }
});

trunc.run();

const country = suite('country');

country('known prefixes resolve to their registry country; private ranges to none', async () => {
  const t = await loadCountryTables();
  const c = (ip: string) => lookupCountry(t, truncateIp(ip, 'default')!);
  assert.is(c('8.8.8.8'), 'US');
  assert.is(c('1.1.1.1'), 'AU');
  assert.is(c('2001:4860:4860::8888'), 'US');
  assert.is(c('::ffff:8.8.8.8'), 'US');
  assert.is(c('10.1.2.3'), null);
  assert.is(c('192.168.1.1'), null);
  // strict precision still resolves (the /16 start of a registry block)
  assert.is(lookupCountry(t, truncateIp('8.8.8.8', 'strict')!), 'US');
});

country('the indexed IPv4 search answers as a search of the whole table: every range bound, every /16, random addresses', async () => {
  const t = await loadCountryTables();
  // RFC 6890 blocks, as country.ts lists them: no country
  const special = [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3]]
    .map(([a, bits]) => [String(a).split('.').reduce((n, o) => n * 256 + Number(o), 0), Number(bits)] as const);
  const plain = (x: number): string | null => {
    if (special.some(([net, bits]) => Math.floor(x / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)))) return null;
    let lo = 0, hi = t.v4Start.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (t.v4Start[mid] <= x) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && x <= t.v4End[found] ? t.codes[t.v4Code[found]] : null;
  };
  const check = (x: number) => {
    if (x < 0 || x > 0xffffffff) return;
    const got = lookupCountry(t, { text: '', version: 4, v4: x, v6hi: 0n });
    if (got !== plain(x)) assert.is(got, plain(x), `address ${x}`);
  };
  for (let i = 0; i < t.v4Start.length; i++) { check(t.v4Start[i] - 1); check(t.v4Start[i]); check(t.v4End[i]); check(t.v4End[i] + 1); }
  for (let h = 0; h < 65536; h++) { check(h * 65536); check(h * 65536 + 65535); }
  for (let i = 0; i < 200_000; i++) check(Math.floor(Math.random() * 2 ** 32));
});

country('the loaded tables hold every CSV row: bounds (IPv6: the upper 64 bits) and trimmed codes', async () => {
  const t = await loadCountryTables();
  const require = createRequire(import.meta.url);
  const rows = (name: string) => readFileSync(require.resolve(`@ip-location-db/geo-whois-asn-country/${name}`), 'utf8')
    .split('\n').map((l) => l.split(',')).filter((f) => f.length >= 3);
  const v4 = rows('geo-whois-asn-country-ipv4-num.csv'), v6 = rows('geo-whois-asn-country-ipv6-num.csv');
  assert.is(t.v4Start.length, v4.length);
  assert.is(t.v6Start.length, v6.length);
  v4.forEach(([a, b, c], i) => {
    if (t.v4Start[i] !== Number(a) || t.v4End[i] !== Number(b) || t.codes[t.v4Code[i]] !== c.trim()) assert.unreachable(`IPv4 row ${i}: ${a},${b},${c}`);
  });
  v6.forEach(([a, b, c], i) => {
    if (t.v6Start[i] !== BigInt(a) >> 64n || t.v6End[i] !== BigInt(b) >> 64n || t.codes[t.v6Code[i]] !== c.trim()) assert.unreachable(`IPv6 row ${i}: ${a},${b},${c}`);
  });
});

country.run();
