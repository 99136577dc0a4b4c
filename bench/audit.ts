// hush audit on a 10,000,000-event database (50 sites, one with 2.6M events, as in PERF-NOTES),
// generated here with realistic values. Target: under 60 s. BENCH_AUDIT_EVENTS scales it.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../src/store/db.ts';
import { audit } from '../src/privacy/audit.ts';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 10_000_000);
const work = mkdtempSync(path.join(tmpdir(), 'hush-audit-bench-'));
try {
  const file = path.join(work, 'hush.db');
  const store = openDb(file, { synchronous: 'NORMAL' });
  const db = store.sqlite;
  const t0 = performance.now();
  const addSite = db.prepare("INSERT INTO sites (domain, timezone, created_at) VALUES (?, 'UTC', 0)");
  for (let i = 0; i < 50; i++) addSite.run(`site${i}.example`);
  const ins = db.prepare(`INSERT INTO events (site_id, ts, visit_id, visitor_id, name, hostname, pathname, referrer_host, referrer_path,
    source, channel, utm_source, country, browser, browser_version, os, os_version, device, language, screen, bytes, status, load_ms, props)
    VALUES (?, ?, ?, ?, 'pageview', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 200, ?, ?)`);
  const paths = Array.from({ length: 2000 }, (_, i) => `/blog/${i % 97}/post-${i}-about-things`);
  const refs: Array<[string | null, string | null, string | null, string]> = [[null, null, null, 'direct'], ['google.com', '/', 'Google', 'search'], ['news.ycombinator.com', '/item', 'news.ycombinator.com', 'referral'], ['t.co', '/x', 'Twitter', 'social']];
  const browsers: Array<[string, string, string, string, string]> = [['Chrome', '120', 'Windows', '10', 'desktop'], ['Safari', '17', 'iOS', '17', 'mobile'], ['Firefox', '121', 'Linux', '', 'desktop'], ['Chrome', '119', 'Android', '14', 'mobile']];
  const countries = ['US', 'DE', 'FI', 'FR', 'GB', 'IN', 'BR', 'JP', null];
  const now = Date.now();
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const site = i % 4 < 1 ? 0 : 1 + rnd(49); // one site with ~2.5M events
      const r = refs[rnd(refs.length)], b = browsers[rnd(browsers.length)];
      ins.run(site + 1, now - rnd(30 * 86_400_000), i, BigInt(rnd(2 ** 31)) * 4294967296n + BigInt(i), `site${site}.example`, paths[rnd(paths.length)],
        r[0], r[1], r[2], r[3], rnd(20) === 0 ? 'newsletter' : null, countries[rnd(countries.length)], b[0], b[1], b[2], b[3] || null, b[4],
        'en-US', 'desktop', rnd(100_000), rnd(3000), rnd(50) === 0 ? '{"plan":"pro","n":"3"}' : null);
    }
  });
  for (let i = 0; i < EVENTS; i += 50_000) batch(i, Math.min(EVENTS, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  const gen = (performance.now() - t0) / 1000;
  const size = statSync(file).size;
  const t1 = performance.now();
  const report = audit(file);
  const secs = (performance.now() - t1) / 1000;
  console.log(`\naudit: ${EVENTS.toLocaleString('en-US')} events (${(size / 2 ** 20).toFixed(0)} MiB database, generated in ${gen.toFixed(0)} s)`);
  console.log(`  hush audit: ${secs.toFixed(1)} s, ${report.clean ? 'clean' : `${report.findings.length} findings`} (target < 60 s)`);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`  kept ${work}`);
}
