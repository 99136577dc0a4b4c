// A request the Stats API refuses with 400: the message names the offending field.
export class QueryError extends Error {}

/**
 * A value a client sent, as an error message may quote it: a string cut to 60 characters and
 * JSON-escaped, anything else by its kind. Never String(v): an object with a `toString` that is
 * not a function (or no prototype at all) throws there, and a 400 became a 500 (found by fuzzing).
 */
export function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 60));
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : `a ${typeof v}`;
}
