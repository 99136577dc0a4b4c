// Stats API filters: `[op, dimension, clauses, modifiers?]` with is/is_not/contains/contains_not/
// matches/matches_not, nested with and/or/not. Parsed into a tree, then compiled to a SQL
// condition over the events row `e` where every clause is a bound parameter. `matches` is RE2
// (src/matchers/regex.ts: linear time, like Plausible's ClickHouse `match`), never JS RegExp.
import { dimension, GOAL, isTimeDimension, type Dimension } from './dimensions.ts';
import { QueryError, shown } from './query-error.ts';
import type { Goal } from '../store/goals.ts';
import { goalCondition } from './goal-sql.ts';
import { inList, type StringMatch } from './string-match.ts';
import { compileRegex, regexCost, regexTest, RegexError, MAX_PATTERN_LENGTH } from '../matchers/regex.ts';

const SIMPLE = ['is', 'is_not', 'contains', 'contains_not', 'matches', 'matches_not'] as const;
type SimpleOp = (typeof SIMPLE)[number];

export type Filter =
  | { op: SimpleOp; dim: Dimension; clauses: string[]; ci: boolean }
  | { op: 'and' | 'or'; children: Filter[] }
  | { op: 'not'; child: Filter };

export const NONE = '(none)';
// Caps on the tree, checked before anything else (checkFilterShape) and on the main thread before
// the body is posted to the reports thread. Unbounded, `filters` nested 50,000 deep failed the
// structured clone (500), and an `or` of 1,500 children passed SQLite's expression depth limit
// (1,000: "Expression tree is too large", 500). Measured, an OR chain costs SQLite ~1 level a
// filter and ~2 a clause (one filter of 500 clauses already fails): at these caps the deepest
// path is ~300 levels (100 filters + 100 clauses + ~3 a nesting level) and there are at most
// ~1,200 parameters (SQLite allows 32,766). test/query-limits runs a query at every cap.
export const MAX_DEPTH = 8;
/** Filters in one list: the top-level `filters`, or the children of an and/or. */
export const MAX_CHILDREN = 50;
/** Filters in the whole tree, and/or/not included. */
export const MAX_FILTERS = 100;
const MAX_CLAUSES = 100;
/** Clauses in the whole tree: each is a bound parameter and a test per string of the site. */
export const MAX_TOTAL_CLAUSES = 1000;
/**
 * `matches` patterns in the whole tree: each is compiled (~0.1–15 ms, see regex.ts) and tested on
 * every string of the site; and they must all fit the compiled-pattern cache (256) at once, or
 * a query would recompile on every row.
 */
export const MAX_PATTERNS = 100;
/**
 * The instructions all `matches` patterns of a query may expand to (regexCost; one may reach
 * 2,000). Ten patterns at that cap (20,000) took 138 ms to compile; 10,000 keeps it ~70 ms.
 */
export const MAX_PATTERNS_COST = 10_000;

const isMatches = (op: unknown) => op === 'matches' || op === 'matches_not';

/**
 * The tree's size and depth within the caps, or a QueryError naming where it is not. Looks at
 * structure only (no dimension or pattern is checked), at most MAX_FILTERS nodes and MAX_DEPTH
 * levels deep, so it is cheap and safe on any JSON value: the main thread runs it on the raw body.
 */
export function checkFilterShape(raw: unknown): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) throw new QueryError('"filters" must be a list');
  if (raw.length > MAX_CHILDREN) throw new QueryError(`"filters": at most ${MAX_CHILDREN} filters in a list, got ${raw.length}`);
  let nodes = 0, clauses = 0, patterns = 0;
  const walk = (f: unknown, path: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new QueryError(`"${path}": filters nest deeper than ${MAX_DEPTH} levels`);
    if (++nodes > MAX_FILTERS) throw new QueryError(`"filters": at most ${MAX_FILTERS} filters in all (and/or/not included)`);
    if (!Array.isArray(f)) return; // parseOne says what is wrong with it
    const op = f[0];
    if ((op === 'and' || op === 'or') && Array.isArray(f[1])) {
      if (f[1].length > MAX_CHILDREN) throw new QueryError(`"${path}[1]": "${op}" takes at most ${MAX_CHILDREN} filters, got ${f[1].length}`);
      f[1].forEach((c: unknown, i: number) => walk(c, `${path}[1][${i}]`, depth + 1));
    } else if (op === 'not') {
      walk(f[1], `${path}[1]`, depth + 1);
    } else if (Array.isArray(f[2])) {
      clauses += f[2].length;
      if (isMatches(op)) patterns += f[2].length;
      if (clauses > MAX_TOTAL_CLAUSES) throw new QueryError(`"filters": at most ${MAX_TOTAL_CLAUSES} clauses in all`);
      if (patterns > MAX_PATTERNS) throw new QueryError(`"filters": at most ${MAX_PATTERNS} regular expressions in all`);
    }
  };
  raw.forEach((f, i) => walk(f, `filters[${i}]`, 1));
}

