// The writer thread's hand-off (src/store/hit-codec.ts): a packed batch comes back as the same
// hits, field for field — every field of Hit set to something other than its neighbours', 64-bit
// visitor ids at both ends of the range, nulls, repeated and non-ASCII strings — and through a
// real MessageChannel with its buffer transferred.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { packHits, unpackHits, HIT_SLOTS } from '../src/store/hit-codec.ts';
import type { Hit } from '../src/collector/hit.ts';

const codec = suite('hit codec');

const full: Hit = {
  siteId: 7, ts: 1_764_460_800_123, visitorId: -(2n ** 63n), prevVisitorId: 2n ** 63n - 1n, name: 'signup', hostname: 'shop.example.com',
  pathname: '/café/ü?x', bytes: 1234, status: 404, loadMs: 321, engagementMs: 4567, scrollDepth: 88, props: '{"plan":"pro"}',
  revenueAmount: 19.99, revenueCurrency: 'EUR', interactive: false, sourceType: 'log', referrerHost: 'news.ycombinator.com',
  referrerPath: '/item', source: 'Hacker News', channel: 'referral', utmSource: 'hn', utmMedium: 'social', utmCampaign: 'launch',
  utmContent: 'top', utmTerm: 'analytics', country: 'DE', browser: 'Firefox', browserVersion: '121', os: 'Linux', osVersion: '6',
  device: 'tablet', language: 'de', screen: 'laptop',
};

codec('every field round-trips, and a missing optional scroll depth comes back null', () => {
  const bare = { ...full, prevVisitorId: null, scrollDepth: undefined, bytes: null, props: null, utmTerm: null };
  const back = unpackHits(packHits([full, bare, full]));
  assert.equal(back[0], full);
  assert.equal(back[1], { ...bare, scrollDepth: null });
  assert.equal(back[2], full);
  // Every key of the sample is distinct from its neighbours, so a swapped slot would show.
  assert.is(Object.keys(back[0]).length, Object.keys(full).length);
});

codec('repeated strings are sent once per batch', () => {
  const p = packHits([full, full, { ...full, pathname: '/other' }]);
  assert.is(p.nums.length, 3 * HIT_SLOTS);
  assert.is(p.strings.filter((s) => s === 'shop.example.com').length, 1);
  assert.ok(p.strings.includes('/other'));
});

codec('random hits through a real MessageChannel, the buffer moved', () => {
  const str = fc.option(fc.string({ maxLength: 12 }), { nil: null });
  const num = fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: null });
  const big = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const hit = fc.record({
    siteId: fc.integer({ min: 1, max: 1e6 }), ts: fc.integer({ min: 0, max: 2 ** 45 }), visitorId: big, prevVisitorId: fc.option(big, { nil: null }),
    name: fc.string(), hostname: fc.string(), pathname: fc.string(), bytes: num, status: num, loadMs: num, engagementMs: num, scrollDepth: num,
    props: str, revenueAmount: fc.option(fc.double({ noNaN: true }), { nil: null }), revenueCurrency: str, interactive: fc.boolean(),
    sourceType: fc.constantFrom('script', 'log'), referrerHost: str, referrerPath: str, source: str, channel: fc.constantFrom('search', 'direct', 'referral'),
    utmSource: str, utmMedium: str, utmCampaign: str, utmContent: str, utmTerm: str, country: str, browser: str, browserVersion: str,
    os: str, osVersion: str, device: fc.constantFrom('desktop', 'mobile', 'tablet'), language: str, screen: str,
  }) as fc.Arbitrary<Hit>;
  const { port1, port2 } = new MessageChannel();
  try {
    fc.assert(fc.property(fc.array(hit, { maxLength: 20 }), (hits) => {
      const p = packHits(hits);
      port1.postMessage(p, [p.nums.buffer as ArrayBuffer]);
      assert.is(p.nums.length, 0, 'the buffer was moved, not copied');
      assert.equal(unpackHits(receiveMessageOnPort(port2)!.message), hits.map((h) => ({ ...h }))); // fast-check's records have no prototype
    }), { numRuns: 300 });
  } finally {
    port1.close();
  }
});

codec('a batch of the wrong length is refused', () => {
  assert.throws(() => unpackHits({ nums: new Float64Array(HIT_SLOTS + 1), strings: [] }), /not a multiple/);
});

codec.run();
