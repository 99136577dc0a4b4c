// better-sqlite3's synchronous API — the part of it Hush's store uses (prepare → run/get/all,
// pluck, raw, safeIntegers, transaction) — over a Durable Object's SQLite (`ctx.storage.sql`),
// so the Node store code (HitWriter, Dictionary, the drizzle repositories) runs unchanged inside
// a Durable Object. Both are synchronous SQLite in the same process; the differences, handled here:
// - DO SQL binds no BigInt: a 64-bit visitor id is bound as its decimal text, which a column of
//   INTEGER affinity stores as the exact integer (and `col = ?` compares exactly).
// - DO SQL returns every integer as a JS number: a statement with safeIntegers() reads each
//   column's type and text beside it and gives integers back as exact BigInts, like better-sqlite3.
// - Blobs come back as ArrayBuffer: returned as Buffer.
// - No BEGIN/COMMIT: transactions are `storage.transactionSync` (nested ones are savepoints).
// - No user-defined SQL functions, and only the PRAGMAs Cloudflare allows (others throw).
import { Buffer } from 'node:buffer';
import type { DurableObjectStorage, SqlStorage, SqlStorageValue } from './cf-types.ts';
import type { ArgumentTypes, SqlConnection, SqlStatement, VariableArgFunction } from '../store/sql.ts';

type Param = SqlStorageValue | bigint | boolean | Uint8Array | undefined;
type Row = Record<string, unknown>;

function bindValue(v: Param): SqlStorageValue {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Uint8Array) return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer;
  return v;
}

function bindAll(params: unknown[]): SqlStorageValue[] {
  // better-sqlite3 also takes the parameters as one array.
  const flat = params.length === 1 && Array.isArray(params[0]) ? params[0] : params;
  return flat.map((p) => {
    if (p !== null && typeof p === 'object' && !(p instanceof Uint8Array) && !(p instanceof ArrayBuffer)) {
      throw new TypeError('named parameters are not supported on the edge: use ? placeholders');
    }
    return bindValue(p as Param);
  });
}

const fromSql = (v: unknown): unknown => (v instanceof ArrayBuffer ? Buffer.from(v) : v);

/** The result of run(), as better-sqlite3 gives it. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

export class DoStatement implements SqlStatement {
  private plucked = false;
  private rawRows = false;
  private safe = false;

  constructor(private readonly db: DoSqlite, readonly source: string) {}

  pluck(on = true): this {
    this.plucked = on;
    return this;
  }

  raw(on = true): this {
    this.rawRows = on;
    return this;
  }

  safeIntegers(on = true): this {
    this.safe = on;
    return this;
  }

  run(...params: unknown[]): RunResult {
    const cursor = this.db.sql.exec(this.source, ...bindAll(params));
    cursor.toArray();
    this.db.count(cursor);
    return this.db.ran();
  }

  get(...params: unknown[]): unknown {
    return this.rows(params, 1)[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.rows(params, Infinity);
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.all(...params)[Symbol.iterator]();
  }

  private rows(params: unknown[], limit: number): unknown[] {
    const bound = bindAll(params);
    if (this.safe) return this.shape(this.exactRows(bound, limit));
    const cursor = this.db.sql.exec(this.source, ...bound);
    const names = cursor.columnNames;
    const out: unknown[] = [];
    for (const r of cursor.raw()) {
      out.push(this.shapeOne(names, r.map(fromSql)));
      if (out.length >= limit) break;
    }
    this.db.count(cursor);
    return out;
  }

  private shapeOne(names: string[], values: unknown[]): unknown {
    if (this.plucked) return values[0];
    if (this.rawRows) return values;
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
    return row;
  }

  private shape(rows: Array<{ names: string[]; values: unknown[] }>): unknown[] {
    return rows.map((r) => this.shapeOne(r.names, r.values));
  }

  /** Integers as BigInt, exactly: the statement runs wrapped, with typeof() and text per column. */
  private exactRows(bound: SqlStorageValue[], limit: number): Array<{ names: string[]; values: unknown[] }> {
    const inner = this.source.trim().replace(/;$/, '');
    const names = this.db.sql.exec(`SELECT * FROM (${inner}) LIMIT 0`, ...bound).columnNames;
    const q = (n: string) => `"${n.replace(/"/g, '""')}"`;
    const cols = names.map((n) => `typeof(${q(n)}), CAST(${q(n)} AS TEXT), ${q(n)}`).join(', ');
    const out: Array<{ names: string[]; values: unknown[] }> = [];
    const cursor = this.db.sql.exec(`SELECT ${cols} FROM (${inner})`, ...bound);
    for (const r of cursor.raw()) {
      const values = names.map((_, i) => (r[i * 3] === 'integer' ? BigInt(r[i * 3 + 1] as string) : fromSql(r[i * 3 + 2])));
      out.push({ names, values });
      if (out.length >= limit) break;
    }
    this.db.count(cursor);
    return out;
  }
}

