// The query planner: where the base sums of a range come from. Whole local days without
// filters, grouped by at most one rolled-up dimension, read the daily (or hourly) rollups for
// the days that are built and raw events for the days that are not yet (skipping days with no
// events at all); everything else reads raw events. Base sums add up per day, so the pieces
// merge exactly.
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
import { builtDays, dailyRows, dirtyDays, hourlyRows } from './rollups.ts';
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
  const raw = (start: number, end: number) => {
    used.add('raw');
    // forceRaw (tests) runs the SQL path; otherwise cached day segments, or for what they do
    // not hold (custom properties, status filters) one cached read aggregated in JS.
    // Scroll depth (ctx.scroll) is only on this SQL path too: segments, the row cache and the
    // rollups do not carry the scroll_depth column, so a query asking for it reads here.
    if (ctx.forceRaw || ctx.scroll) return rawRows(ctx.sqlite, { siteId, start, end, tz: r.tz, dims, hourly, collapseDays: collapse, filter, scroll: ctx.scroll });
    if (!ctx.noSegments) {
      const rows = segmentRows(ctx.sqlite, {
        siteId, goals: ctx.goals, match: ctx.match, start, end, tz: r.tz, dims, hourly, collapse, filter: where?.filter ?? null, goal: where?.goal ?? null, cols,
      });
      if (rows) return rows;
    }
    const data = cachedRows(ctx.sqlite, { siteId, start, end, tz: r.tz, dims, filter });
    return aggregate(data, [{ hourly, cols: dims.map((d) => data.dimCol.get(d.name)!) }])[0];
  };
  const rollupable = !ctx.forceRaw && !ctx.scroll && !filter && r.whole && dims.length <= 1 && dims.every((d) => d.code !== undefined) && !(hourly && dims.length);
  if (!rollupable) return raw(r.start, r.end);
  const built = builtDays(rollupReader(ctx.sqlite), siteId, r.fromDay, r.toDay);
  const dirty = built.length === r.toDay - r.fromDay + 1 ? [] : dirtyDays(rollupReader(ctx.sqlite), siteId, r.tz, r.fromDay, r.toDay);
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
      const daily = () => dailyRows(rollupReader(ctx.sqlite), siteId, code, d, e, collapse, cols);
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

