// The Events API body: every wire-format variant Plausible trackers send, Hush's own keys, and
// each class of invalid input with the field it names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEvent, fromRecord, LIMITS } from '../src/collector/payload.ts';

const ok = (body: unknown) => {
  const r = parseEvent(typeof body === 'string' ? body : JSON.stringify(body));
  if (!r.ok) throw new Error(`expected ok, got ${r.error}`);
  return r.event;
};
const err = (body: unknown) => {
  const r = parseEvent(typeof body === 'string' ? body : JSON.stringify(body));
  if (r.ok) throw new Error('expected an error');
  return r.error;
};

const wire = suite('payload: wire formats');

wire('long keys', () => {
  const e = ok({ name: 'pageview', url: 'https://example.com/a', domain: 'example.com', referrer: 'https://t.co/x', props: { plan: 'pro' }, revenue: { amount: 9.5, currency: 'eur' }, interactive: false });
  assert.is(e.name, 'pageview');
  assert.equal(e.domains, ['example.com']);
  assert.is(e.referrer, 'https://t.co/x');
  assert.equal(e.props, { plan: 'pro' });
  assert.equal(e.revenue, { amount: 9.5, currency: 'EUR' });
  assert.is(e.interactive, false);
});

wire('short keys, props and revenue as JSON strings (the Plausible tracker)', () => {
  const e = ok({ n: 'Signup', u: 'https://example.com/#/x', d: 'example.com', r: null, p: '{"method":"google","n":3,"b":true}', $: '{"amount":"12.30","currency":"USD"}', i: true, h: 1 });
  assert.is(e.name, 'Signup');
  assert.equal(e.props, { method: 'google', n: '3', b: 'true' });
  assert.equal(e.revenue, { amount: 12.3, currency: 'USD' });
  assert.is(e.hashMode, true);
  assert.is(e.referrer, null);
});

wire('Hush keys, long and short', () => {
  const long = ok({ n: 'pageview', u: 'https://e.com/', d: 'e.com', screen_width: 1280, screen_height: 720, language: 'fi-FI', bytes: 5120, status: 404, load_ms: 812.4 });
  assert.equal([long.screenWidth, long.screenHeight, long.language, long.bytes, long.status, long.loadMs], [1280, 720, 'fi-FI', 5120, 404, 812]);
  const short = ok({ n: 'engagement', u: 'https://e.com/', d: 'e.com', sw: '390', sh: 844, l: 'en', b: 0, s: 200, lt: 5, e: 15000 });
  assert.equal([short.screenWidth, short.bytes, short.status, short.engagementMs], [390, 0, 200, 15000]);
});

wire('engagement time is only kept on engagement events', () => {
  assert.is(ok({ n: 'pageview', u: 'https://e.com/', d: 'e.com', e: 100 }).engagementMs, null);
});

wire('several comma-separated domains, deduplicated and lower-cased', () => {
  assert.equal(ok({ n: 'pageview', u: 'https://e.com/', d: 'A.com, b.com,a.com' }).domains, ['a.com', 'b.com']);
});

wire('unknown keys are ignored', () => {
  assert.is(ok({ n: 'pageview', u: 'https://e.com/', d: 'e.com', whatever: { deep: [1] }, sd: 40 }).name, 'pageview');
});

wire('empty and null props values are dropped', () => {
  assert.is(ok({ n: 'x', u: 'https://e.com/', d: 'e.com', p: { a: '', b: null } }).props, null);
});

wire('the pixel path validates the same record', () => {
  const r = fromRecord({ n: 'pageview', u: 'https://e.com/', d: 'e.com', sw: '800' });
  assert.ok(r.ok && r.event.screenWidth === 800);
});

wire.run();

const bad = suite('payload: invalid input');

const cases: Array<[string, unknown, RegExp]> = [
  ['empty body', '', /empty/],
  ['not JSON', '{"n":', /not valid JSON/],
  ['JSON array', '[1,2]', /JSON object/],
  ['JSON string', '"x"', /JSON object/],
  ['missing name', { u: 'https://e.com/', d: 'e.com' }, /"name" is required/],
  ['missing url', { n: 'pageview', d: 'e.com' }, /"url" is required/],
  ['missing domain', { n: 'pageview', u: 'https://e.com/' }, /"domain" is required/],
  ['blank domain list', { n: 'pageview', u: 'https://e.com/', d: ' , ' }, /"domain" is required/],
  ['name not a string', { n: 5, u: 'https://e.com/', d: 'e.com' }, /"name" must be a string/],
  ['name too long', { n: 'x'.repeat(LIMITS.name + 1), u: 'https://e.com/', d: 'e.com' }, /"name" is longer/],
  ['url too long', { n: 'pageview', u: `https://e.com/${'a'.repeat(2000)}`, d: 'e.com' }, /"url" is longer than 2000/],
  ['referrer too long', { n: 'pageview', u: 'https://e.com/', d: 'e.com', r: `https://r.com/${'a'.repeat(2000)}` }, /"referrer" is longer/],
  ['props not an object', { n: 'x', u: 'https://e.com/', d: 'e.com', p: '[1]' }, /"props" must be an object/],
  ['props bad JSON', { n: 'x', u: 'https://e.com/', d: 'e.com', p: '{nope' }, /"props" must be an object or a JSON string/],
  ['too many props', { n: 'x', u: 'https://e.com/', d: 'e.com', p: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, 'v'])) }, /more than 30 keys/],
  ['nested prop value', { n: 'x', u: 'https://e.com/', d: 'e.com', p: { a: { b: 1 } } }, /"props.a" must be a string/],
  ['prop value too long', { n: 'x', u: 'https://e.com/', d: 'e.com', p: { a: 'v'.repeat(2001) } }, /"props.a" is longer/],
  ['revenue without currency', { n: 'x', u: 'https://e.com/', d: 'e.com', $: { amount: 1 } }, /"revenue.currency"/],
  ['revenue amount not numeric', { n: 'x', u: 'https://e.com/', d: 'e.com', $: { amount: 'lots', currency: 'EUR' } }, /"revenue.amount"/],
  ['screen width not a number', { n: 'pageview', u: 'https://e.com/', d: 'e.com', sw: 'wide' }, /"screen_width" must be a number/],
  ['status out of range', { n: 'pageview', u: 'https://e.com/', d: 'e.com', s: 99 }, /"status" must be between 100 and 599/],
  ['negative bytes', { n: 'pageview', u: 'https://e.com/', d: 'e.com', b: -1 }, /"bytes" must be between/],
  ['interactive not boolean', { n: 'x', u: 'https://e.com/', d: 'e.com', i: 'maybe' }, /"interactive" must be true or false/],
  ['engagement without time', { n: 'engagement', u: 'https://e.com/', d: 'e.com' }, /"engagement_ms" is required/],
  ['engagement time over a day', { n: 'engagement', u: 'https://e.com/', d: 'e.com', e: 86_400_001 }, /"engagement_ms" must be between/],
  ['too many domains', { n: 'x', u: 'https://e.com/', d: Array.from({ length: 11 }, (_, i) => `s${i}.com`).join(',') }, /more than 10 sites/],
];
for (const [label, body, re] of cases) {
  bad(label, () => assert.match(err(body), re));
}

bad.run();
