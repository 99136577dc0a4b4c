// The query planner: where the base sums of a range come from. Whole local days without
// filters, grouped by at most one rolled-up dimension, read the daily (or hourly) rollups for
// the days that are built and raw events for the days that are not yet (skipping days with no
// events at all); everything else reads raw events. Base sums add up per day, so the pieces
// merge exactly. Scroll depth (ctx.scroll) is read the same way: the rollups' page rows carry its
// sums (a built day whose page rows lack them is read from events instead), and day segments,
// the row cache and the SQL path all count them.
import type { Dimension } from './dimensions.ts';
import type { Compiled, Filter } from './filters.ts';
import type { Goal } from '../store/goals.ts';
import type { ReportContext } from './engine.ts';
import type { Range } from './date-range.ts';
import { rawRows, type SourceRow } from './raw-source.ts';
import { aggregate } from './aggregate.ts';
import { cachedRows } from './row-cache.ts';
import { segmentRows } from './segment-source.ts';
import { complementRows } from './complement-cache.ts';
import { builtDays, dailyRows, daysWithoutScroll, dirtyDays, hourlyRows, SCROLL_DIM } from './rollups.ts';
import { dayStart } from './time-zone.ts';
import { importedRows } from './imported.ts';
import { rollupReader } from './rollup-reader.ts';

/** Which sources answered (reported as meta.source). */
export type Used = Set<'rollups' | 'raw' | 'imported'>;

/** What a read keeps: the compiled SQL and, for the segment path, the filter and goal it came from. */
export interface Where {
  sql: Compiled;
  filter: Filter | null;
  goal: Goal | null;
}

/**
 * Base rows of the site's own data and, when the engine planned it (ctx.imports, imported.ts),
 * imported aggregates for the days before its first event.
 */
export function fetchBase(ctx: ReportContext, r: Range, dims: Dimension[], hourly: boolean, collapse: boolean,
  where: Where | null, used: Used, cols?: number[]): SourceRow[] {
  const rows = nativeBase(ctx, r, dims, hourly, collapse, where, used, cols);
  if (!ctx.imports || hourly) return rows;
  const imported = importedRows(ctx.sqlite, ctx.site.id, ctx.imports, r, dims, collapse, where?.filter ?? null, cols);
  if (!imported.length) return rows;
  used.add('imported');
  return rows.concat(imported);
}

/** Base rows from rollups for built days and raw events for the rest, or raw events only. */
function nativeBase(ctx: ReportContext, r: Range, dims: Dimension[], hourly: boolean, collapse: boolean,
  where: Where | null, used: Used, cols?: number[]): SourceRow[] {
  const siteId = ctx.site.id;
  const filter = where?.sql ?? null;
  const scroll = ctx.scroll === true;
  const raw = (start: number, end: number) => {
    used.add('raw');
    // forceRaw (tests) runs the SQL path; otherwise cached day segments, or for what they do
    // not hold (custom properties, status filters) one cached read aggregated in JS.
    if (ctx.forceRaw) return rawRows(ctx.sqlite, { siteId, start, end, tz: r.tz, dims, hourly, collapseDays: collapse, filter, scroll });
    if (!ctx.noSegments) {
      const rows = segmentRows(ctx.sqlite, {
        siteId, goals: ctx.goals, match: ctx.match, start, end, tz: r.tz, dims, hourly, collapse, filter: where?.filter ?? null, goal: where?.goal ?? null, cols,
        scroll,
      });
      if (rows) return rows;
    }
    const data = cachedRows(ctx.sqlite, { siteId, start, end, tz: r.tz, dims, filter });
    return aggregate(data, [{ hourly, cols: dims.map((d) => data.dimCol.get(d.name)!), scroll }])[0];
  };
  // Only page rows carry scroll depth's sums: a query for it reads rollups by page only.
  const rollupable = !ctx.forceRaw && !filter && r.whole && dims.length <= 1 && dims.every((d) => d.code !== undefined) && !(hourly && dims.length)
    && (!scroll || dims[0]?.code === SCROLL_DIM);
  if (!rollupable) return raw(r.start, r.end);
  let built = builtDays(rollupReader(ctx.sqlite), siteId, r.fromDay, r.toDay);
  let dirty = built.length === r.toDay - r.fromDay + 1 ? [] : dirtyDays(rollupReader(ctx.sqlite), siteId, r.tz, r.fromDay, r.toDay);
  if (scroll && built.length) {
    // Built days whose page rows lack the scroll sums (today's, while the live rollups do not
    // write them) are read like unbuilt ones: from segments, for that day only.
    const lacking = daysWithoutScroll(rollupReader(ctx.sqlite), siteId, r.fromDay, r.toDay);
    if (lacking.length) {
      const set = new Set(lacking);
      built = built.filter((d) => !set.has(d));
      dirty = [...new Set([...dirty, ...lacking])].sort((a, b) => a - b);
    }
  }
  const out: SourceRow[] = [];
  let i = 0;
  for (let d = r.fromDay; d <= r.toDay;) {
    const isBuilt = built[i] === d;
    let e = d;
    if (isBuilt) while (built[i + 1] === e + 1) { i++; e++; }
    else e = (i < built.length ? built[i] : r.toDay + 1) - 1;
    if (isBuilt) {
      used.add('rollups');
      const code = dims[0]?.code ?? 0;
      const daily = () => dailyRows(rollupReader(ctx.sqlite), siteId, code, d, e, collapse, cols, scroll);
      out.push(...(hourly ? hourlyRows(rollupReader(ctx.sqlite), siteId, d, e) : ctx.complement ? complementRows(ctx.sqlite, siteId, code, d, e, collapse, cols, daily) : daily()));
      i++;
    } else {
      // Unbuilt days are read raw, skipping those without events (neither built nor dirty).
      const pending = dirty.filter((x) => x >= d && x <= e);
      if (pending.length) out.push(...raw(dayStart(pending[0], r.tz), dayStart(pending[pending.length - 1] + 1, r.tz)));
    }
    d = e + 1;
  }
  return out;
}

