// Raw-event reports answered from cached day segments (segment-cache.ts) instead of SQL: the
// planner's path for filtered, partial-day and not-yet-rolled-up reads. Returns undefined for
// what segments do not hold (custom properties, HTTP status filters, huge cross products), and
// the planner falls back to the SQL read of row-cache.ts. Days with more than 65,536 values
// in a column are not held either.
import type { SqlConnection, SqlStatement } from '../store/sql.ts';
import type { Goal } from '../store/goals.ts';
import type { Dimension } from './dimensions.ts';
import type { Filter } from './filters.ts';
import type { StringMatch } from './string-match.ts';
import type { SourceRow } from './raw-source.ts';
import { aggregateSegments, segmentDimension } from './segment-aggregate.ts';
import { segmentsEnabled, segmentsFor } from './segment-cache.ts';
import { resolveFilter } from './segment-filter.ts';
import { dimensionText, nameIds } from './string-ids.ts';
import { localDayNumber } from './time-zone.ts';
import { TooManyValues, type Segment } from './segments.ts';

export interface SegmentRead {
  siteId: number;
  goals: Goal[];
  start: number;
  end: number;
  tz: string;
  dims: Dimension[];
  hourly: boolean;
  collapse: boolean;
  filter: Filter | null;
  /** `matches` and page goals decided in JS (string-match.ts) rather than by SQL functions. */
  match?: StringMatch;
  /** A goal every event must meet (one run of a goal breakdown). */
  goal: Goal | null;
  /** The base sums the caller reads (others may be left 0); all when absent. */
  cols?: number[];
  /** Add scroll depth's two sums after the base sums (metrics.ts SCROLL_SUM, SCROLL_N). */
  scroll?: boolean;
}

export function segmentRows(sqlite: SqlConnection, q: SegmentRead): SourceRow[] | undefined {
  if (!segmentsEnabled() || !q.dims.every(segmentDimension)) return undefined;
  const pred = q.filter || q.goal ? resolveFilter(sqlite, q.siteId, q.goals, q.filter, q.goal, q.match) : null;
  if (pred === undefined) return undefined;
  let segs: Segment[];
  try {
    segs = segmentsFor(sqlite, q.siteId, q.tz, localDayNumber(q.start, q.tz), localDayNumber(q.end - 1, q.tz))!;
  } catch (e) {
    if (e instanceof TooManyValues) return undefined;
    throw e;
  }
  return aggregateSegments(segs, {
    start: q.start, end: q.end, dims: q.dims, hourly: q.hourly, collapse: q.collapse, pred, cols: q.cols, scroll: q.scroll,
    key: pred ? JSON.stringify([q.filter, q.goal, q.goals.map((g) => [g.name, g.kind, g.value])]) : '', ids: nameIds(sqlite, q.siteId),
    text: (dim, raw) => dimensionText(sqlite, dim, raw),
  });
}
