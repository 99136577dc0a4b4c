// Funnels: how many visits reached each of 2–8 steps in order, for a period and the dashboard's
// filters, with k-anonymity per step. Behind POST /api/v2/funnel and the dashboard's funnel panel.
//
// A visit reaches step n when it has events matching steps 1..n in time order (each event
// advances at most one step; matching each step at its earliest chance is optimal). Like every
// other report, a visit counts per local day it touches, with that day's events (a visit across
// midnight is two day-visits), and "visitors" is the sum of daily unique visitors.
//
// One SQL pass per local day reads only the events that can match a step (event names and page
// ids picked beforehand, patterns matched by the linear-time glob matcher), in time order by the
// clustered key, with their visit's visitor id; a small state machine per visit in JS counts.
// Whole days that are rolled up and not written to since are kept in memory per step list, so the
// dashboard's funnel costs a read of today only (test/funnel measures it; see README, Funnels).
//
// k-anonymity: a step reached by fewer than k visitors (the site's min_visitors) is not shown
// (visits null, `below_k` true); nor is one that fewer than k of the last shown step's visitors
// failed to reach (the drop-off, a group of its own, would be smaller than k); with filters, nor
// is one where fewer than k of the unfiltered step's visitors are left out by the filters (as the
// engine does for rows), so no two counts can be subtracted to single out a smaller group.
import type { SqlConnection } from '../store/sql.ts';
import type { ReportContext } from './engine.ts';
import { resolveRange, rangeLabel, type Range } from './date-range.ts';
import { rollupReader } from './rollup-reader.ts';
import { checkFilterShape, compileFilter, parseFilters, type Compiled, type Filter } from './filters.ts';
import { QueryError, shown } from './query-error.ts';
import { dayStart } from './time-zone.ts';
import { prepared } from './raw-source.ts';
import { VISIT_JOINS } from './dimensions.ts';
import { idOf } from './string-ids.ts';
import { dirtyDays } from './rollups.ts';
import { rebuildsOf } from './segment-cache.ts';
import { compileGlobs } from '../matchers/glob.ts';
import { checkStep, checkStepCount, FunnelError, MAX_STEPS, stepLabel, type FunnelStep } from '../store/funnels.ts';

const KEYS = ['site_id', 'funnel', 'steps', 'date_range', 'filters'];

export interface FunnelQuery {
  name: string | null;
  steps: FunnelStep[];
  range: Range;
  filter: Filter | null;
  /** The request's filters, echoed back. */
  filters: unknown[];
}

export interface FunnelStepResult {
  step: number;
  label: string;
  kind: 'page' | 'event';
  value: string;
  /** Visits that reached this step in order; null when hidden by k-anonymity. */
  visits: number | null;
  /** Their visitors (sum of daily uniques); null when hidden. */
  visitors: number | null;
  /** True when the step is hidden: fewer than k visitors (or, with filters, fewer than k left out). */
  below_k: boolean;
  /** Visits of step 1 that got this far, in % (one decimal); null when either is hidden. */
  conversion_rate: number | null;
  /** Visits of the previous step that got this far, in %; null for step 1 or when hidden. */
  step_conversion_rate: number | null;
  /** Visits of the previous step that went no further (count and %); null for step 1 or when hidden. */
  dropoff: number | null;
  dropoff_rate: number | null;
}

export interface FunnelResponse {
  results: FunnelStepResult[];
  meta: Record<string, unknown>;
  query: Record<string, unknown>;
}

/** Bounds the body before it is posted to the reports thread (cheap on any JSON value). */
export function checkFunnelShape(body: Record<string, unknown>): void {
  for (const k of Object.keys(body)) {
    if (!KEYS.includes(k)) throw new QueryError(`unknown field ${JSON.stringify(k.slice(0, 60))} (fields: ${KEYS.join(', ')})`);
  }
  if (Array.isArray(body.steps) && body.steps.length > MAX_STEPS) throw new QueryError(`"steps": a funnel has 2 to ${MAX_STEPS} steps, got ${body.steps.length}`);
  if (Array.isArray(body.date_range) && body.date_range.length > 2) throw new QueryError('"date_range": at most 2 items');
  checkFilterShape(body.filters);
  // Steps are flat objects of strings: anything nested is refused before it is cloned.
  if (Array.isArray(body.steps)) {
    body.steps.forEach((s, i) => {
      if (typeof s === 'object' && s !== null && Object.values(s).some((v) => typeof v === 'object' && v !== null)) {
        throw new QueryError(`"steps[${i}]": a step is {"page": "/path/pattern"} or {"event": "Event name"}`);
      }
    });
  }
}

