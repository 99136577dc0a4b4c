// Enrichment: user-agent families and the cache, language, screen class, page URL and
// referrer → source/channel.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentCache, parseAgent } from '../src/collector/user-agent.ts';
import { languageFromHeader, normalizeLanguage } from '../src/collector/language.ts';
import { screenClass } from '../src/collector/screen.ts';
import { parsePage } from '../src/collector/page-url.ts';
import { acquisition, isSpamReferrer } from '../src/collector/referrer.ts';
import { Lru } from '../src/collector/lru.ts';
import { UA } from './helpers/harness.ts';

const ua = suite('user agent');

ua('families and major versions only', () => {
  assert.equal(parseAgent(UA.firefox), { bot: false, browser: 'Firefox', browserVersion: '121', os: 'Windows', osVersion: '10', device: 'desktop' });
  assert.equal(parseAgent(UA.iphone), { bot: false, browser: 'Safari', browserVersion: '17', os: 'iOS', osVersion: '17', device: 'mobile' });
  assert.equal(parseAgent(UA.chromeMac), { bot: false, browser: 'Chrome', browserVersion: '120', os: 'macOS', osVersion: '10.15', device: 'desktop' });
  const ipad = 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1';
  assert.is(parseAgent(ipad).device, 'tablet');
});

ua('bots and empty user-agents are bots', () => {
  assert.ok(parseAgent(UA.googlebot).bot);
  assert.ok(parseAgent('').bot);
  assert.ok(parseAgent('curl/8.4.0').bot);
  assert.ok(parseAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36').bot);
});

ua('the cache returns the same verdict as a fresh parse', () => {
  const c = new AgentCache(2);
  for (const u of [UA.firefox, UA.iphone, UA.chromeMac, UA.firefox, UA.googlebot]) assert.equal(c.get(u), parseAgent(u));
});

ua('the cache keeps recently used entries and stays within its capacity', () => {
  const l = new Lru<string, number>(4);
  l.set('a', 1); l.set('b', 2); // current generation full
  l.set('c', 3); // a, b become the old generation
  assert.is(l.get('a'), 1); // used: copied forward
  l.set('d', 4); l.set('e', 5); // b (unused) is dropped with the old generation
  assert.is(l.get('b'), undefined);
  assert.is(l.get('a'), 1);
  assert.ok(l.size <= 4);
  for (let i = 0; i < 1000; i++) l.set(`k${i}`, i);
  assert.ok(l.size <= 4);
});

ua.run();

const lang = suite('language and screen');

lang('primary tag plus region', () => {
  assert.is(normalizeLanguage('en-us'), 'en-US');
  assert.is(normalizeLanguage('fi'), 'fi');
  assert.is(normalizeLanguage('zh-Hant-TW'), 'zh-TW');
  assert.is(normalizeLanguage('es-419'), 'es-419');
  assert.is(normalizeLanguage('*'), null);
  assert.is(normalizeLanguage('<script>'), null);
});

lang('tags already in normal form come back as they are, the same as the full rule gives', () => {
  // the rule of language.ts, applied to every tag (it skips it for "en" and "en-US" forms)
  const TAG = /^([a-zA-Z]{2,3})(?:[-_](?:[a-zA-Z]{4}[-_])?([a-zA-Z]{2}|\d{3}))?(?:[-_].*)?$/;
  const rule = (t: string) => {
    const m = TAG.exec(t.trim());
    return m ? (m[2] ? `${m[1].toLowerCase()}-${m[2].toUpperCase()}` : m[1].toLowerCase()) : null;
  };
  const pieces = ['en', 'EN', 'e', 'n', '-', '_', 'US', 'us', 'Us', 'Latn', '419', ' ', '*', 'é', '1'];
  let seed = 3;
  for (let i = 0; i < 20_000; i++) {
    let t = '';
    for (let j = 1 + ((seed = (seed * 48271) % 2147483647) % 3); j > 0; j--) t += pieces[(seed = (seed * 48271) % 2147483647) % pieces.length];
    assert.is(normalizeLanguage(t), rule(t), JSON.stringify(t));
  }
});

lang('first Accept-Language entry', () => {
  assert.is(languageFromHeader('fi-FI,fi;q=0.9,en;q=0.8'), 'fi-FI');
  assert.is(languageFromHeader('de;q=0.7'), 'de');
  assert.is(languageFromHeader(''), null);
});

lang('screen width classes', () => {
  assert.equal([390, 800, 1280, 1920].map(screenClass), ['mobile', 'tablet', 'laptop', 'desktop']);
  assert.is(screenClass(null), null);
});

lang.run();

const page = suite('page url');

page('query dropped except campaign keys; hash only in hash mode', () => {
  const p = parsePage('https://Example.com/blog/post?utm_source=news&utm_medium=email&utm_campaign=spring&session=abc&email=a@b.c#top', false)!;
  assert.is(p.hostname, 'example.com');
  assert.is(p.pathname, '/blog/post');
  assert.equal(p.utm, { source: 'news', medium: 'email', campaign: 'spring', content: null, term: null });
  assert.is(parsePage('https://e.com/app#/settings', true)!.pathname, '/app#/settings');
  assert.is(parsePage('https://e.com/?ref=producthunt', false)!.refParam, 'producthunt');
  assert.is(parsePage('https://e.com/caf%C3%A9', false)!.pathname, '/café');
  assert.is(parsePage('https://e.com/%E0%A4%A', false)!.pathname, '/%E0%A4%A');
});

page('non-http(s) and relative URLs are rejected', () => {
  for (const u of ['javascript:alert(1)', 'file:///etc/passwd', '/relative', 'not a url']) assert.is(parsePage(u, false), null, u);
});

page.run();

const ref = suite('referrer');
const NO = { source: null, medium: null, campaign: null, content: null, term: null };

ref('search engines, socials and plain referrals', () => {
  const g = acquisition('https://www.google.com/search?q=hush', 'e.com', NO, null);
  assert.equal(g, { referrerHost: 'google.com', referrerPath: '/search', source: 'Google', channel: 'search' });
  assert.is(acquisition('https://www.google.co.uk/', 'e.com', NO, null).channel, 'search');
  assert.is(acquisition('https://duckduckgo.com/', 'e.com', NO, null).source, 'DuckDuckGo');
  const fb = acquisition('https://m.facebook.com/story', 'e.com', NO, null);
  assert.is(fb.source, 'Facebook');
  assert.is(fb.channel, 'social');
  assert.equal(acquisition('https://blog.example.org/a', 'e.com', NO, null), { referrerHost: 'blog.example.org', referrerPath: '/a', source: 'blog.example.org', channel: 'referral' });
});

ref('self-referrals and no referrer are direct', () => {
  assert.is(acquisition('https://www.e.com/other', 'e.com', NO, null).channel, 'direct');
  assert.is(acquisition('https://e.com/other', 'e.com', NO, null).referrerHost, null);
  assert.is(acquisition(null, 'e.com', NO, null).channel, 'direct');
  assert.is(acquisition('garbage', 'e.com', NO, null).channel, 'direct');
});

ref('campaign parameters: paid, email, utm and ref sources', () => {
  assert.is(acquisition('https://www.google.com/', 'e.com', { ...NO, source: 'google', medium: 'cpc' }, null).channel, 'paid');
  assert.is(acquisition(null, 'e.com', { ...NO, source: 'newsletter', medium: 'email' }, null).channel, 'email');
  const utm = acquisition(null, 'e.com', { ...NO, source: 'partner' }, null);
  assert.equal([utm.source, utm.channel], ['partner', 'referral']);
  assert.is(acquisition(null, 'e.com', NO, 'producthunt').source, 'producthunt');
});

ref('a referrer host longer than any DNS name is a plain referral, classified in linear time', () => {
  const host = 'a.'.repeat(950) + 'com';
  const t = performance.now();
  for (let i = 0; i < 20; i++) acquisition(`https://${i}${host}/`, 'e.com', NO, null);
  assert.ok(performance.now() - t < 50, `${(performance.now() - t).toFixed(1)} ms for 20 hits`);
  assert.is(acquisition(`https://x${host}/`, 'e.com', NO, null).channel, 'referral');
});

ref('referrer spam, including subdomains of listed hosts', () => {
  assert.ok(isSpamReferrer('0-0.fr'));
  assert.ok(isSpamReferrer('www.sub.0-0.fr'));
  assert.not.ok(isSpamReferrer('google.com'));
  assert.not.ok(isSpamReferrer(null));
});

ref.run();
