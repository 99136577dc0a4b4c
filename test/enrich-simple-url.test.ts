// The hand split of plain http(s) URLs (src/collector/simple-url.ts) must give what the WHATWG
// parser gives, or step aside: page URLs and referrers generated from pieces that the parser
// treats specially (case, ports, credentials, IPv4 and punycode hosts, dot segments, escapes,
// backslashes, spaces, tabs, queries with campaign keys, fragments) are parsed both ways and compared.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePage, parsePageByUrl } from '../src/collector/page-url.ts';
import { acquisition, bareHost } from '../src/collector/referrer.ts';
import { splitSimpleUrl } from '../src/collector/simple-url.ts';
import { randomInts } from '../src/demo/random.ts';

const simple = suite('simple URLs split by hand');

const SCHEMES = ['https://', 'http://', 'HTTPS://', 'https:/', 'https:///', 'ftp://', 'https://user:pw@', 'https://@', ' https://', 'android-app://'];
const HOST = ['example', 'com', 'a', 'b-c', '-x', 'x-', 'xn--', 'xn--nxasmq6b', 'a--b', '1', '255', '0x7f', '09', 'EXAMPLE', 'é', '.', '..', '-', '_', '[::1]', ':8080', ':443', ':', '@', '%41', ' ', '\t', 'a'.repeat(64)];
/** Pieces the hand split accepts, dot segments among them, so that many URLs get that far. */
const PLAIN = ['a', 'blog', 'x.html', '.', '..', '...', '-', '~', '@', ':', '!', 'B', '9',
  '?', '&', '=', '+', '?utm_source=', 'utm_medium=cpc', '&utm_campaign=a+b', 'ref=x', '?source=y', '&utm_content', 'utm_term=', 'utm_source+'];
const PATH = ['/', '//', 'a', 'B', '.', '..', '...', '/.', '/..', '%2e', '%2E', '%', '%zz', '%C3%A9', '\\', ' ', '\t', '\n', '"', '<', '`', '{', '|', '^', '~', '-', '_', "'", '!', '$', '&', '(', '*', '+', ',', ';', '=', ':', '@', 'é', '😀', '?', '#', '?utm_source=x', '#/app', '?a=1#b', '\u0000', 'a.b', '.x'];

/** Seeded (src/demo/random.ts: mulberry32; an LCG's low bits repeat with a short period). */
const rnd = randomInts(1);
const pick = <T>(xs: T[]) => xs[rnd(xs.length)];

function randomUrl(): string {
  let host = '';
  for (let j = 1 + rnd(4); j > 0; j--) host += (host && rnd(4) ? '.' : '') + pick(HOST);
  if (rnd(2) === 0) host = `${pick(['www.', 'blog.', ''])}example.${pick(['com', 'org', 'co.uk', '1', 'c0m'])}`;
  let path = '';
  for (let j = rnd(6); j > 0; j--) {
    const piece = rnd(3) ? pick(PLAIN) : pick(PATH);
    path += rnd(3) ? `/${piece}` : piece;
  }
  return (rnd(6) ? pick(SCHEMES.slice(0, 2)) : pick(SCHEMES)) + host + path;
}

/** The referrer's host and path as acquisition read them from `new URL` alone. */
function byUrl(referrer: string, pageHost: string): [string | null, string | null] {
  try {
    const u = new URL(referrer);
    const host = bareHost(u.hostname.toLowerCase());
    return host && host !== bareHost(pageHost) ? [host, u.pathname || '/'] : [null, null];
  } catch {
    return [null, null];
  }
}

simple('page URLs: the same page as new URL gives, in both hash modes', () => {
  let split = 0;
  for (let i = 0; i < 30_000; i++) {
    const url = randomUrl(), hash = rnd(2) === 0;
    if (splitSimpleUrl(url, hash ? 'none' : 'fragment')) split++;
    assert.equal(parsePage(url, hash), parsePageByUrl(url, hash), JSON.stringify([url, hash]));
  }
  assert.ok(split > 3000, `only ${split} of the generated URLs were simple: the comparison would prove little`);
});

simple('referrers: the same host and path as new URL gives', () => {
  const NO = { source: null, medium: null, campaign: null, content: null, term: null };
  for (let i = 0; i < 30_000; i++) {
    const url = randomUrl();
    const a = acquisition(url, 'example.org', NO, null);
    assert.equal([a.referrerHost, a.referrerPath], byUrl(url, 'example.org'), JSON.stringify(url));
  }
});

simple('campaign parameters read by hand as URLSearchParams reads them', () => {
  for (const url of ['https://e.com/?utm_source=news&utm_medium=email&utm_campaign=spring+sale&x=1#top', 'https://e.com/p?ref=ph&source=x',
    'https://e.com/?utm_source=&utm_source=b', 'https://e.com/?utm_source', 'https://e.com/?&&utm_term=a&', 'https://e.com/?', 'https://e.com/#?utm_source=x']) {
    assert.equal(parsePage(url, false), parsePageByUrl(url, false), url);
  }
  assert.is(parsePage('https://e.com/?utm_campaign=spring+sale', false)!.utm.campaign, 'spring sale');
});

simple('the plain URLs of real pages are split by hand', () => {
  for (const url of ['https://example.com/pricing', 'https://example.com', 'http://www.example.co.uk/a/b.html', 'https://e.com/docs/getting-started#install']) {
    assert.ok(splitSimpleUrl(url, 'fragment'), url);
  }
  for (const url of ['https://Example.com/', 'https://e.com:8080/', 'https://203.0.113.9/', 'https://e.com/a/../b', 'https://e.com/caf%C3%A9', 'https://e.com?utm_source=x']) {
    assert.not.ok(splitSimpleUrl(url, 'fragment'), url);
  }
});

simple.run();
