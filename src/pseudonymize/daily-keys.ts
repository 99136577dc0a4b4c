// Daily keys for the visitor hash: 32 random bytes per UTC day, created on first use and kept
// only in the `daily_keys` table. The previous day's key stays for a visit that spans midnight;
// anything older is deleted (so within 48 h of its day's end, and usually within 24 h + the
// rotation interval), after which that day's visitor ids can no longer be linked to anyone.
// Keys are never logged or printed: this module exposes no way to format one.
import { randomBytes } from 'node:crypto';

export const DAY_MS = 86_400_000;

/** Persistence for keys; the store implements it on SQLite. */
/**
 * Keys that live in memory only and vanish with the process: for a dry run, which must not
 * create keys, and for synthetic demo traffic, whose visitor ids need no key kept at all.
 */
export function memoryKeyStore(): KeyStore {
  const keys = new Map<string, Buffer>();
  return {
    all: () => [...keys].map(([day, key]) => ({ day, key })),
    insertIfAbsent: (day, key) => { if (!keys.has(day)) keys.set(day, key); return keys.get(day)!; },
    deleteBefore: (day) => { let n = 0; for (const d of [...keys.keys()]) if (d < day) { keys.delete(d); n++; } return n; },
  };
}

export interface KeyStore {
  /** All keys, oldest first. */
  all(): Array<{ day: string; key: Buffer }>;
  /** Inserts unless the day already has a key (another process won the race); returns the stored key. */
  insertIfAbsent(day: string, key: Buffer, createdAt: number): Buffer;
  /** Deletes keys of days before `day` and scrubs their bytes from the file; returns how many. */
  deleteBefore(day: string): number;
}

/** `YYYY-MM-DD` of a UTC instant. */
export function utcDay(ms: number): string {
  return new Date(ms - (ms % DAY_MS)).toISOString().slice(0, 10);
}

export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  private curDay = '';
  private curStart = 0;
  private curKey: Buffer | null = null;

  constructor(private readonly store: KeyStore, private readonly random: (n: number) => Buffer = randomBytes) {
    for (const { day, key } of store.all()) this.keys.set(day, key);
  }

  /** The key for the UTC day of `now`, created (and persisted) on the day's first hit. */
  current(now: number): Buffer {
    if (this.curKey && now >= this.curStart && now < this.curStart + DAY_MS) return this.curKey;
    const day = utcDay(now);
    let key = this.keys.get(day);
    if (!key) {
      key = this.store.insertIfAbsent(day, this.random(32), now);
      this.keys.set(day, key);
    }
    this.curDay = day;
    this.curStart = now - (now % DAY_MS);
    this.curKey = key;
    return key;
  }

  /** The previous UTC day's key, if it still exists. */
  previous(now: number): Buffer | null {
    return this.keys.get(utcDay(now - DAY_MS)) ?? null;
  }

  /** Deletes every key older than yesterday; returns how many were deleted. */
  rotate(now: number): number {
    const keep = utcDay(now - DAY_MS);
    let dropped = 0;
    for (const day of [...this.keys.keys()]) if (day < keep) this.keys.delete(day);
    dropped = this.store.deleteBefore(keep);
    if (this.curDay && this.curDay < keep) {
      this.curKey = null;
      this.curDay = '';
    }
    return dropped;
  }

  /** Days whose keys are held (for health checks and the audit; never the keys). */
  days(): string[] {
    return [...this.keys.keys()].sort();
  }
}