/** What a refused value was, for a message: a short string as JSON, anything else by its type. */

function parseOne(raw: unknown, path: string, depth: number, budget: { cost: number }): Filter {
  if (depth > MAX_DEPTH) throw new QueryError(`"${path}": filters nest deeper than ${MAX_DEPTH} levels`);
  if (!Array.isArray(raw) || raw.length < 2) throw new QueryError(`"${path}": a filter is [operator, dimension, clauses] or [and|or, [filters]] or [not, filter]`);
  const op = raw[0];
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(raw[1]) || raw[1].length === 0) throw new QueryError(`"${path}": "${op}" takes a non-empty list of filters`);
    if (raw[1].length > MAX_CHILDREN) throw new QueryError(`"${path}[1]": "${op}" takes at most ${MAX_CHILDREN} filters, got ${raw[1].length}`);
    return { op, children: raw[1].map((f: unknown, i: number) => parseOne(f, `${path}[1][${i}]`, depth + 1, budget)) };
  }
  if (op === 'not') return { op, child: parseOne(raw[1], `${path}[1]`, depth + 1, budget) };
  if (!(SIMPLE as readonly unknown[]).includes(op)) {
    throw new QueryError(`"${path}": unsupported filter operator ${shown(op)} (supported: ${[...SIMPLE, 'and', 'or', 'not'].join(', ')})`);
  }
  const simpleOp = op as SimpleOp;
  if (typeof raw[1] === 'string' && isTimeDimension(raw[1])) throw new QueryError(`"${path}": time dimensions cannot be filtered; set "date_range" instead`);
  const dim = dimension(raw[1], `${path}[1]`);
  if (dim.name === GOAL && (simpleOp === 'matches' || simpleOp === 'matches_not')) {
    throw new QueryError(`"${path}": "${GOAL}" supports only is, is_not, contains and contains_not`);
  }
  const clauses = raw[2];
  if (!Array.isArray(clauses) || clauses.length === 0 || clauses.length > MAX_CLAUSES
    || !clauses.every((c) => typeof c === 'string' || (typeof c === 'number' && Number.isFinite(c)))) {
    throw new QueryError(`"${path}[2]": clauses must be a list of 1 to ${MAX_CLAUSES} strings`);
  }
  const strs = clauses.map(String);
  if (strs.some((c) => c.length > 2000)) throw new QueryError(`"${path}[2]": a clause is longer than 2000 characters`);
  if (isMatches(simpleOp)) {
    strs.forEach((c, i) => {
      if (c.length > MAX_PATTERN_LENGTH) throw new QueryError(`"${path}[2][${i}]": a regular expression is longer than ${MAX_PATTERN_LENGTH} characters`);
      budget.cost += regexCost(c);
      if (budget.cost > MAX_PATTERNS_COST) {
        throw new QueryError(`"${path}[2][${i}]": the regular expressions' counted repetitions ({n,m}) expand to more than ${MAX_PATTERNS_COST} instructions in all`);
      }
      try {
        compileRegex(c);
      } catch (e) {
        if (e instanceof RegexError) throw new QueryError(`"${path}[2]": invalid regular expression (RE2 syntax): ${e.message}`);
        throw e;
      }
    });
  }
  let ci = false;
  if (raw.length > 3) {
    const mod = raw[3] as { case_sensitive?: unknown } | null;
    if (typeof mod !== 'object' || mod === null || Array.isArray(mod) || Object.keys(mod).some((k) => k !== 'case_sensitive')
      || typeof mod.case_sensitive !== 'boolean') {
      throw new QueryError(`"${path}[3]": modifiers must be {"case_sensitive": true|false}`);
    }
    if (simpleOp.startsWith('matches')) throw new QueryError(`"${path}[3]": modifiers apply to is and contains only`);
    ci = !mod.case_sensitive;
  }
  if (raw.length > 4) throw new QueryError(`"${path}": a filter has at most four elements`);
  return { op: simpleOp, dim, clauses: strs, ci };
}

/** The request's `filters` (an implicit "and" of its items), or null when there are none. */
export function parseFilters(raw: unknown): Filter | null {
  checkFilterShape(raw);
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) throw new QueryError('"filters" must be a list');
  if (raw.length === 0) return null;
  const budget = { cost: 0 };
  return { op: 'and', children: raw.map((f, i) => parseOne(f, `filters[${i}]`, 1, budget)) };
}

/** True when the filter tree refers to `event:goal` anywhere. */
export function hasGoalFilter(f: Filter | null): boolean {
  if (!f) return false;
  if ('children' in f) return f.children.some(hasGoalFilter);
  if ('child' in f) return hasGoalFilter(f.child);
  return f.dim.name === GOAL;
}

