// The SQL connection the store and report code is written against: the part of better-sqlite3's
// synchronous Database that Hush uses. On Node it is better-sqlite3 itself (which satisfies this
// as it is); in a Durable Object it is DoSqlite (src/edge/do-sqlite.ts) over ctx.storage.sql.
// Code that needs more — user-defined SQL functions, backups, file paths — stays typed against
// better-sqlite3 and runs on Node only.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type VariableArgFunction = (...params: any[]) => unknown;
export type ArgumentTypes<F extends VariableArgFunction> = F extends (...args: infer A) => unknown ? A : never;

/** A prepared statement (better-sqlite3's Statement, as far as Hush uses it). */
export interface SqlStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as their first column's value. */
  pluck(on?: boolean): this;
  /** Rows as arrays of values. */
  raw(on?: boolean): this;
  /** Integers as exact BigInts. */
  safeIntegers(on?: boolean): this;
}

export interface SqlConnection {
  prepare(source: string): SqlStatement;
  exec(source: string): unknown;
  /** A function that runs `fn` in one transaction (nested: a savepoint). */
  transaction<F extends VariableArgFunction>(fn: F): (...params: ArgumentTypes<F>) => ReturnType<F>;
  pragma(source: string, options?: { simple?: boolean }): unknown;
}
