// `matches` filters and page goals decided in JS, for connections that cannot register SQL
// functions (a Durable Object's SQLite). On Node the report SQL calls regexp()/path_glob()
// (sql-functions.ts) inside the query; with a StringMatch in the report context the same
// linear-time matchers (src/matchers/) run here instead, over the site's strings, and the SQL
// receives the passing string ids as one JSON list (`IN (SELECT value FROM json_each(?))`, one
// bound parameter however many ids). The answers are the same: test/reports.test.ts runs the
// filter and goal cases both ways. Works on any SqlConnection, Node's included.
import { regexTest } from '../matchers/regex.ts';
import { globTest } from '../matchers/glob.ts';
import type { SqlConnection } from '../store/sql.ts';

export interface StringMatch {
  /** Ids of the site's strings that match any of the RE2 patterns. */
  regex(siteId: number, patterns: string[]): number[];
  /** Ids of the site's strings that match the page goal's glob list. */
  glob(siteId: number, patterns: string): number[];
  /** Distinct non-null values of a non-text event expression (over `e`) whose text matches any pattern. */
  values(siteId: number, expr: { sql: string; params?: unknown[] }, patterns: string[]): unknown[];
}

/** The SQL test "`col` is one of the listed values", with its one parameter. */
export function inList(col: string, values: unknown[]): { sql: string; param: string } {
  return { sql: `${col} IN (SELECT value FROM json_each(?))`, param: JSON.stringify(values) };
}

interface SiteStrings {
  ids: number[];
  values: string[];
  maxId: number;
}

/**
 * A StringMatch over a connection: each site's strings are read once and then only those added
 * since (ids are never reused), so a query tests every string of the site in JS without reading
 * the table again. Answers per pattern are kept until a new string appears.
 */
export function jsStringMatch(sqlite: SqlConnection): StringMatch {
  const sites = new Map<number, SiteStrings>();
  const since = sqlite.prepare('SELECT id, value FROM strings WHERE site_id = ? AND id > ? ORDER BY id').raw(true);
  const answers = new Map<string, number[]>();
  let answersAt = '';
  const strings = (siteId: number): SiteStrings => {
    let s = sites.get(siteId);
    if (!s) sites.set(siteId, (s = { ids: [], values: [], maxId: 0 }));
    for (const [id, value] of since.all(siteId, s.maxId) as Array<[number, string]>) {
      s.ids.push(id);
      s.values.push(value);
      s.maxId = id;
    }
    return s;
  };
  const ids = (siteId: number, key: string, test: (v: string) => boolean): number[] => {
    const s = strings(siteId);
    const at = `${siteId}:${s.maxId}`;
    if (answersAt !== at || answers.size > 500) answers.clear(), (answersAt = at);
    let hit = answers.get(key);
    if (!hit) {
      hit = [];
      for (let i = 0; i < s.ids.length; i++) if (test(s.values[i])) hit.push(s.ids[i]);
      answers.set(key, hit);
    }
    return hit;
  };
  return {
    regex: (siteId, patterns) => ids(siteId, JSON.stringify(['re', patterns]), (v) => patterns.some((p) => regexTest(p, v))),
    glob: (siteId, patterns) => ids(siteId, JSON.stringify(['glob', patterns]), (v) => globTest(patterns, v)),
    values(siteId, expr, patterns) {
      const rows = sqlite.prepare(`SELECT DISTINCT ${expr.sql} FROM events e WHERE e.site_id = ?`).raw(true).all(...(expr.params ?? []), siteId) as unknown[][];
      return rows.map((r) => r[0]).filter((v) => v !== null && v !== undefined && patterns.some((p) => regexTest(p, String(v))));
    },
  };
}
