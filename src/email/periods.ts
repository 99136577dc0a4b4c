// Which week or month a report covers, in the site's time zone. A weekly report is due from
// Monday 06:00 local for the previous Monday–Sunday, a monthly one from the 1st at 06:00 for
// the previous month: the reader finds it in the morning, and the period is complete by then.
import { DAY, dayDate, dayNumber, localDayNumber, localParts } from '../reports/time-zone.ts';

export type PeriodKind = 'week' | 'month';

export interface Period {
  kind: PeriodKind;
  /** First and last local day, YYYY-MM-DD (inclusive): a Stats API `date_range`. */
  from: string;
  to: string;
}

/** Local hour from which the period just ended is due (6: "Monday morning"). */
export const SEND_HOUR = 6;

const isoDay = (s: string) => Math.floor(Date.parse(`${s}T00:00:00Z`) / DAY);

function weekOf(day: number): Period {
  // 1970-01-01 (day 0) was a Thursday: (day + 3) % 7 is 0 on Mondays.
  const monday = day - ((day + 3) % 7);
  return { kind: 'week', from: dayDate(monday), to: dayDate(monday + 6) };
}

function monthOf(y: number, m: number): Period {
  const first = dayNumber(y, m, 1);
  return { kind: 'month', from: dayDate(first), to: dayDate(dayNumber(y, m + 1, 1) - 1) };
}

/** The latest complete period whose report is due at `now`. */
export function latestDue(kind: PeriodKind, now: number, tz: string): Period {
  const p = localParts(now, tz);
  const today = localDayNumber(now, tz);
  const early = p.h < SEND_HOUR;
  if (kind === 'week') {
    const thisMonday = today - ((today + 3) % 7);
    // Before 06:00 on Monday the week that just ended is not due yet.
    const dueMonday = early && today === thisMonday ? thisMonday - 7 : thisMonday;
    return weekOf(dueMonday - 7);
  }
  const back = early && p.d === 1 ? 2 : 1;
  return monthOf(p.y, p.m - back);
}

/** The period just before (the comparison). */
export function previous(p: Period): Period {
  if (p.kind === 'week') return weekOf(isoDay(p.from) - 7);
  const [y, m] = p.from.split('-').map(Number);
  return monthOf(y, m - 1);
}

/** "Week of 8 June 2026" / "June 2026", for subjects and headings. */
export function periodTitle(p: Period): string {
  const d = new Date(`${p.from}T00:00:00Z`);
  if (p.kind === 'month') return d.toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const end = new Date(`${p.to}T00:00:00Z`);
  const fmt = (x: Date) => x.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return `${fmt(d)} – ${fmt(end)}`;
}
