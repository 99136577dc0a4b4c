import { openDb } from '/work/main/src/store/db.ts';
import { fetchEventRows, aggregate } from '/work/main/src/reports/aggregate.ts';
import { ROLLUP_DIMENSIONS } from '/work/main/src/reports/dimensions.ts';
const { sqlite } = openDb('/tmp/exp3.db', { migrate: false });
const end = Date.UTC(2026, 10, 21), start = end - 30 * 86400000;
const filter = { sql: "coalesce(v.country IN ('DE'), 0)", params: [] };
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const data = fetchEventRows(sqlite, { siteId: 1, start, end, tz: 'UTC', dims: ROLLUP_DIMENSIONS, filter });
  const f = performance.now() - t; t = performance.now();
  const data2 = fetchEventRows(sqlite, { siteId: 1, start, end, tz: 'UTC', dims: [ROLLUP_DIMENSIONS[0]], filter });
  const f2 = performance.now() - t; t = performance.now();
  const c = sqlite.prepare("SELECT count(*) FROM events e LEFT JOIN visits v ON v.id = e.visit_id WHERE e.site_id = 1 AND e.ts >= ? AND e.ts < ? AND v.country = 'DE'").get(start, end);
  const f3 = performance.now() - t; t = performance.now();
  for (const d of ROLLUP_DIMENSIONS.slice(0, 8)) aggregate(data, [{ hourly: false, cols: [data.dimCol.get(d.name)!] }]);
  const a = performance.now() - t;
  console.log(`fetch all dims ${f.toFixed(0)} ms (${data.rows.length} rows), fetch 1 dim ${f2.toFixed(0)}, count join ${f3.toFixed(0)}, 8 aggregations ${a.toFixed(0)}`);
}
