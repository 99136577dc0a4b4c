// Stats API date ranges resolved in the site's time zone: named periods ("day", "7d", "month",
// "12mo", "all", "realtime", …) and custom [from, to] dates or datetimes, plus the period a
// comparison reads. A range of whole local days can be answered from daily rollups.
import { QueryError } from './query-error.ts';
import { DAY, dayDate, dayNumber, dayStart, localDayNumber, localParts, offsetAt } from './time-zone.ts';

export interface Range {
  /** [start, end) in ms. */
  start: number;
  end: number;
  /** The local days the range touches (inclusive). */
  fromDay: number;
  toDay: number;
  /** True when start and end are local midnights: daily rollups can answer. */
  whole: boolean;
  tz: string;
}

export const NAMED = ['day', '7d', '28d', '30d', '91d', 'month', '6mo', '12mo', 'year', 'all', 'realtime'] as const;
const REALTIME_MS = 5 * 60_000;
const MAX_DAYS = 3660;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export function daysRange(fromDay: number, toDay: number, tz: string): Range {
  return { start: dayStart(fromDay, tz), end: dayStart(toDay + 1, tz), fromDay, toDay, whole: true, tz };
}

function instantRange(start: number, end: number, tz: string): Range {
  return { start, end, fromDay: localDayNumber(start, tz), toDay: localDayNumber(end - 1, tz), whole: false, tz };
}

function parseDate(s: string, field: string): number {
  const m = DATE.exec(s);
  const n = m ? dayNumber(+m[1], +m[2], +m[3]) : NaN;
  if (!m || dayDate(n) !== s) throw new QueryError(`"${field}": ${JSON.stringify(s.slice(0, 40))} is not a valid date (YYYY-MM-DD)`);
  return n;
}

/** The first day of the month `back` months before the month of day `d`. */
function monthStart(d: number, back: number): number {
  const date = new Date(d * DAY);
  return dayNumber(date.getUTCFullYear(), date.getUTCMonth() + 1 - back, 1);
}

/**
 * Resolves `date_range`. `firstEvent` gives the start of "all" (the site's first stored event).
 */
export function resolveRange(raw: unknown, tz: string, now: number, firstEvent: () => number | null): Range {
  const today = localDayNumber(now, tz);
  if (typeof raw === 'string') {
    switch (raw) {
      case 'realtime': return instantRange(now - REALTIME_MS, now + 1, tz);
      case 'day': return daysRange(today, today, tz);
      case '7d': case '28d': case '30d': case '91d': return daysRange(today - parseInt(raw, 10) + 1, today, tz);
      case 'month': return daysRange(monthStart(today, 0), today, tz);
      case '6mo': return daysRange(monthStart(today, 5), today, tz);
      case '12mo': return daysRange(monthStart(today, 11), today, tz);
      case 'year': return daysRange(dayNumber(new Date(today * DAY).getUTCFullYear(), 1, 1), today, tz);
      case 'all': {
        const first = firstEvent();
        return daysRange(first === null ? today : Math.min(today, localDayNumber(first, tz)), today, tz);
      }
      default:
        throw new QueryError(`"date_range": unsupported period ${JSON.stringify(raw.slice(0, 40))} (supported: ${NAMED.join(', ')}, or [from, to])`);
    }
  }
  if (!Array.isArray(raw) || raw.length !== 2 || typeof raw[0] !== 'string' || typeof raw[1] !== 'string') {
    throw new QueryError('"date_range" must be a period name or [from, to] as ISO 8601 dates or datetimes');
  }
  const [a, b] = raw as [string, string];
  if (DATE.test(a) && DATE.test(b)) {
    const from = parseDate(a, 'date_range[0]');
    const to = parseDate(b, 'date_range[1]');
    if (to < from) throw new QueryError('"date_range": the end is before the start');
    if (to - from >= MAX_DAYS) throw new QueryError(`"date_range": at most ${MAX_DAYS} days`);
    return daysRange(from, to, tz);
  }
  if (DATETIME.test(a) && DATETIME.test(b)) {
    const start = Date.parse(a);
    const endIncl = Date.parse(b);
    if (!Number.isFinite(start) || !Number.isFinite(endIncl)) throw new QueryError('"date_range": invalid datetime');
    if (endIncl < start) throw new QueryError('"date_range": the end is before the start');
    if (endIncl - start >= MAX_DAYS * DAY) throw new QueryError(`"date_range": at most ${MAX_DAYS} days`);
    // The end is inclusive to the second, as in "…T15:59:59".
    const end = endIncl % 1000 === 0 ? endIncl + 1000 : endIncl + 1;
    const r = instantRange(start, end, tz);
    if (start === dayStart(r.fromDay, tz) && end === dayStart(r.toDay + 1, tz)) r.whole = true;
    return r;
  }
  throw new QueryError('"date_range": [from, to] must be two dates (YYYY-MM-DD) or two datetimes with a zone (2024-01-01T12:00:00+02:00)');
}

export type ComparisonMode = 'previous_period' | 'year_over_year';

/** The period a comparison reads: the same length just before, or the same dates a year earlier. */
export function comparisonRange(r: Range, mode: ComparisonMode): Range {
  if (mode === 'previous_period') {
    if (r.whole) {
      const n = r.toDay - r.fromDay + 1;
      return daysRange(r.fromDay - n, r.fromDay - 1, r.tz);
    }
    return instantRange(2 * r.start - r.end, r.start, r.tz);
  }
  if (r.whole) {
    const back = (d: number) => {
      const x = new Date(d * DAY);
      // Feb 29 maps to Feb 28 of a common year.
      const y = x.getUTCFullYear() - 1, m = x.getUTCMonth() + 1;
      return dayNumber(y, m, Math.min(x.getUTCDate(), new Date(Date.UTC(y, m, 0)).getUTCDate()));
    };
    return daysRange(back(r.fromDay), back(r.toDay), r.tz);
  }
  return instantRange(r.start - 365 * DAY, r.end - 365 * DAY, r.tz);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 with the zone's offset at that instant: 2026-06-16T00:00:00+03:00. */
export function isoLocal(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const off = offsetAt(ms, tz) / 60_000;
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The range as the response's query echoes it: first and last second, local time. */
export function rangeLabel(r: Range): [string, string] {
  return [isoLocal(r.start, r.tz), isoLocal(r.end - 1, r.tz)];
}
