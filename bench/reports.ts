// Reports at scale: 10,000,000 events over 50 sites (one with a quarter of them), then on the
// big site over 30 days: the full dashboard set (aggregate + timeseries + six breakdowns),
// the same with a filter, a CSV export of the month, and the dashboard page's first load; plus
// storage per event, indexes and rollups included. Targets: set p50 ≤ 50 ms, filtered ≤ 1 s,
// ≤ 64 bytes/event, dashboard first load ≤ 300 ms.
// BENCH_REPORT_EVENTS scales it; BENCH_KEEP keeps the database.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDb } from '../src/store/db.ts';
import { registerReportFunctions } from '../src/reports/sql-functions.ts';
import { refreshRollups } from '../src/reports/rollups.ts';
import { runQuery, type ReportContext } from '../src/reports/engine.ts';
import { reportCsv, STANDARD_REPORTS } from '../src/reports/export.ts';
import { fillReportDb } from './report-data.ts';
import { createCore } from '../src/server/core.ts';
import { loadConfig } from '../src/config.ts';
import { loadCountryTables } from '../src/pseudonymize/country-data.ts';

const EVENTS = Number(process.env.BENCH_REPORT_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_REPORT_RUNS ?? 15);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The queries a dashboard sends for one range: top line, chart, six panels. */
export function dashboardSet(filters: unknown[] = []): Array<Record<string, unknown>> {
  const base = { date_range: '30d', filters };
  const panel = (dimension: string) => ({ ...base, metrics: ['visitors', 'pageviews'], dimensions: [dimension], pagination: { limit: 10 } });
  return [
    { ...base, metrics: ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'], include: { comparison: 'previous_period' } },
    { ...base, metrics: ['visitors', 'pageviews'], dimensions: ['time:day'] },
    panel('event:page'), panel('visit:entry_page'), panel('visit:source'), panel('visit:country'), panel('visit:browser'), panel('visit:device'),
  ];
}

/** Fills the database, then prints every figure the reports issue asks for. */
export async function runReportsBench(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'hush-report-bench-'));
  try {
    const file = path.join(work, 'hush.db');
    const end = Date.now();
    const filled = fillReportDb(file, EVENTS, end);
    console.log(`\nreports: ${filled.events.toLocaleString('en-US')} events, ${filled.visits.toLocaleString('en-US')} visits over 50 sites (generated in ${filled.seconds.toFixed(0)} s)`);
    const store = openDb(file, { synchronous: 'NORMAL' });
    const db = store.sqlite;
    registerReportFunctions(db);
    const sites = db.prepare('SELECT id, domain, timezone, min_visitors AS minVisitors FROM sites').all() as Array<ReportContext['site']>;
    const t0 = performance.now();
    const built = refreshRollups(db, sites, end);
    console.log(`  rollups built: ${built.days} site-days in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('VACUUM');
    const size = statSync(file).size;
    const tables = db.prepare(`SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 8`).all() as Array<{ name: string; bytes: number }>;
    console.log(`  storage: ${(size / filled.events).toFixed(1)} bytes/event (file ${(size / 2 ** 20).toFixed(0)} MiB; target ≤ 64)`);
    console.log(`    ${tables.map((t) => `${t.name} ${(t.bytes / filled.events).toFixed(1)}`).join(', ')}`);

    const site = sites.find((s) => s.id === filled.bigSiteId)!;
    const bigEvents = (db.prepare('SELECT count(*) AS n FROM events WHERE site_id = ?').get(site.id) as { n: number }).n;
    const ctx: ReportContext = { sqlite: db, site, goals: [], now: end };
    const timeSet = (filters: unknown[]) => {
      const t = performance.now();
      for (const q of dashboardSet(filters)) runQuery(ctx, { site_id: site.domain, ...q });
      return performance.now() - t;
    };
    const measure = (runs: number, f: () => number) => {
      f(); // warm the page cache and the prepared statements
      return Array.from({ length: runs }, f);
    };
    const plain = measure(RUNS, () => timeSet([]));
    console.log(`  dashboard set, big site (${bigEvents.toLocaleString('en-US')} events), 30 days: p50 ${ms(pct(plain, 50))} ms, p95 ${ms(pct(plain, 95))} ms (target p50 ≤ 50 ms)`);
    const filtered = measure(Math.max(3, Math.floor(RUNS / 3)), () => timeSet([['is', 'visit:country', ['DE']]]));
    console.log(`  same, filtered by country: p50 ${ms(pct(filtered, 50))} ms, p95 ${ms(pct(filtered, 95))} ms (target ≤ 1000 ms)`);
    const csv = measure(Math.max(3, Math.floor(RUNS / 3)), () => {
      const t = performance.now();
      let bytes = 0;
      for (const report of STANDARD_REPORTS) for (const line of reportCsv(ctx, report, '30d')) bytes += line.length;
      if (bytes === 0) throw new Error('empty export');
      return performance.now() - t;
    });
    console.log(`  CSV export of the month (${STANDARD_REPORTS.length} reports): p50 ${ms(pct(csv, 50))} ms, p95 ${ms(pct(csv, 95))} ms`);
    store.close();
    // The dashboard's first load: the whole page (top line, chart, every panel) for 30 days,
    // rendered by the real app with a logged-in session.
    const core = await createCore(loadConfig({ HUSH_DB: file }), { countries: await loadCountryTables(), peer: () => '127.0.0.1' });
    const user = await core.users.create('bench@example.com', 'bench password 1', true);
    const { token } = core.sessions.create(user.id);
    const load = async () => {
      const t = performance.now();
      const r = await core.app.request(`/sites/${site.domain}`, { headers: { Cookie: `hush_session=${token}` } });
      const body = await r.text();
      if (r.status !== 200 || !body.includes('aria-label="Countries"')) throw new Error(`dashboard answered ${r.status}`);
      return performance.now() - t;
    };
    await load();
    const loads: number[] = [];
    for (let i = 0; i < RUNS; i++) loads.push(await load());
    console.log(`  dashboard first load (page with all panels), 30 days: p50 ${ms(pct(loads, 50))} ms, p95 ${ms(pct(loads, 95))} ms (target ≤ 300 ms)`);
    await core.close();
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
    else console.log(`  kept ${work}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runReportsBench();
