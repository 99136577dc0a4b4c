// The visitors chart as inline SVG, drawn on the server: no script, nothing for the CSP to
// allow, and it prints. Each point carries a <title> for hover; the numbers are also in a table.
import { html, raw } from 'hono/html';

const W = 800, H = 200, PAD_L = 44, PAD_B = 24, PAD_T = 10;

export interface Point { label: string; value: number | null; previous?: number | null }

/** A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten. */
function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= x)!;
}

export function lineChart(points: Point[], name: string) {
  const max = niceMax(Math.max(0, ...points.flatMap((p) => [p.value ?? 0, p.previous ?? 0])));
  const n = points.length;
  const x = (i: number) => PAD_L + (n <= 1 ? (W - PAD_L) / 2 : (i * (W - PAD_L - 8)) / (n - 1));
  const y = (v: number) => PAD_T + (H - PAD_T - PAD_B) * (1 - v / max);
  const line = (get: (p: Point) => number | null | undefined) => points.map((p, i) => {
    const v = get(p);
    return v === null || v === undefined ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  }).filter(Boolean).join(' ');
  const ticks = [0, 0.5, 1].map((f) => max * f);
  const labelAt = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${name} over time">
${raw(ticks.map((t) => `<line x1="${PAD_L}" x2="${W}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/><text x="${PAD_L - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="axis">${t.toLocaleString('en-US')}</text>`).join(''))}
${points.some((p) => p.previous !== undefined) ? html`<polyline class="previous" fill="none" points="${line((p) => p.previous)}"/>` : ''}
<polyline class="line" fill="none" points="${line((p) => p.value)}"/>
${points.map((p, i) => (p.value === null ? '' : html`<circle class="dot" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3"><title>${p.label}: ${p.value.toLocaleString('en-US')} ${name}</title></circle>`))}
${labelAt.map((i) => html`<text x="${x(i).toFixed(1)}" y="${H - 6}" text-anchor="${i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'}" class="axis">${points[i]?.label ?? ''}</text>`)}
</svg>`;
}
