// The Worker's side of the daily keys: each site's keys live in that site's Durable Object
// (site-object.ts); an isolate asks for them on a site's first hit of a UTC day and holds
// today's and yesterday's only, so a key deleted by the object's alarm is gone from every
// isolate by the next day too. Implements the pipeline's VisitorKeys; warm() is the
// Collector's asynchronous step before the synchronous pipeline.
import { Buffer } from 'node:buffer';
import { DAY_MS } from '../pseudonymize/daily-keys.ts';
import type { VisitorKeys } from '../collector/pipeline.ts';
import type { SiteKeys } from './site-object.ts';

interface Held {
  day: number;
  current: Buffer;
  previous: Buffer | null;
}

export class EdgeKeys implements VisitorKeys {
  private readonly held = new Map<number, Held>();
  private readonly pending = new Map<number, Promise<void>>();

  constructor(private readonly fetchKeys: (siteId: number, now: number) => Promise<SiteKeys>) {}

  /** Fetches the keys of the sites not yet held for `now`'s day; undefined when all are. */
  warm(siteIds: number[], now: number): Promise<void> | undefined {
    const day = Math.floor(now / DAY_MS);
    let waits: Array<Promise<void>> | undefined;
    for (const id of siteIds) {
      if (this.held.get(id)?.day === day) continue;
      let p = this.pending.get(id);
      if (!p) {
        p = this.fetchKeys(id, now).then((k) => {
          this.held.set(id, { day: k.day, current: Buffer.from(k.current), previous: k.previous && Buffer.from(k.previous) });
        }).finally(() => this.pending.delete(id));
        this.pending.set(id, p);
      }
      (waits ??= []).push(p);
    }
    if (!waits) return undefined;
    this.forgetBefore(day);
    return Promise.all(waits).then(() => undefined);
  }

  current(now: number, siteId: number): Buffer {
    const k = this.held.get(siteId);
    if (!k || k.day !== Math.floor(now / DAY_MS)) throw new Error(`no key held for site ${siteId}: warm() was not awaited`);
    return k.current;
  }

  previous(now: number, siteId: number): Buffer | null {
    const k = this.held.get(siteId);
    return k && k.day === Math.floor(now / DAY_MS) ? k.previous : null;
  }

  /** Drops keys of earlier days (sites with no hit today), so no isolate keeps an old key. */
  private forgetBefore(day: number): void {
    for (const [id, k] of this.held) if (k.day < day) this.held.delete(id);
  }

  /** Site ids with keys held (for tests and health; never the keys). */
  get size(): number {
    return this.held.size;
  }
}
