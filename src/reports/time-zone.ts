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
function offsetAt(ms: number, tz: string): number {
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

/** [start, end) of the local day containing `now`, and its date as YYYY-MM-DD. */
export function localDay(now: number, tz: string): { start: number; end: number; date: string } {
  const p = localParts(now, tz);
  const date = `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
  return { start: localMidnight(p.y, p.m, p.d, tz), end: localMidnight(p.y, p.m, p.d + 1, tz), date };
}