/** The filters without their top-level goal conditions: the population a conversion rate divides by. */
export function withoutGoalFilters(f: Filter | null): Filter | null {
  if (!f || f.op !== 'and') return hasGoalFilter(f) ? null : f;
  const kept = f.children.filter((c) => !hasGoalFilter(c));
  return kept.length ? { op: 'and', children: kept } : null;
}

export interface Compiled {
  sql: string;
  params: unknown[];
}

/** Where filters compile: the site (string ids are per site) and its goals. */
export interface FilterScope {
  siteId: number;
  goals: Goal[];
  /** Decide `matches` and page goals in JS and bind the passing ids (string-match.ts); absent: SQL functions. */
  match?: StringMatch;
}

/** The SQL test of one clause against a text value column `col` (of strings, or a text expression). */
export function textTest(positive: 'is' | 'contains' | 'matches', ci: boolean, col: string): string {
  if (positive === 'is') return ci ? `lower(${col}) = lower(?)` : `${col} = ?`;
  if (positive === 'contains') return ci ? `instr(lower(${col}), lower(?)) > 0` : `instr(${col}, ?) > 0`;
  return `regexp(?, ${col})`;
}

/** Does a made-up label (like "Direct / None") pass the clause? Decided here, not in SQL. */
export function labelPasses(positive: 'is' | 'contains' | 'matches', ci: boolean, label: string, clause: string): boolean {
  const a = ci ? label.toLowerCase() : label, b = ci ? clause.toLowerCase() : clause;
  if (positive === 'is') return a === b;
  if (positive === 'contains') return a.includes(b);
  return regexTest(clause, label);
}

function compileSimple(f: Extract<Filter, { dim: Dimension }>, scope: FilterScope): Compiled {
  const positive = f.op.replace('_not', '') as 'is' | 'contains' | 'matches';
  let sql: string;
  const params: unknown[] = [];
  if (f.dim.name === GOAL) {
    const chosen = scope.goals.filter((g) => f.clauses.some((c) => labelPasses(positive, f.ci, g.name, c)));
    const conds = chosen.map((g) => goalCondition(g, scope.siteId, scope.match));
    sql = conds.length ? `(${conds.map((c) => c.sql).join(' OR ')})` : '0';
    for (const c of conds) params.push(...c.params);
  } else {
    const dimParams = f.dim.params ?? [];
    const parts: string[] = [];
    const values = f.clauses.filter((c) => c !== NONE);
    if (values.length < f.clauses.length) {
      parts.push(`${f.dim.sql} IS NULL`);
      params.push(...dimParams);
    }
    if (values.length && positive === 'matches' && scope.match) {
      // The passing values, found in JS (a Durable Object has no regexp()): string ids, or the
      // distinct values of a non-text dimension.
      const list = f.dim.text ? scope.match.regex(scope.siteId, values) : scope.match.values(scope.siteId, f.dim, values);
      const t = inList(f.dim.sql, list);
      parts.push(t.sql);
      params.push(...dimParams, t.param);
      if (f.dim.zero && values.some((c) => labelPasses(positive, f.ci, f.dim.zero!, c))) parts.push(`${f.dim.sql} = 0`), params.push(...dimParams);
    } else if (values.length && f.dim.text) {
      // Text dimensions hold string ids: the clauses pick the site's matching ids first.
      parts.push(`${f.dim.sql} IN (SELECT id FROM strings WHERE site_id = ? AND (${values.map(() => textTest(positive, f.ci, 'value')).join(' OR ')}))`);
      params.push(...dimParams, scope.siteId, ...values);
      if (f.dim.zero && values.some((c) => labelPasses(positive, f.ci, f.dim.zero!, c))) parts.push(`${f.dim.sql} = 0`), params.push(...dimParams);
    } else if (values.length) {
      for (const c of values) {
        parts.push(textTest(positive, f.ci, f.dim.sql));
        params.push(...(positive === 'matches' ? [c, ...dimParams] : [...dimParams, c]));
      }
    }
    sql = `coalesce(${parts.join(' OR ')}, 0)`;
  }
  return { sql: f.op.endsWith('_not') ? `NOT ${sql}` : `(${sql})`, params };
}

/** The filter tree as one SQL condition over `e` and `v` with its bound parameters. */
export function compileFilter(f: Filter, scope: FilterScope): Compiled {
  if ('children' in f) {
    const parts = f.children.map((c) => compileFilter(c, scope));
    return { sql: `(${parts.map((p) => p.sql).join(f.op === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
  }
  if ('child' in f) {
    const c = compileFilter(f.child, scope);
    return { sql: `NOT coalesce(${c.sql}, 0)`, params: c.params };
  }
  return compileSimple(f, scope);
}
