// SQL functions reports need that SQLite lacks: regexp(pattern, value) for `matches` filters
// and page goals. Compiled patterns are cached (a report evaluates one pattern per row).
import type Database from 'better-sqlite3';

const MAX_CACHED = 256;

export function registerReportFunctions(sqlite: Database.Database): void {
  const cache = new Map<string, RegExp>();
  sqlite.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (value === null || value === undefined) return 0;
    const p = String(pattern);
    let re = cache.get(p);
    if (!re) {
      if (cache.size >= MAX_CACHED) cache.clear();
      re = new RegExp(p, 'u');
      cache.set(p, re);
    }
    return re.test(String(value)) ? 1 : 0;
  });
}
