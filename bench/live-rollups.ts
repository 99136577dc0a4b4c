// npm run bench (part): what the incremental rollups cost per event on the reports thread, in
// process and without HTTP: the real HitWriter writes batches of 100 hits to a real SQLite file,
// its digests (src/store/batch-digest.ts) go to a LiveRollups, and each round (plan + refresh +
// flush) is timed in CPU (process.cpuUsage, all threads), medians of several runs. Two traffic
// shapes: every hit a new visitor (the ingestion bench's random addresses, the worst case: each
// hit opens a visit with ~25 groups) and visits of 5 page views. Beside them, the writer's own
// CPU per hit in the same run, as the yardstick: the target is rollups on ≥ 95 % of ingestion
// with rollups off (issue 15).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../src/store/db.ts';
import { HitWriter } from '../src/store/hit-writer.ts';
import type { Hit } from '../src/collector/hit.ts';
import { LiveRollups } from '../src/reports/live-rollups.ts';
import { refreshRollups } from '../src/reports/rollups.ts';

const RUNS = Number(process.env.BENCH_LIVE_RUNS ?? 3);
const ROUNDS = 20, PER_ROUND = 3000, BATCH = 100;
const PAGES = ['/', '/pricing', '/blog/hello-world', '/docs/getting-started', '/about', '/blog/privacy'];

function hit(siteId: number, ts: number, visitor: number, page: number): Hit {
  return {
    siteId, ts, visitorId: BigInt(visitor) * 7919n, prevVisitorId: null, name: 'pageview', hostname: 'example.com', pathname: PAGES[page % PAGES.length],
    bytes: 18342, status: 200, loadMs: 420, engagementMs: null, props: null, revenueAmount: null, revenueCurrency: null, interactive: true,
    sourceType: 'script', referrerHost: null, referrerPath: null, source: ['Google', null, 'Hacker News'][visitor % 3], channel: (['search', 'direct', 'referral'] as const)[visitor % 3],
    utmSource: null, utmMedium: null, utmCampaign: null, utmContent: null, utmTerm: null, country: ['DE', 'US', 'FR', 'IN'][visitor % 4],
    browser: 'Chrome', browserVersion: '120', os: 'Linux', osVersion: null, device: 'desktop', language: 'en', screen: null,
  } as Hit;
}

const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(pageviewsPerVisit: number): { rounds: number; writer: number; bytes: number; visits: number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hush-live-bench-'));
  try {
    const db = openDb(path.join(dir, 'hush.db'), { synchronous: 'NORMAL' });
    const siteId = Number(db.sqlite.prepare("INSERT INTO sites (domain, timezone, created_at) VALUES ('example.com', 'UTC', 0)").run().lastInsertRowid);
    const site = { id: siteId, timezone: 'UTC' };
    let now = Date.UTC(2026, 10, 29, 9, 0, 0);
    const live = new LiveRollups();
    let pending: Float64Array[] = [];
    const writer = new HitWriter(db.sqlite, now, (buf) => pending.push(buf));
    const round = () => {
      for (const d of pending) live.receive(d);
      pending = [];
      const plan = live.plan(db.sqlite);
      refreshRollups(db.sqlite, [site], now, undefined, live, plan);
      live.finish(plan);
    };
    writer.write([hit(siteId, now++, 0, 0)]);
    round();
    let n = 0, roundMs = 0, writeMs = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const w0 = cpu();
      for (let b = 0; b < PER_ROUND / BATCH; b++) {
        const hits: Hit[] = [];
        for (let i = 0; i < BATCH; i++, n++) hits.push(hit(siteId, now++, 1 + Math.floor(n / pageviewsPerVisit), n));
        writer.write(hits);
      }
      const r0 = cpu();
      round();
      roundMs += cpu() - r0;
      writeMs += r0 - w0;
    }
    const stats = live.stats();
    db.close();
    return { rounds: (roundMs * 1000) / (ROUNDS * PER_ROUND), writer: (writeMs * 1000) / (ROUNDS * PER_ROUND), bytes: stats.bytes, visits: stats.visits };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\nlive rollups (reports thread, in process): ${ROUNDS} rounds of ${PER_ROUND} hits in batches of ${BATCH}, CPU medians of ${RUNS} runs`);
for (const perVisit of [1, 5]) {
  const runs = Array.from({ length: RUNS }, () => run(perVisit));
  const rounds = median(runs.map((r) => r.rounds)), writer = median(runs.map((r) => r.writer));
  console.log(`  ${perVisit === 1 ? 'every hit a new visitor' : `${perVisit} page views a visit    `}: rollups ${rounds.toFixed(1)} µs/hit, writer ${writer.toFixed(1)} µs/hit (rollups / writer ${(rounds / writer).toFixed(2)}×); ` +
    `${runs[0].visits} open visits held in ~${(runs[0].bytes / 2 ** 20).toFixed(0)} MiB (estimate)`);
}
