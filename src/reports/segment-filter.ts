// Filters over day segments. Each clause is first resolved to the set of the site's string ids
// that pass it — by the same SQL test the raw path runs against the `strings` table (so `is`,
// case-insensitive ASCII `lower()`, `contains` and `matches` through the registered regexp
// function mean exactly what they mean in SQL) — and then, per segment, to a mask over that
// segment's few hundred dictionary codes. Visit clauses are decided once per visit, event
// clauses once per event by one array lookup; and/or/not combine the masks. The positions of
// the events that pass are cached in the segment, so the other panels of a dashboard scan only
// what matches. `event:status` and custom properties are not in segments: those filters return
// undefined and the caller reads raw events as before.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import type { Goal } from '../store/goals.ts';
import { GOAL } from './dimensions.ts';
import { labelPasses, NONE, textTest, type Filter } from './filters.ts';
import { EVENT_COLS, type Dict, type EventCol, type Segment } from './segments.ts';
import { prepared } from './raw-source.ts';
import { noteGrowth } from './segment-cache.ts';
import type { StringMatch } from './string-match.ts';

/** A resolved filter: a tree whose leaves test dictionary values. */
export type Pred =
  | { op: 'and' | 'or'; children: Pred[]; visit: boolean }
  | { op: 'not'; child: Pred; visit: boolean }
  | { op: 'col'; event: EventCol | null; attr: string | null; pass: (v: number | null) => boolean; visit: boolean }
  | { op: 'goal'; any: Array<{ names: Set<number>; pages: Set<number> | null }>; visit: false };

type Positive = 'is' | 'contains' | 'matches';

const idCache = new WeakMap<SqlConnection, { maxId: number; sets: Map<string, Set<number>> }>();

/** The site's string ids passing `test` (SQL over `value`), cached until a new string appears. */
function idsWhere(sqlite: SqlConnection, siteId: number, test: string, params: unknown[]): Set<number> {
  const maxId = (prepared(sqlite, 'SELECT max(id) FROM strings').get() as [number | null])[0] ?? 0;
  let c = idCache.get(sqlite);
  if (!c || c.maxId !== maxId) idCache.set(sqlite, (c = { maxId, sets: new Map() }));
  const key = JSON.stringify([siteId, test, params]);
  let set = c.sets.get(key);
  if (!set) {
    if (c.sets.size > 500) c.sets.clear();
    set = new Set((prepared(sqlite, `SELECT id FROM strings WHERE site_id = ? AND (${test})`).all(siteId, ...params) as number[][]).map((r) => r[0]));
    c.sets.set(key, set);
  }
  return set;
}

function goalLeaf(sqlite: SqlConnection, siteId: number, goals: Goal[], match?: StringMatch): Pred {
  return {
    op: 'goal', visit: false,
    any: goals.map((g) => (g.kind === 'event'
      ? { names: idsWhere(sqlite, siteId, 'value = ?', [g.value]), pages: null }
      : { names: idsWhere(sqlite, siteId, "value = 'pageview'", []), pages: match ? new Set(match.glob(siteId, g.value)) : idsWhere(sqlite, siteId, 'path_glob(?, value)', [g.value]) })),
  };
}

/**
 * Resolves a filter (and a goal every event must meet, for goal breakdowns) for a site;
 * null when there is nothing to filter, undefined when segments cannot answer it.
 */
export function resolveFilter(sqlite: SqlConnection, siteId: number, goals: Goal[], f: Filter | null, goal: Goal | null,
  match?: StringMatch): Pred | null | undefined {
  const tree = f ? resolve(sqlite, siteId, goals, f, match) : null;
  if (tree === undefined) return undefined;
  const g = goal ? goalLeaf(sqlite, siteId, [goal], match) : null;
  if (tree && g) return { op: 'and', children: [tree, g], visit: false };
  return tree ?? g;
}

function resolve(sqlite: SqlConnection, siteId: number, goals: Goal[], f: Filter, match?: StringMatch): Pred | undefined {
  if ('children' in f) {
    const children = f.children.map((c) => resolve(sqlite, siteId, goals, c, match));
    if (children.some((c) => c === undefined)) return undefined;
    return { op: f.op, children: children as Pred[], visit: children.every((c) => c!.visit) };
  }
  if ('child' in f) {
    const child = resolve(sqlite, siteId, goals, f.child, match);
    return child && { op: 'not', child, visit: child.visit };
  }
  const positive = f.op.replace('_not', '') as Positive;
  let leaf: Pred;
  if (f.dim.name === GOAL) {
    leaf = goalLeaf(sqlite, siteId, goals.filter((g) => f.clauses.some((c) => labelPasses(positive, f.ci, g.name, c))), match);
  } else {
    const event = (EVENT_COLS as Record<string, EventCol>)[f.dim.name] ?? null;
    if (!f.dim.text || (event === null && f.dim.kind !== 'visit')) return undefined;
    const values = f.clauses.filter((c) => c !== NONE);
    const none = values.length < f.clauses.length;
    const ids = !values.length ? new Set<number>() : positive === 'matches' && match ? new Set(match.regex(siteId, values)) : idsWhere(sqlite, siteId, values.map(() => textTest(positive, f.ci, 'value')).join(' OR '), values);
    const zero = f.dim.zero !== undefined && values.some((c) => labelPasses(positive, f.ci, f.dim.zero!, c));
    const pass = (v: number | null) => (v === null ? none : v === 0 && f.dim.zero !== undefined ? zero : ids.has(v));
    leaf = { op: 'col', event, attr: event ? null : f.dim.name, pass, visit: event === null };
  }
  return f.op.endsWith('_not') ? { op: 'not', child: leaf, visit: leaf.visit } : leaf;
}

