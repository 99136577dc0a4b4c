// The content of a report mail: the period's top line with its change against the period
// before, and the top pages, sources and countries. Every number comes from the Stats API engine
// (runQuery or the reports thread), so k-anonymity applies exactly as on the dashboard: rows
// under the site's k arrive folded into "(other)" and are shown as such. Rendered as plain,
// readable HTML (inline styles only, no images, no script) and as text.
import { change, type QueryResponse } from '../reports/engine.ts';
import type { Site } from '../store/sites.ts';
import { countryName } from '../web/countries.ts';
import { previous, periodTitle, type Period } from './periods.ts';

export type ReportQuery = (site: Site, body: Record<string, unknown>) => QueryResponse | Promise<QueryResponse>;

export const TOP_METRICS = ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'] as const;
const LABELS = ['Visitors', 'Visits', 'Pageviews', 'Bounce rate', 'Visit duration'];
/** Rows per list: a mail is read at a glance (10, like the dashboard's panels). */
export const TOP_ROWS = 10;

export interface Report {
  site: string;
  period: Period;
  /** The top line, in TOP_METRICS order; null where k suppressed it. */
  top: Array<number | null>;
  /** Change against the period before: percent, or points for the bounce rate; null if unknown. */
  change: Array<number | null>;
  lists: Array<{ title: string; rows: Array<{ label: string; visitors: number | null }> }>;
}

export async function buildReport(query: ReportQuery, site: Site, period: Period): Promise<Report> {
  const range = (p: Period) => [p.from, p.to];
  const topOf = async (p: Period) => (await query(site, { site_id: site.domain, metrics: [...TOP_METRICS], date_range: range(p) })).results[0]?.metrics
    ?? TOP_METRICS.map(() => null);
  const top = await topOf(period);
  const before = await topOf(previous(period));
  const list = async (title: string, dimension: string) => {
    const r = await query(site, {
      site_id: site.domain, metrics: ['visitors'], date_range: range(period), dimensions: [dimension],
      order_by: [['visitors', 'desc']], pagination: { limit: TOP_ROWS },
    });
    const rows = r.results.map((row) => ({
      label: dimension === 'visit:country' ? countryName(row.dimensions[0], 'en') : row.dimensions[0],
      visitors: row.metrics[0],
    }));
    return { title, rows };
  };
  return {
    site: site.domain, period, top, change: top.map((v, i) => change(TOP_METRICS[i], v, before[i])),
    lists: [await list('Top pages', 'event:page'), await list('Top sources', 'visit:source'), await list('Top countries', 'visit:country')],
  };
}

function value(i: number, v: number | null): string {
  if (v === null) return '–';
  if (TOP_METRICS[i] === 'bounce_rate') return `${v}%`;
  if (TOP_METRICS[i] === 'visit_duration') return v >= 60 ? `${Math.floor(v / 60)}m ${Math.round(v % 60)}s` : `${Math.round(v)}s`;
  return v.toLocaleString('en-US');
}

function delta(i: number, c: number | null): string {
  if (c === null) return '';
  const sign = c > 0 ? '+' : c < 0 ? '−' : '±';
  return `${sign}${Math.abs(c)}${TOP_METRICS[i] === 'bounce_rate' ? ' pts' : '%'}`;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

/** The mail's subject, text and HTML; `unsubscribe` is the link for a subscription's mail. */
export function renderReport(r: Report, unsubscribe?: string): Rendered {
  const when = periodTitle(r.period);
  const kind = r.period.kind === 'week' ? 'Weekly' : 'Monthly';
  const subject = `${kind} report for ${r.site}: ${when}`;
  const vs = `vs. the ${r.period.kind} before`;

  const text: string[] = [`${kind} report for ${r.site}`, `${when} (${r.period.from} to ${r.period.to})`, ''];
  for (const [i, label] of LABELS.entries()) text.push(`${label}: ${value(i, r.top[i])}${r.change[i] === null ? '' : ` (${delta(i, r.change[i])} ${vs})`}`);
  for (const l of r.lists) {
    text.push('', `${l.title} (visitors)`);
    if (!l.rows.length) text.push('  none');
    for (const row of l.rows) text.push(`  ${row.label}: ${value(0, row.visitors)}`);
  }
  text.push('', 'Rows with fewer visitors than the site\'s k are added up as "(other)".');
  if (unsubscribe) text.push('', `Unsubscribe from this report: ${unsubscribe}`);

  const cell = 'padding:4px 12px 4px 0;text-align:left';
  const num = 'padding:4px 0;text-align:right';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(subject)}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#222;max-width:560px;margin:0 auto;padding:16px;line-height:1.4">
<h1 style="font-size:20px;margin:0 0 4px">${kind} report for ${esc(r.site)}</h1>
<p style="color:#555;margin:0 0 16px">${esc(when)} (${r.period.from} to ${r.period.to})</p>
<table style="border-collapse:collapse;margin-bottom:16px">${LABELS.map((label, i) => `<tr><th style="${cell};font-weight:normal">${label}</th><td style="${num}"><strong>${value(i, r.top[i])}</strong></td><td style="padding:4px 0 4px 12px;color:#555">${esc(delta(i, r.change[i]))}</td></tr>`).join('')}</table>
<p style="color:#555;font-size:13px;margin:0 0 16px">Changes are ${esc(vs)}.</p>
${r.lists.map((l) => `<h2 style="font-size:16px;margin:16px 0 4px">${l.title}</h2>
<table style="border-collapse:collapse;width:100%"><tr><th style="${cell}">${l.title.replace('Top ', '').replace(/^./, (c) => c.toUpperCase())}</th><th style="${num}">Visitors</th></tr>${l.rows.length
    ? l.rows.map((row) => `<tr><td style="${cell}">${esc(row.label)}</td><td style="${num}">${value(0, row.visitors)}</td></tr>`).join('')
    : `<tr><td style="${cell};color:#555">none</td><td></td></tr>`}</table>`).join('\n')}
<p style="color:#555;font-size:13px;margin-top:24px">Rows with fewer visitors than the site's k are added up as "(other)".${unsubscribe ? ` <a href="${esc(unsubscribe)}">Unsubscribe from this report</a>.` : ''}</p>
</body></html>`;
  return { subject, text: text.join('\n'), html };
}
