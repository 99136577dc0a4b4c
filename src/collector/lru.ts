// A bounded cache for everything derived from a user-agent or a referrer host (parsing a UA
// costs ~55 µs, a hit ~0.05 µs). Two generations instead of a strict LRU: a hit in the current
// generation costs one Map lookup — no reordering, which showed as 7 % of an import profile —
// and when the current one fills, it becomes the old one and the old one is dropped. Entries
// used in the last generation survive by being copied forward on their next hit.

/**
 * A copy of `s` that shares no memory with the string it was cut from. V8 keeps a substring of 13
 * or more characters as a view of its parent, so a cache key cut from a log line would keep the
 * whole line — client address included — for as long as the key is cached. Flattening a
 * concatenation makes a fresh string.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

export class Lru<K, V> {
  private cur = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(capacity: number) {
    this.half = Math.max(1, Math.floor(capacity / 2));
  }

  get(key: K): V | undefined {
    const v = this.cur.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: K, value: V): void {
    if (this.cur.size >= this.half) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(key, value);
  }

  /** Entries held (at most the capacity). */
  get size(): number {
    return this.cur.size + this.old.size;
  }
}
