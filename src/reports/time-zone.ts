// Calendar arithmetic in a site's IANA time zone with Intl only: the UTC instant at which a
// local day starts, correct across DST changes (a local day is 23, 24 or 25 hours long).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The local wall-clock fields of an instant. */
export function localParts(ms: number, tz: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { y: p.year, m: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
}

/** Offset of the zone from UTC at an instant, in ms (Helsinki in summer: +3 h). */
export function offsetAt(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - (ms - (ms % 1000));
}

/** The UTC instant of local midnight starting the given local date (month 1-12; overflow allowed). */
export function localMidnight(y: number, m: number, d: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz); // second pass settles DST edges
  return t;
}

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** Days since 1970-01-01 of a calendar date: the key local days are grouped and stored by. */
export function dayNumber(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / DAY);
}

/** YYYY-MM-DD of a day number. */
export function dayDate(n: number): string {
  return new Date(n * DAY).toISOString().slice(0, 10);
}

/** The local day number of an instant. */
export function localDayNumber(ms: number, tz: string): number {
  return Math.floor((ms + offsetAt(ms, tz)) / DAY);
}

const starts = new Map<string, number>();

/** The UTC instant at which a local day (by number) starts (remembered: Intl costs ~10 µs a call). */
export function dayStart(n: number, tz: string): number {
  const key = `${tz}|${n}`;
  let t = starts.get(key);
  if (t === undefined) {
    const d = new Date(n * DAY);
    t = localMidnight(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), tz);
    if (starts.size >= 100_000) starts.clear();
    starts.set(key, t);
  }
  return t;
}

/**
 * The zone's UTC offsets over [start, end) as [from instant, offset] segments, so SQL can turn
 * `ts` into local wall-clock ms with a short CASE: a year has at most two changes.
 */
export function offsetSegments(start: number, end: number, tz: string): Array<[number, number]> {
  const segs: Array<[number, number]> = [[start, offsetAt(start, tz)]];
  // Offsets change at most a few times a year and never twice within 6 hours.
  const STEP = 6 * HOUR;
  for (let t = start; t < end; t += STEP) {
    const hi0 = Math.min(t + STEP, end);
    const cur = segs[segs.length - 1][1];
    if (offsetAt(hi0, tz) === cur || hi0 === end && offsetAt(end - 1, tz) === cur) continue;
    // Binary search the change to the minute (offsets change on whole minutes), on whole minutes:
    // with unaligned ends (a range ending a second after a change) a step could round to 0 and
    // loop forever.
    let lo = Math.floor(t / 60_000) * 60_000, hi = Math.ceil(hi0 / 60_000) * 60_000;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (offsetAt(mid, tz) === cur) lo = mid; else hi = mid;
    }
    if (hi < end) segs.push([hi, offsetAt(hi, tz)]);
  }
  return segs;
}

/** A SQL expression for the local wall-clock ms of column `col` (numbers only, no user input). */
export function localMsSql(col: string, segs: Array<[number, number]>): string {
  if (segs.length === 1) return `(${col} + ${segs[0][1]})`;
  let expr = 'CASE';
  for (let i = 1; i < segs.length; i++) expr += ` WHEN ${col} < ${segs[i][0]} THEN ${segs[i - 1][1]}`;
  return `(${col} + ${expr} ELSE ${segs[segs.length - 1][1]} END)`;
}
