// The import's cache of the pipeline's pure steps gives exactly what the steps give: for every
// call, in any order, with repeats, past its capacity, over several daily keys and sites, and for
// values too long to be kept. (Its effect on whole imports is covered by test/import.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ImportMemo, PrefixCache } from '../src/import/memo.ts';
import { parsePage } from '../src/collector/page-url.ts';
import { acquisition } from '../src/collector/referrer.ts';
import { lookupCountry } from '../src/pseudonymize/country.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';
import { truncateIp } from '../src/pseudonymize/truncate.ts';
import { visitorId } from '../src/pseudonymize/visitor-id.ts';
import { scrub, scrubHost } from '../src/privacy/personal-data.ts';

let seed = 11;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) % n;
const pick = <T>(xs: T[]): T => xs[rnd(xs.length)];

const hosts = ['example.com', 'www.example.com', 'blog.example.com', '203.0.113.9', '[2001:db8::1]'];
const paths = ['/', '/blog/', '/a?utm_source=news&utm_medium=email', '/p?ref=hn', '/caf%C3%A9', '/x#/route', '/user/me@example.org',
  '/ip/198.51.100.7/x', '/%E0%A4%A', `/${'long'.repeat(400)}`];
const referrers = [null, 'https://www.google.com/search?q=x', 'https://news.ycombinator.com/item?id=1', 'https://example.com/blog/',
  'android-app://com.google.android.gm', 'not a url', 'https://semalt.com/', `https://example.net/${'r'.repeat(1100)}`];
const agents = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', 'curl/8.0', 'Mozilla/5.0 (iPhone) Safari/604.1', 'x'.repeat(1500)];

const memoSuite = suite('import memo');

memoSuite('every cached step returns what the step itself returns', async () => {
  const tables = await loadCountryTables();
  const memo = new ImportMemo(tables);
  const keys = [Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3)];
  let calls = 0;
  for (let i = 0; i < 60_000; i++) {
    const url = `https://${pick(hosts)}${pick(paths)}`;
    const hash = rnd(4) === 0;
    const page = memo.page(url, hash);
    assert.equal(page, parsePage(url, hash), url);
    if (page) {
      const ref = pick(referrers);
      assert.equal(memo.acquisition(ref, page.hostname, page.utm, page.refParam), acquisition(ref, page.hostname, page.utm, page.refParam));
      assert.is(memo.scrubHost(page.hostname), scrubHost(page.hostname));
      assert.is(memo.scrub(page.pathname), scrub(page.pathname));
    }
    // ~30,000 distinct visitors: past the per-key capacity, so generations turn over
    const ip = rnd(3) === 0 ? `2001:db8:${rnd(40).toString(16)}::${rnd(9)}` : `${1 + rnd(220)}.${rnd(50)}.${rnd(30)}.${rnd(250)}`;
    const prefix = truncateIp(ip, 'default')!;
    assert.is(memo.country(prefix), lookupCountry(tables, prefix), ip);
    const key = keys[Math.min(2, Math.floor(i / 20_000) + (rnd(5) === 0 ? -1 : 0))] ?? keys[0];
    const site = 1 + rnd(2), ua = pick(agents);
    assert.is(memo.visitorId(key, site, prefix.text, ua), visitorId(key, site, prefix.text, ua));
    assert.is(memo.scrub(null), null);
    calls++;
  }
  assert.is(calls, 60_000);
});

memoSuite('the prefix cache truncates as truncateIp does, at both precisions, past its capacity', () => {
  for (const precision of ['default', 'strict'] as const) {
    const cache = new PrefixCache(precision);
    for (let i = 0; i < 50_000; i++) {
      const ip = rnd(10) === 0 ? pick(['2001:db8::1', '::ffff:203.0.113.9', 'not an ip', '1.2.3', '010.1.1.1', '256.1.1.1', ''])
        : `${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
      assert.equal(cache.truncate(ip), truncateIp(ip, precision), ip);
    }
  }
});

memoSuite.run();