function dictMask(d: Dict, pass: (v: number | null) => boolean): Uint8Array {
  const mask = new Uint8Array(d.values.length);
  for (let c = 0; c < mask.length; c++) mask[c] = pass(d.values[c]) ? 1 : 0;
  return mask;
}

/** Per visit: does it pass (a visit-only predicate)? */
function visitMask(p: Pred, s: Segment): Uint8Array {
  const out = new Uint8Array(s.m);
  if (p.op === 'col') {
    const d = s.attrs.get(p.attr!)!;
    const mask = dictMask(d, p.pass);
    for (let v = 0; v < s.m; v++) out[v] = mask[d.codes[v]];
  } else if (p.op === 'not') {
    const c = visitMask(p.child, s);
    for (let v = 0; v < s.m; v++) out[v] = c[v] ^ 1;
  } else if (p.op === 'and' || p.op === 'or') {
    out.fill(p.op === 'and' ? 1 : 0);
    for (const child of p.children) {
      const c = visitMask(child, s);
      if (p.op === 'and') for (let v = 0; v < s.m; v++) out[v] &= c[v];
      else for (let v = 0; v < s.m; v++) out[v] |= c[v];
    }
  }
  return out;
}

/** Per event: does it pass? */
function eventMask(p: Pred, s: Segment): Uint8Array {
  const out = new Uint8Array(s.n);
  if (p.visit) {
    const vm = visitMask(p, s);
    for (let i = 0; i < s.n; i++) out[i] = vm[s.visit[i]];
  } else if (p.op === 'col') {
    const d = s[p.event!];
    const mask = dictMask(d, p.pass);
    for (let i = 0; i < s.n; i++) out[i] = mask[d.codes[i]];
  } else if (p.op === 'goal') {
    for (const g of p.any) {
      const names = dictMask(s.name, (v) => v !== null && g.names.has(v));
      const pages = g.pages ? dictMask(s.page, (v) => v !== null && g.pages!.has(v)) : null;
      const nc = s.name.codes, pc = s.page.codes;
      for (let i = 0; i < s.n; i++) if (names[nc[i]] && (!pages || pages[pc[i]])) out[i] = 1;
    }
  } else if (p.op === 'not') {
    const c = eventMask(p.child, s);
    for (let i = 0; i < s.n; i++) out[i] = c[i] ^ 1;
  } else {
    out.fill(p.op === 'and' ? 1 : 0);
    for (const child of p.children) {
      const c = eventMask(child, s);
      if (p.op === 'and') for (let i = 0; i < s.n; i++) out[i] &= c[i];
      else for (let i = 0; i < s.n; i++) out[i] |= c[i];
    }
  }
  return out;
}

// A dashboard needs two (its filter, and every event for unfiltered reads); a few clicks back stay.
const MAX_MATCHES = 4;
const ALL = '\u0000all';

/** Every position of a segment (the unfiltered reads use the same loop as filtered ones). */
export function everyEvent(s: Segment): Int32Array {
  return remember(s, ALL, () => {
    const pos = new Int32Array(s.n);
    for (let i = 0; i < s.n; i++) pos[i] = i;
    return pos;
  });
}

/** The visits that pass a visit-only predicate, ascending. */
export function passingVisits(s: Segment, p: Pred): Int32Array {
  const vm = visitMask(p, s);
  let k = 0;
  for (let v = 0; v < s.m; v++) k += vm[v];
  const out = new Int32Array(k);
  for (let v = 0, j = 0; v < s.m; v++) if (vm[v]) out[j++] = v;
  return out;
}

/** Positions of the segment's events that pass (in segment order), cached under `key`. */
export function matching(s: Segment, p: Pred, key: string): Int32Array {
  return remember(s, key, () => {
    if (p.visit) {
      // A visit's events are adjacent: the passing visits' runs, without looking at other events.
      const visits = passingVisits(s, p);
      let k = 0;
      for (let j = 0; j < visits.length; j++) k += s.visitStart[visits[j] + 1] - s.visitStart[visits[j]];
      const pos = new Int32Array(k);
      for (let j = 0, w = 0; j < visits.length; j++) for (let i = s.visitStart[visits[j]]; i < s.visitStart[visits[j] + 1]; i++) pos[w++] = i;
      return pos;
    }
    const mask = eventMask(p, s);
    let k = 0;
    for (let i = 0; i < s.n; i++) k += mask[i];
    const pos = new Int32Array(k);
    for (let i = 0, j = 0; i < s.n; i++) if (mask[i]) pos[j++] = i;
    return pos;
  });
}

function remember(s: Segment, key: string, make: () => Int32Array): Int32Array {
  const hit = s.matches.get(key);
  if (hit) {
    s.matches.delete(key);
    s.matches.set(key, hit);
    return hit;
  }
  const pos = make();
  if (s.matches.size >= MAX_MATCHES) {
    const [oldKey, old] = s.matches.entries().next().value!;
    s.matches.delete(oldKey);
    s.size -= old.byteLength;
    noteGrowth(s, -old.byteLength);
  }
  s.matches.set(key, pos);
  s.size += pos.byteLength;
  noteGrowth(s, pos.byteLength);
  return pos;
}
