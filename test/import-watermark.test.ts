// The import watermark hashes a line's fingerprint only if the line is still inside the window
// when the watermark is saved or copied (Watermark.addLine). That must leave exactly what hashing
// every line at once (add + fingerprint) leaves: the same saved rows, the same copies, the same
// duplicates found — with lines out of order, repeated, far behind, long, non-ASCII, and with the
// odd numbers other formats give (fractions, NaN bytes).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Watermark, WatermarkStore, fingerprint, WINDOW_MS } from '../src/import/watermark.ts';
import type { LogRecord } from '../src/import/formats.ts';

const wm = suite('import watermark');

let seed = 5;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) % n;
const pick = <T>(xs: T[]): T => xs[rnd(xs.length)];

const LONG = `/${'a'.repeat(70_000)}`; // over what the buffer keeps: hashed at once
const paths = ['/', '/blog/', '/café?q=1', '/日本', '/\ud800x', '/e\u0301', '/😀'];
const referrers = [null, 'https://www.google.com/', 'https://example.com/é', ''];
const bytes = [null, 0, 512, 123456789, 1.5, NaN, -3];
const agents = ['Chrome/120/Windows/10/desktop', 'null/null/null/null/bot', 'Safari/17/iOS/17/mobile'];

function record(ts: number): LogRecord {
  return {
    ts, ip: '203.0.113.9', method: pick(['GET', 'POST', 'HEAD']), path: rnd(500) === 0 ? LONG : pick(paths), status: pick([200, 404, 301.5, 500]),
    bytes: pick(bytes), referrer: pick(referrers), userAgent: 'x', host: null,
  };
}

wm('lazy hashing leaves the rows, copies and duplicate checks that hashing every line leaves', () => {
  for (let round = 0; round < 4; round++) {
    const eager = new Watermark(), lazy = new Watermark();
    let t = Date.UTC(2026, 0, 5) + round * 1234.5;
    const recent: LogRecord[] = [];
    const lines = 12_000 + rnd(5_000);
    for (let i = 0; i < lines; i++) {
      // mostly forward at ~10 lines/s; some behind by up to 2 windows; some repeated exactly
      const r = rnd(20) === 0 && recent.length ? { ...pick(recent) }
        : record(rnd(15) === 0 ? t - rnd(2 * WINDOW_MS) : rnd(500) === 0 ? eager.lastTs - WINDOW_MS : (t += rnd(200)));
      if (round === 3 && rnd(3) === 0) r.ts = t - 0.25; // fractional times (caddy's ts * 1000)
      recent.push(r);
      if (recent.length > 50) recent.shift();
      const prefix = pick(['203.0.113.0/24', '2001:db8:1::/48']), agent = pick(agents);
      eager.add(r.ts, fingerprint(r, prefix, agent));
      if (lazy.inWindow(r.ts)) lazy.addLine(r, prefix, agent);
      if (rnd(2_000) === 0) assert.equal(WatermarkStore.row(1, lazy), WatermarkStore.row(1, eager), `row at line ${i}`);
      if (rnd(3_000) === 0) {
        const a = eager.clone(), b = lazy.clone();
        // An entry that left the window can never match (its time is in its fingerprint) and is
        // not saved: the eager copy may still hold some, the lazy one never hashed them.
        const live = (w: Watermark) => [...w.recent].filter(([, [ts]]) => ts >= w.lastTs - WINDOW_MS);
        assert.equal(live(b), live(a), `copy at line ${i}`);
        assert.is(b.lastTs, a.lastTs);
        const probe = { ...pick(recent) };
        const fp = fingerprint(probe, '203.0.113.0/24', agents[0]);
        assert.is(b.seen(probe.ts, fp), a.seen(probe.ts, fp));
      }
    }
    const a = WatermarkStore.row(1, eager), b = WatermarkStore.row(1, lazy);
    assert.ok(a && JSON.parse(a.boundary).length > 100, 'the window holds lines');
    assert.equal(b, a, `round ${round}`);
  }
});

wm('the fields kept of a line hash to its fingerprint', () => {
  const w = new Watermark();
  const r = record(1_767_600_000_000);
  for (const path of [...paths, LONG]) {
    for (const b of bytes) {
      const x = { ...r, path, bytes: b, ts: r.ts + 1 };
      r.ts++;
      w.addLine(x, '203.0.113.0/24', agents[1]);
      const copy = w.clone();
      assert.ok(copy.recent.has(fingerprint(x, '203.0.113.0/24', agents[1])), `${path.slice(0, 20)} ${b}`);
    }
  }
});

wm('a line exactly one window behind the newest is kept, as add keeps it', () => {
  const eager = new Watermark(), lazy = new Watermark();
  const first = record(1_767_600_000_000), last = record(1_767_600_000_000 + WINDOW_MS);
  for (const r of [first, last]) {
    eager.add(r.ts, fingerprint(r, '203.0.113.0/24', agents[0]));
    lazy.addLine(r, '203.0.113.0/24', agents[0]);
  }
  assert.equal(WatermarkStore.row(1, lazy), WatermarkStore.row(1, eager));
  assert.is(JSON.parse(WatermarkStore.row(1, lazy)!.boundary).length, 2);
});

wm.run();