function parseSteps(raw: unknown): FunnelStep[] {
  if (!Array.isArray(raw)) throw new QueryError('"steps" must be a list of {"page": "/pattern"} or {"event": "name"}');
  try {
    checkStepCount(raw.length, '"steps"');
    return raw.map((s, i) => {
      const field = `"steps[${i}]"`;
      if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new FunnelError(`${field}: a step is {"page": "/path/pattern"} or {"event": "Event name"}`);
      const keys = Object.keys(s);
      if (keys.length !== 1 || (keys[0] !== 'page' && keys[0] !== 'event')) throw new FunnelError(`${field}: a step has exactly one key, "page" or "event", got ${shown(keys.join(', '))}`);
      const kind = keys[0] as 'page' | 'event';
      return checkStep(kind, (s as Record<string, unknown>)[kind], `"steps[${i}].${kind}"`);
    });
  } catch (e) {
    if (e instanceof FunnelError) throw new QueryError(e.message);
    throw e;
  }
}

/**
 * Validates a funnel request: `funnel` (a saved funnel's name, looked up with `saved`) or
 * `steps` (inline), `date_range` and `filters` as in the Stats API.
 */
export function parseFunnelQuery(body: Record<string, unknown>, tz: string, now: number, firstEvent: () => number | null,
  saved: (name: string) => FunnelStep[] | undefined): FunnelQuery {
  checkFunnelShape(body);
  let name: string | null = null;
  let steps: FunnelStep[];
  if (body.funnel !== undefined && body.steps !== undefined) throw new QueryError('give either "funnel" (a saved funnel\'s name) or "steps", not both');
  if (body.funnel !== undefined) {
    if (typeof body.funnel !== 'string' || !body.funnel) throw new QueryError('"funnel" must be the name of a funnel of the site');
    const found = saved(body.funnel);
    if (!found) throw new QueryError(`"funnel": the site has no funnel named ${JSON.stringify(body.funnel.slice(0, 120))}`);
    name = body.funnel;
    steps = found;
  } else if (body.steps !== undefined) {
    steps = parseSteps(body.steps);
  } else {
    throw new QueryError('"funnel" (a saved funnel\'s name) or "steps" is required');
  }
  if (body.date_range === undefined) throw new QueryError('"date_range" is required');
  const range = resolveRange(body.date_range, tz, now, firstEvent);
  return { name, steps, range, filter: parseFilters(body.filters), filters: Array.isArray(body.filters) ? body.filters : [] };
}

/** Which steps each event name id and each page id (of page views) can match, as bit masks. */
interface Matchers {
  names: Map<number, number>;
  pages: Map<number, number>;
  pageview: number;
  /** Step 1's ids: only visits with such an event can reach any step. */
  firstNames: number[];
  firstPages: number[];
}

function matchers(sqlite: SqlConnection, siteId: number, steps: FunnelStep[]): Matchers {
  const names = new Map<number, number>();
  const pages = new Map<number, number>();
  const pageSteps = steps.map((s, i) => [s, i] as const).filter(([s]) => s.kind === 'page');
  steps.forEach((s, i) => {
    if (s.kind !== 'event') return;
    const id = idOf(sqlite, siteId, s.value);
    if (id >= 0) names.set(id, (names.get(id) ?? 0) | (1 << i));
  });
  if (pageSteps.length) {
    const tests = pageSteps.map(([s, i]) => [compileGlobs(s.value), i] as const);
    // Paths are the site's values starting with "/" (referrers are stored with their host).
    for (const [id, value] of prepared(sqlite, "SELECT id, value FROM strings WHERE site_id = ? AND value >= '/' AND value < '0'").all(siteId) as Array<[number, string]>) {
      let m = 0;
      for (const [t, i] of tests) if (t?.test(value)) m |= 1 << i;
      if (m) pages.set(id, m);
    }
  }
  const first = (map: Map<number, number>) => [...map].filter(([, m]) => m & 1).map(([id]) => id);
  return { names, pages, pageview: idOf(sqlite, siteId, 'pageview'), firstNames: first(names), firstPages: first(pages) };
}

/** A day's (or a piece's) counts per step. */
interface Counts {
  visits: number[];
  visitors: number[];
}

const ids = (xs: Iterable<number>) => JSON.stringify([...xs]);

/**
 * One piece of the range (a local day, or part of one): the events that can match a step, of the
 * visits with a step-1 event (no other visit can reach any step), in time order by the clustered
 * key; then the visitor ids of the visits that reached step 1.
 */
