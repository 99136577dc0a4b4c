// Time dimensions: which bucket a (local day, local hour) falls in and how it is labelled, and
// every label of a range (include.time_labels). Weeks start on Monday and are clamped to the
// range's first day; an hour label is local wall-clock time ("2026-03-29 01:00:00").
import type { Range } from './date-range.ts';
import type { TimeDimension } from './dimensions.ts';
import { DAY, HOUR, dayDate, offsetSegments } from './time-zone.ts';

export type Bucket = 'hour' | 'day' | 'week' | 'month';

/** `time` picks hours for a day or two, days up to 91 days, months beyond. */
export function bucketOf(dim: TimeDimension, r: Range): Bucket {
  if (dim !== 'time') return dim.slice(5) as Bucket;
  const days = r.toDay - r.fromDay + 1;
  if (!r.whole || days <= 2) return days <= 2 ? 'hour' : 'day';
  return days <= 91 ? 'day' : 'month';
}

/** Monday on or before day `d` (day 0, 1970-01-01, was a Thursday). */
const monday = (d: number) => d - ((d + 3) % 7);

function monthFirst(d: number): number {
  const x = new Date(d * DAY);
  return Math.floor(Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1) / DAY);
}

/** The label of the bucket holding local day `day` (and local hour `hour` for hourly buckets). */
export function bucketLabel(b: Bucket, r: Range, day: number, hour: number | null): string {
  switch (b) {
    case 'hour': return new Date((hour ?? day * 24) * HOUR).toISOString().slice(0, 19).replace('T', ' ');
    case 'day': return dayDate(day);
    case 'week': return dayDate(Math.max(monday(day), r.fromDay));
    case 'month': return dayDate(monthFirst(day));
  }
}

/** Every bucket label of the range, in order. */
export function timeLabels(b: Bucket, r: Range): string[] {
  const out: string[] = [];
  if (b === 'hour') {
    const segs = offsetSegments(r.start, r.end, r.tz);
    let last = -Infinity;
    segs.forEach(([from, off], i) => {
      const to = i + 1 < segs.length ? segs[i + 1][0] : r.end;
      for (let h = Math.floor((from + off) / HOUR); h <= Math.floor((to - 1 + off) / HOUR); h++) {
        // A repeated hour (clocks going back) is one bucket.
        if (h > last) out.push(bucketLabel('hour', r, 0, h));
        last = Math.max(last, h);
      }
    });
    return out;
  }
  for (let d = r.fromDay; d <= r.toDay; d++) {
    const l = bucketLabel(b, r, d, null);
    if (out[out.length - 1] !== l) out.push(l);
  }
  return out;
}
