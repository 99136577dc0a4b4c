// Whether the store can take hits right now. A failed commit (SQLITE_FULL, an I/O error) rolls
// its whole batch back and every hit in it gets a 503 with Retry-After; for the next
// PROBE_INTERVAL_MS new hits are refused at once (without touching the disk), then one batch is
// tried again — or, with no hit to try, the writer thread probes by itself — and the first commit
// that succeeds clears the failure: ingestion resumes by itself when space returns. /healthz and
// /metrics read the state from here.

/** How long after a failed commit hits are refused before the next try (1 s: at most one try a second). */
export const PROBE_INTERVAL_MS = 1000;
/** What the 503 asks clients to wait, in seconds. */
export const RETRY_AFTER_S = 5;

export interface StoreFailure {
  /** The SQLite error code (SQLITE_FULL, SQLITE_IOERR_WRITE, …): never row values. */
  code: string;
  /** When the failures began (ms). */
  since: number;
  /** The last failed try (ms). */
  last: number;
}

export class StoreHealth {
  private failure: StoreFailure | null = null;
  /** Commits that failed since the start (for /metrics). */
  failedCommits = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  failed(code: string): void {
    const now = this.clock();
    this.failedCommits++;
    this.failure = { code, since: this.failure?.since ?? now, last: now };
  }

  ok(): void {
    if (this.failure) this.failure = null;
  }

  /** True while new hits should be refused without trying: within PROBE_INTERVAL_MS of a failure. */
  refusing(): boolean {
    return this.failure !== null && this.clock() - this.failure.last < PROBE_INTERVAL_MS;
  }

  get healthy(): boolean {
    return this.failure === null;
  }

  /** For /healthz: the failure in words an operator can act on. */
  report(): { store: 'ok' } | { store: 'failing'; error: string; code: string; since: string } {
    const f = this.failure;
    if (!f) return { store: 'ok' };
    const error = f.code === 'SQLITE_FULL' ? 'database or disk is full' : f.code.startsWith('SQLITE_IOERR') ? 'disk I/O error' : 'write failed';
    return { store: 'failing', error, code: f.code, since: new Date(f.since).toISOString() };
  }
}

/** The error code of a failed write, as SQLite names it. */
export function errorCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'UNKNOWN';
}

/** An error that is the store's, not the request's: refuse with 503 rather than answer 500. */
export function isStoreError(e: unknown): boolean {
  const c = errorCode(e);
  return c === 'SQLITE_FULL' || c.startsWith('SQLITE_IOERR') || c === 'SQLITE_BUSY' || c === 'SQLITE_READONLY' || c === 'SQLITE_CANTOPEN';
}

/** Thrown to the collector when a hit was refused without a try (see StoreHealth.refusing). */
export class StoreUnavailable extends Error {}