function countPiece(sqlite: SqlConnection, siteId: number, start: number, end: number, m: Matchers, n: number, filter: Compiled | null): Counts {
  const visits = new Array(n).fill(0), visitors = new Array(n).fill(0);
  if (m.firstNames.length === 0 && m.firstPages.length === 0) return { visits, visitors };
  const sql = `SELECT e.visit_id, e.name_id, e.page_id FROM events e
    WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND e.visit_id != 0
      AND (e.name_id IN (SELECT value FROM json_each(?)) OR (e.name_id = ? AND e.page_id IN (SELECT value FROM json_each(?))))
      AND e.visit_id IN (SELECT f.visit_id FROM events f WHERE f.site_id = ? AND f.ts >= ? AND f.ts < ?
        AND (f.name_id IN (SELECT value FROM json_each(?)) OR (f.name_id = ? AND f.page_id IN (SELECT value FROM json_each(?)))))
      ${filter ? `AND e.visit_id IN (SELECT e.visit_id FROM events e LEFT JOIN visits v ON v.id = e.visit_id ${VISIT_JOINS}
        WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ? AND ${filter.sql})` : ''}
    ORDER BY e.ts, e.id`;
  const params: unknown[] = [siteId, start, end, ids(m.names.keys()), m.pageview, ids(m.pages.keys()),
    siteId, start, end, ids(m.firstNames), m.pageview, ids(m.firstPages)];
  if (filter) params.push(siteId, start, end, ...filter.params);
  const reached = new Map<number, number>();
  for (const [vid, name, page] of prepared(sqlite, sql).all(...params) as Array<[number, number, number]>) {
    const r = reached.get(vid) ?? 0;
    if (r === n) continue;
    const mask = (m.names.get(name) ?? 0) | (name === m.pageview ? m.pages.get(page) ?? 0 : 0);
    if (mask & (1 << r)) reached.set(vid, r + 1);
  }
  for (const r of reached.values()) for (let i = 0; i < r; i++) visits[i]++;
  if (reached.size) {
    const seen: Array<Set<number>> = Array.from({ length: n }, () => new Set());
    const visitor = new Map(prepared(sqlite, 'SELECT id, visitor_id FROM visits WHERE id IN (SELECT value FROM json_each(?))')
      .all(ids(reached.keys())) as Array<[number, number]>);
    for (const [vid, r] of reached) for (let i = 0; i < r; i++) seen[i].add(visitor.get(vid) ?? -vid);
    seen.forEach((x, i) => (visitors[i] = x.size));
  }
  return { visits, visitors };
}

// Counts of whole days that are rolled up and not written to since, per step list and filter.
// A day's entry is good while the day is not dirty and its rollup build time and this thread's
// rebuild count of it (the thread that builds rollups) are the same: a write or a rebuild makes
// it stale. Bounded by entries, a few numbers each (oldest first out).
const MAX_CACHED = 20_000;
const dayCache = new Map<string, { token: string; counts: Counts }>();

/** Drops cached funnel days (tests, benches). */
export function clearFunnelCache(): void {
  dayCache.clear();
}

/**
 * The counts of the range, per local day, from the cache where it is good. A generator: it
 * yields after each day it had to read, so the reports thread can answer other queries between
 * days (see runSliced); funnelFor runs it to the end at once.
 */
function* countRange(ctx: ReportContext, q: FunnelQuery, m: Matchers, filter: Compiled | null): Generator<void, Counts> {
  const n = q.steps.length;
  const total: Counts = { visits: new Array(n).fill(0), visitors: new Array(n).fill(0) };
  const add = (c: Counts) => c.visits.forEach((v, i) => { total.visits[i] += v; total.visitors[i] += c.visitors[i]; });
  const siteId = ctx.site.id;
  const r = q.range;
  const built = new Map<number, number>();
  for (const [day, at] of prepared(ctx.sqlite, 'SELECT day, built_at FROM rollup_days WHERE site_id = ? AND day BETWEEN ? AND ?').all(siteId, r.fromDay, r.toDay) as number[][]) built.set(day, at);
  const dirty = new Set(built.size ? dirtyDays(rollupReader(ctx.sqlite), siteId, r.tz, r.fromDay, r.toDay) : []);
  const what = JSON.stringify([q.steps, filter?.sql ?? null, filter?.params ?? null]);
  for (let d = r.fromDay; d <= r.toDay; d++) {
    const ds = dayStart(d, r.tz), de = dayStart(d + 1, r.tz);
    const start = Math.max(r.start, ds), end = Math.min(r.end, de);
    if (start >= end) continue;
    const at = built.get(d);
    if (start === ds && end === de && at !== undefined && !dirty.has(d)) {
      const key = `${siteId}\u0000${r.tz}\u0000${d}\u0000${what}`;
      const token = `${at}|${rebuildsOf(siteId, d, d)}`;
      const hit = dayCache.get(key);
      if (hit && hit.token === token) {
        add(hit.counts);
        continue;
      }
      const counts = countPiece(ctx.sqlite, siteId, start, end, m, n, filter);
      dayCache.delete(key);
      if (dayCache.size >= MAX_CACHED) dayCache.delete(dayCache.keys().next().value!);
      dayCache.set(key, { token, counts });
      add(counts);
    } else {
      add(countPiece(ctx.sqlite, siteId, start, end, m, n, filter));
    }
    yield;
  }
  return total;
}

