import { fillReportDb } from '/work/main/bench/report-data.ts';
import { openDb } from '/work/main/src/store/db.ts';
import { registerReportFunctions } from '/work/main/src/reports/sql-functions.ts';
import { refreshRollups } from '/work/main/src/reports/rollups.ts';
import { runQuery } from '/work/main/src/reports/engine.ts';
import { dashboardSet } from '/work/main/bench/reports.ts';
import { existsSync } from 'node:fs';
const file = '/tmp/prof1m.db';
const end = Date.UTC(2026, 10, 21, 12);
const fresh = !existsSync(file);
if (fresh) fillReportDb(file, 1_000_000, end);
const { sqlite } = openDb(file, { migrate: false });
registerReportFunctions(sqlite);
const sites = sqlite.prepare('SELECT id, domain, timezone, min_visitors AS minVisitors FROM sites').all() as any[];
if (fresh) refreshRollups(sqlite, sites, end);
const site = sites[0];
const ctx = { sqlite, site, goals: [], now: end };
for (let round = 0; round < 3; round++) {
  const times = dashboardSet([]).map((q) => { const t = performance.now(); const r = runQuery(ctx, { site_id: site.domain, ...q }); return `${(performance.now() - t).toFixed(1)}${r.meta.source === 'rollups' ? '' : '(' + r.meta.source + ')'}`; });
  console.log(times.join(' '));
}
