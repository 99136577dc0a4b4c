import { openDb } from '/work/main/src/store/db.ts';
const { sqlite } = openDb('/tmp/prof1m.db', { migrate: false });
const d1 = Math.floor(Date.UTC(2026, 9, 22) / 864e5), d2 = d1 + 30;
const t = (label: string, sql: string, ...a: unknown[]) => { for (let i = 0; i < 3; i++) { const s = performance.now(); const r = sqlite.prepare(sql).all(...a); if (i === 2) console.log(label, (performance.now() - s).toFixed(1), 'ms', r.length); } };
t('count rows', 'SELECT count(*) FROM daily_stats WHERE site_id = 1 AND dim = 1 AND day BETWEEN ? AND ?', d1, d2);
t('group sum all', 'SELECT value, sum(visitors), sum(visits), sum(pageviews), sum(events), sum(bounces), sum(duration_ms), sum(visit_pageviews), sum(bytes), sum(load_ms), sum(load_n), sum(engaged_ms), sum(engaged_visits) FROM daily_stats WHERE site_id = 1 AND dim = 1 AND day BETWEEN ? AND ? GROUP BY value', d1, d2);
t('group sum 2', 'SELECT value, sum(visitors), sum(pageviews) FROM daily_stats WHERE site_id = 1 AND dim = 1 AND day BETWEEN ? AND ? GROUP BY value', d1, d2);
t('no group', 'SELECT value, visitors, pageviews FROM daily_stats WHERE site_id = 1 AND dim = 1 AND day BETWEEN ? AND ?', d1, d2);
console.log(sqlite.prepare('EXPLAIN QUERY PLAN SELECT value, sum(visitors) FROM daily_stats WHERE site_id = 1 AND dim = 1 AND day BETWEEN ? AND ? GROUP BY value').all(d1, d2));