const pct = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 10 : 0);

/** The funnel's answer; yields between the days it reads (see countRange). */
function* funnelAnswer(ctx: ReportContext, q: FunnelQuery): Generator<void, FunnelResponse> {
  const k = ctx.site.minVisitors;
  const m = matchers(ctx.sqlite, ctx.site.id, q.steps);
  const filter = q.filter ? compileFilter(q.filter, { siteId: ctx.site.id, goals: ctx.goals }) : null;
  const counts = yield* countRange(ctx, q, m, filter);
  const all = filter ? yield* countRange(ctx, q, m, null) : null;
  const small = (x: number) => x > 0 && x < k;
  // A step is hidden when it describes fewer than k visitors, when fewer than k of its visitors
  // are left out by the filters, or when fewer than k of the last shown step's visitors went no
  // further (its drop-off would be a group smaller than k, read off two shown counts).
  const hidden: boolean[] = [];
  let lastShown = -1;
  q.steps.forEach((_, i) => {
    const u = counts.visitors[i];
    const hide = small(u) || (all !== null && small(all.visitors[i] - u)) || (lastShown >= 0 && small(counts.visitors[lastShown] - u));
    hidden.push(hide);
    if (!hide) lastShown = i;
  });
  const results = q.steps.map((s, i): FunnelStepResult => {
    const shownHere = !hidden[i];
    const prevShown = i > 0 && !hidden[i - 1];
    const v = counts.visits[i], pv = i > 0 ? counts.visits[i - 1] : 0;
    return {
      step: i + 1,
      label: stepLabel(s),
      kind: s.kind,
      value: s.value,
      visits: shownHere ? v : null,
      visitors: shownHere ? counts.visitors[i] : null,
      below_k: !shownHere,
      conversion_rate: shownHere && !hidden[0] ? (i === 0 ? (v > 0 ? 100 : 0) : pct(v, counts.visits[0])) : null,
      step_conversion_rate: shownHere && prevShown ? pct(v, pv) : null,
      dropoff: shownHere && prevShown ? pv - v : null,
      dropoff_rate: shownHere && prevShown ? (pv > 0 ? Math.round((100 - pct(v, pv)) * 10) / 10 : 0) : null,
    };
  });
  return {
    results,
    meta: { time_zone: ctx.site.timezone, min_visitors: ctx.site.minVisitors, hidden_steps: hidden.filter(Boolean).length },
    query: {
      site_id: ctx.site.domain,
      ...(q.name !== null ? { funnel: q.name } : {}),
      steps: q.steps.map((s) => ({ [s.kind]: s.value })),
      date_range: rangeLabel(q.range),
      filters: q.filters,
    },
  };
}

/** The site's saved funnel of that name, from the database the context reads. */
export function savedSteps(sqlite: SqlConnection, siteId: number, name: string): FunnelStep[] | undefined {
  const row = sqlite.prepare('SELECT steps FROM funnels WHERE site_id = ? AND name = ?').get(siteId, name) as { steps: string } | undefined;
  return row ? (JSON.parse(row.steps) as FunnelStep[]) : undefined;
}

function queryOf(ctx: ReportContext, body: Record<string, unknown>): FunnelQuery {
  const firstEvent = () => (ctx.sqlite.prepare('SELECT min(ts) AS t FROM events WHERE site_id = ?').get(ctx.site.id) as { t: number | null }).t;
  return parseFunnelQuery(body, ctx.site.timezone, ctx.now, firstEvent, (name) => savedSteps(ctx.sqlite, ctx.site.id, name));
}

/** Validates and runs a funnel request for a site the caller may read. Throws QueryError for a bad request. */
export function funnelFor(ctx: ReportContext, body: Record<string, unknown>): FunnelResponse {
  const it = funnelAnswer(ctx, queryOf(ctx, body));
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** How long the reports thread reads a funnel's days before it answers other queries in between. */
export const SLICE_MS = 30;

/**
 * funnelFor on the reports thread: the days not cached yet (a month of a busy site is seconds of
 * reading) are read SLICE_MS at a time, so other queries and sites are answered in between.
 */
export async function funnelSliced(ctx: ReportContext, body: Record<string, unknown>, stop: () => boolean): Promise<FunnelResponse> {
  const it = funnelAnswer(ctx, queryOf(ctx, body));
  let t = performance.now();
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    if (stop()) throw new Error('the reports thread is closing');
    if (performance.now() - t > SLICE_MS) {
      await new Promise((res) => setImmediate(res));
      t = performance.now();
    }
  }
}
