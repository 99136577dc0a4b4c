// `matches` filters and page goals decided in JS (src/reports/string-match.ts: the seam a Durable
// Object needs, having no regexp()/path_glob() SQL functions) answer exactly as the SQL functions
// do, on Node, through every read path (rollups, day segments, the row cache, raw SQL).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, type Harness } from './helpers/harness.ts';
import { play, randomPlan, rng } from './helpers/traffic.ts';
import { runQuery, type ReportContext } from '../src/reports/engine.ts';
import { jsStringMatch } from '../src/reports/string-match.ts';
import { dayDate, dayNumber } from '../src/reports/time-zone.ts';

const TZ = 'Europe/Helsinki';
const FIRST = Date.UTC(2026, 2, 22);
const DAYS = 6;
const D0 = dayNumber(2026, 3, 22);

let h: Harness;
const t = suite('string-match: matches and page goals in JS, as by the SQL functions');

t.before(async () => {
  h = await harness({ HUSH_BATCH_MS: '0' }, FIRST);
  const site = h.core.sites.add({ domain: 'example.com', timezone: TZ, minVisitors: 1 });
  h.core.directory.refresh();
  h.core.goals.add(site.id, { event: 'Signup' });
  h.core.goals.add(site.id, { page: '/docs/**' });
  h.core.goals.add(site.id, { page: '/blog/*' });
  await play(h, 'example.com', TZ, randomPlan(11, 160, FIRST, DAYS));
  h.clock.now = FIRST + (DAYS + 1) * 86_400_000;
  h.core.refreshRollups();
});
t.after(() => h.close());

const FILTERS: unknown[][] = [
  [['matches', 'event:page', ['^/docs']]],
  [['matches_not', 'event:page', ['^/blog/[ab]$', 'pricing']]],
  [['matches', 'visit:source', ['^Direct', 'oogle']]],
  [['matches', 'visit:browser', ['(?i)fire']]],
  [['matches', 'event:status', ['^40']]],
  [['matches_not', 'event:status', ['^2']]],
  [['matches', 'event:props:plan', ['^pr']]],
  [['matches', 'event:page', ['^/$', '(none)']]],
  [['or', [['matches', 'visit:country', ['^[A-F]']], ['is', 'event:goal', ['Visit /docs/**']]]]],
  [['is', 'event:goal', ['Visit /blog/*']]],
  [['not', ['matches', 'visit:referrer', ['t\\.co']]]],
  [['matches', 'event:page', ['nothing-matches-this']]],
];
const DIMS = [[], ['event:page'], ['event:goal'], ['visit:source'], ['time:day'], ['event:status']];

t('every filter × dimension × read path: the same answer with the JS seam', () => {
  const site = h.core.sites.byDomain('example.com')!;
  const sqlite = h.core.store.sqlite;
  const ctx: ReportContext = { sqlite, site, goals: h.core.goals.list(site.id), now: h.clock.now };
  const match = jsStringMatch(sqlite);
  const r = rng(5);
  let nonEmpty = 0;
  for (const filters of FILTERS) {
    for (const dimensions of DIMS) {
      const from = D0 + Math.floor(r() * 3);
      const body = { site_id: 'example.com', metrics: ['visitors', 'events', 'pageviews'], date_range: [dayDate(from), dayDate(from + 3)], dimensions, filters };
      for (const path of [{}, { forceRaw: true }, { noSegments: true }]) {
        const viaSql = runQuery({ ...ctx, ...path }, body);
        const viaJs = runQuery({ ...ctx, ...path, match }, body);
        assert.equal(viaJs.results, viaSql.results, JSON.stringify({ body, path }));
        assert.equal(viaJs.meta, viaSql.meta);
        if (viaSql.results.some((x) => (x.metrics[0] ?? 0) > 0)) nonEmpty++;
      }
    }
  }
  assert.ok(nonEmpty > 150, `${nonEmpty} answers had visitors`);
  // A goal breakdown without filters: page goals through the seam too.
  const goals = { site_id: 'example.com', metrics: ['visitors', 'conversion_rate'], date_range: 'all', dimensions: ['event:goal'] };
  assert.equal(runQuery({ ...ctx, match }, goals).results, runQuery(ctx, goals).results);
});

t.run();
