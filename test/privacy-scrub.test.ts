// scrub's quick rejections (no regex scan when no '.' sits between digits, no user-agent test
// without a '/' before a digit) must never change what is scrubbed: compared here with the plain
// algorithm — every pattern run over the whole text — on random strings built from the pieces
// that make addresses, e-mail addresses and user-agents, and the pieces that almost do.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { scrub, scrubHost, ipsIn, USER_AGENT, EMAIL, PLACEHOLDER } from '../src/privacy/personal-data.ts';
import { randomInts } from '../src/demo/random.ts';

const quick = suite('privacy: scrub quick rejections');

/** The IPv4 pattern of personal-data.ts, run unconditionally. */
const V4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/g;
const EMAIL_ALL = new RegExp(EMAIL.source, 'g');

/** scrub as it read before the quick checks, for texts without ':' (no IPv6 candidate). */
function plainScrub(text: string): string {
  if (!text) return text;
  if (USER_AGENT.test(text)) return PLACEHOLDER.userAgent;
  const out = text.indexOf('@') >= 0 ? text.replace(EMAIL_ALL, PLACEHOLDER.email) : text;
  return out.replace(V4, (m, a, b, c, d) => (Number(a) <= 255 && Number(b) <= 255 && Number(c) <= 255 && Number(d) <= 255 ? PLACEHOLDER.ip : m));
}

const PIECES = ['1', '25', '255', '256', '0', '.', '..', '/', 'a', 'x', '-', '@', 'b.co', 'example.com', ' ', '%2e', 'é',
  'Chrome/', 'Mozilla/5.0 (', 'AppleWebKit/', 'Gecko/', '537.36', '120.0.0', '/7', '.1', '1.', 'Safari/1.2', '?', '#'];
/** Seeded (src/demo/random.ts: mulberry32; an LCG's low bits repeat with a short period). */
const rnd = randomInts(42);
const randomText = (pieces: string[]) => {
  let t = '';
  for (let j = rnd(14); j > 0; j--) t += pieces[rnd(pieces.length)];
  return t;
};

quick('scrub gives what running every pattern over the whole text gives', () => {
  for (let i = 0; i < 20_000; i++) {
    const t = randomText(PIECES);
    assert.is(scrub(t), plainScrub(t), JSON.stringify(t));
    if (!t.startsWith('[')) assert.is(scrubHost(t), plainScrub(t), JSON.stringify(t));
  }
  for (const t of ['203.0.113.99', 'a203.0.113.99b', '/x/10.0.0.1/y', 'Mozilla/5.0 (X11)', 'x Chrome/1.2.3', 'me@example.com', '1.2.3.4.5', '999.1.1.1', 'example.com', '/pricing']) {
    assert.is(scrub(t), plainScrub(t), t);
  }
});

quick('ipsIn finds every IPv4 the pattern finds, colons or not', () => {
  const pieces = [...PIECES, ':', '::', 'ffff', '2001:db8'];
  for (let i = 0; i < 20_000; i++) {
    const t = randomText(pieces);
    const found = ipsIn(t);
    for (const m of t.matchAll(V4)) {
      if ([m[1], m[2], m[3], m[4]].every((o) => Number(o) <= 255)) assert.ok(found.some((f) => f.includes(m[0])), `${JSON.stringify(t)}: ${m[0]}`);
    }
  }
});

quick.run();
