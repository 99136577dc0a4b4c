// SQL functions reports need that SQLite lacks: regexp(pattern, value) for `matches` filters and
// path_glob(patterns, value) for page goals. Both run in linear time whatever the pattern
// (src/matchers/): a key holder's regex or an owner's glob must never stall the reports thread.
// Compiled patterns are cached there (a report evaluates one pattern per row). Not named `glob`:
// that would replace SQLite's own GLOB operator, which the privacy audit uses.
import type Database from 'better-sqlite3';
import { regexTest } from '../matchers/regex.ts';
import { globTest } from '../matchers/glob.ts';

export function registerReportFunctions(sqlite: Database.Database): void {
  sqlite.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (value === null || value === undefined) return 0;
    return regexTest(String(pattern), String(value)) ? 1 : 0;
  });
  sqlite.function('path_glob', { deterministic: true }, (patterns: unknown, value: unknown) => {
    if (value === null || value === undefined) return 0;
    return globTest(String(patterns), String(value)) ? 1 : 0;
  });
}
