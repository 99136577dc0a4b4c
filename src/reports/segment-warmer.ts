// Reading day segments without holding the reports thread: a cold month of a big site is tens
// of days at ~0.2 s each (10M-event bench), so days are read 30 ms at a time, one turn of the
// event loop each, and other sites' queries run in between. `warmFor` builds what a filtered query is about to
// read before it runs; `prefetch` builds, in the background, the days an unfiltered dashboard
// was just shown for, so the first click on a row finds them ready.
import type Database from 'better-sqlite3';
import type { Query } from './query.ts';
import type { Range } from './date-range.ts';
import { segmentsEnabled, segmentsFor } from './segment-cache.ts';
import { localDayNumber } from './time-zone.ts';

interface SiteZone { id: number; timezone: string }

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Day ranges a query reads (its range and the comparison's). */
function rangesOf(q: Query): Range[] {
  return q.comparison ? [q.range, q.comparison.range] : [q.range];
}

/** True when a query reads raw events for most of its days (filters, partial days). */
export function readsSegments(q: Query): boolean {
  return q.filter !== null || !q.range.whole || q.dims.some((d) => 'dim' in d && d.dim.name === 'event:goal');
}

// A turn reads days for up to 30 ms (a day of the 10M bench's big site takes ~0.2 s alone).
const SLICE_MS = 30;

/** Reads in progress, by site and days: the eight queries of a dashboard wait on one read, not eight. */
const inflight = new Map<string, Promise<void>>();

function buildRange(sqlite: Database.Database, site: SiteZone, from: number, to: number, stop: () => boolean): Promise<void> {
  if (!segmentsEnabled()) return Promise.resolve();
  const key = `${site.id}|${site.timezone}|${from}|${to}`;
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      while (!stop() && !segmentsFor(sqlite, site.id, site.timezone, from, to, performance.now(), performance.now() + SLICE_MS)) await tick();
    })().catch(() => undefined).finally(() => inflight.delete(key)); // a day too wide for segments is read raw by the query
    inflight.set(key, p);
  }
  return p;
}

async function build(sqlite: Database.Database, site: SiteZone, ranges: Range[], stop: () => boolean, before = Infinity): Promise<void> {
  for (const r of ranges) {
    const to = Math.min(r.toDay, before - 1);
    if (to >= r.fromDay) await buildRange(sqlite, site, r.fromDay, to, stop);
  }
}

/** Builds (or checks) the segments a query will read, a day per turn. */
export function warmFor(sqlite: Database.Database, site: SiteZone, q: Query, stop: () => boolean): Promise<void> {
  return build(sqlite, site, rangesOf(q), stop);
}

const queued = new Map<string, { sqlite: Database.Database; site: SiteZone; ranges: Range[] }>();
let running = false;

/** Builds a query's days in the background (one pending request per site and range). */
export function prefetch(sqlite: Database.Database, site: SiteZone, q: Query, stop: () => boolean): void {
  // Ranges beyond three months would mostly evict other sites' days.
  const ranges = rangesOf(q).filter((r) => r.toDay - r.fromDay < 92);
  if (!ranges.length) return;
  queued.set(`${site.id}|${ranges.map((r) => `${r.fromDay}-${r.toDay}`).join(',')}`, { sqlite, site, ranges });
  if (running) return;
  running = true;
  void (async () => {
    try {
      for (let next = queued.entries().next(); !next.done && !stop(); next = queued.entries().next()) {
        queued.delete(next.value[0]);
        const { sqlite: db, site: s, ranges: rs } = next.value[1];
        await tick();
        // Today changes with every batch: it is read when a filtered query asks, not ahead.
        await build(db, s, rs, stop, localDayNumber(Date.now(), s.timezone));
      }
    } finally {
      running = false;
    }
  })();
}
