// Stats API filters: `[op, dimension, clauses, modifiers?]` with is/is_not/contains/contains_not/
// matches/matches_not, nested with and/or/not. Parsed into a tree, then compiled to a SQL
// condition over the events row `e` where every clause is a bound parameter.
import { dimension, GOAL, isTimeDimension, type Dimension } from './dimensions.ts';
import { QueryError } from './query-error.ts';
import type { Goal } from '../store/goals.ts';
import { goalCondition } from './goal-sql.ts';

const SIMPLE = ['is', 'is_not', 'contains', 'contains_not', 'matches', 'matches_not'] as const;
type SimpleOp = (typeof SIMPLE)[number];

export type Filter =
  | { op: SimpleOp; dim: Dimension; clauses: string[]; ci: boolean }
  | { op: 'and' | 'or'; children: Filter[] }
  | { op: 'not'; child: Filter };

export const NONE = '(none)';
const MAX_DEPTH = 8;
const MAX_CLAUSES = 100;

function parseOne(raw: unknown, path: string, depth: number): Filter {
  if (depth > MAX_DEPTH) throw new QueryError(`"${path}": filters nest deeper than ${MAX_DEPTH} levels`);
  if (!Array.isArray(raw) || raw.length < 2) throw new QueryError(`"${path}": a filter is [operator, dimension, clauses] or [and|or, [filters]] or [not, filter]`);
  const op = raw[0];
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(raw[1]) || raw[1].length === 0) throw new QueryError(`"${path}": "${op}" takes a non-empty list of filters`);
    return { op, children: raw[1].map((f: unknown, i: number) => parseOne(f, `${path}[1][${i}]`, depth + 1)) };
  }
  if (op === 'not') return { op, child: parseOne(raw[1], `${path}[1]`, depth + 1) };
  if (!(SIMPLE as readonly unknown[]).includes(op)) {
    throw new QueryError(`"${path}": unsupported filter operator ${JSON.stringify(op)} (supported: ${[...SIMPLE, 'and', 'or', 'not'].join(', ')})`);
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
  if (simpleOp.startsWith('matches')) {
    for (const c of strs) {
      try { new RegExp(c, 'u'); } catch { throw new QueryError(`"${path}[2]": invalid regular expression ${JSON.stringify(c.slice(0, 100))}`); }
    }
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
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) throw new QueryError('"filters" must be a list');
  if (raw.length === 0) return null;
  return { op: 'and', children: raw.map((f, i) => parseOne(f, `filters[${i}]`, 1)) };
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

function compileSimple(f: Extract<Filter, { dim: Dimension }>, goals: Goal[]): Compiled {
  const positive = f.op.replace('_not', '') as 'is' | 'contains' | 'matches';
  let sql: string;
  const params: unknown[] = [];
  if (f.dim.name === GOAL) {
    const chosen = goals.filter((g) => f.clauses.some((c) => (positive === 'is'
      ? (f.ci ? g.name.toLowerCase() === c.toLowerCase() : g.name === c)
      : (f.ci ? g.name.toLowerCase().includes(c.toLowerCase()) : g.name.includes(c)))));
    const conds = chosen.map((g) => goalCondition(g));
    sql = conds.length ? `(${conds.map((c) => c.sql).join(' OR ')})` : '0';
    for (const c of conds) params.push(...c.params);
  } else {
    const expr = f.ci ? `lower(${f.dim.sql})` : f.dim.sql;
    const dimParams = f.dim.params ?? [];
    const ph = f.ci ? 'lower(?)' : '?';
    const parts: string[] = [];
    if (positive === 'is') {
      const values = f.clauses.filter((c) => c !== NONE);
      if (values.length) {
        parts.push(`${expr} IN (${values.map(() => ph).join(', ')})`);
        params.push(...dimParams, ...values);
      }
      if (values.length < f.clauses.length) {
        parts.push(`${f.dim.sql} IS NULL`);
        params.push(...dimParams);
      }
    } else {
      for (const c of f.clauses) {
        parts.push(positive === 'contains' ? `instr(${expr}, ${ph}) > 0` : `regexp(?, ${f.dim.sql})`);
        if (positive === 'contains') params.push(...dimParams, c);
        else params.push(c, ...dimParams);
      }
    }
    sql = `coalesce(${parts.join(' OR ')}, 0)`;
  }
  return { sql: f.op.endsWith('_not') ? `NOT ${sql}` : `(${sql})`, params };
}

/** The filter tree as one SQL condition over `e` with its bound parameters. */
export function compileFilter(f: Filter, goals: Goal[]): Compiled {
  if ('children' in f) {
    const parts = f.children.map((c) => compileFilter(c, goals));
    return { sql: `(${parts.map((p) => p.sql).join(f.op === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
  }
  if ('child' in f) {
    const c = compileFilter(f.child, goals);
    return { sql: `NOT coalesce(${c.sql}, 0)`, params: c.params };
  }
  return compileSimple(f, goals);
}