/** A better-sqlite3-shaped connection to a Durable Object's SQLite. */
export class DoSqlite implements SqlConnection {
  readonly sql: SqlStorage;
  readonly open = true;
  readonly inTransaction = false;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  prepare(source: string): DoStatement {
    return new DoStatement(this, source);
  }

  exec(source: string): this {
    const cursor = this.sql.exec(source);
    cursor.toArray();
    this.count(cursor);
    return this;
  }

  /**
   * Rows read and written by the statements run through this connection since it was made, as
   * the runtime counts them — what Cloudflare bills a SQLite-backed Durable Object's storage by
   * (the bench reads them per hit and per rollup round).
   */
  readonly usage = { rowsRead: 0, rowsWritten: 0 };

  count(cursor: { rowsRead: number; rowsWritten: number }): void {
    this.usage.rowsRead += cursor.rowsRead;
    this.usage.rowsWritten += cursor.rowsWritten;
  }

  /**
   * better-sqlite3's transaction(): a function that runs `fn` in one transaction, with its
   * .deferred/.immediate/.exclusive variants (drizzle's transactions call them by name). In a
   * Durable Object they are the same: the object is the only writer of its database.
   */
  transaction<F extends VariableArgFunction>(fn: F): ((...params: ArgumentTypes<F>) => ReturnType<F>) & Record<'deferred' | 'immediate' | 'exclusive', (...params: ArgumentTypes<F>) => ReturnType<F>> {
    const run = (...args: ArgumentTypes<F>) => this.storage.transactionSync(() => fn(...args) as ReturnType<F>);
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run });
  }

  /** Only the PRAGMAs Cloudflare allows; others throw SQLITE_AUTH. */
  pragma(source: string, opts: { simple?: boolean } = {}): unknown {
    const rows = this.sql.exec(`PRAGMA ${source}`).toArray();
    return opts.simple ? (rows[0] ? Object.values(rows[0])[0] : undefined) : rows;
  }

  function(): never {
    throw new Error('user-defined SQL functions are not available in a Durable Object');
  }

  private runs = 0;

  /**
   * The result of the run() that just happened. `changes` and `lastInsertRowid` cost a query,
   * so they are read only when asked for (the hit path never asks), and only before the next run.
   */
  ran(): RunResult {
    const seq = ++this.runs;
    let read: { c: number; r: number } | null = null;
    const get = () => {
      if (!read) {
        if (seq !== this.runs) throw new Error('read changes/lastInsertRowid of a run() before running another statement');
        read = this.sql.exec('SELECT changes() AS c, last_insert_rowid() AS r').one() as { c: number; r: number };
      }
      return read;
    };
    return { get changes() { return get().c; }, get lastInsertRowid() { return get().r; } };
  }

  close(): void {
    /* the Durable Object owns the connection */
  }
}
