// The dashboard's funnel panel: one of the site's funnels (the first, or `?funnel=<name>`) for
// the dashboard's period and filters, from the same funnel report as POST /api/v2/funnel — so
// the numbers are the API's, k-anonymity included: a step reached by fewer than k visitors
// shows "< k". Rendered on the server like every panel: no script.
import { html } from 'hono/html';
import type { DashboardState } from './dashboard-state.ts';
import { queryBase, stateQuery } from './dashboard-state.ts';
import type { FunnelResponse } from '../reports/funnel.ts';
import type { Funnel } from '../store/funnels.ts';
import type { Site } from '../store/sites.ts';
import { QueryError } from '../reports/query-error.ts';

export interface FunnelPanelDeps {
  /** Runs a funnel report (the reports thread in the server). */
  funnel?: (site: Site, body: Record<string, unknown>) => FunnelResponse | Promise<FunnelResponse>;
  /** The site's funnels. */
  funnels?: { list(siteId: number): Funnel[] };
}

const HIDDEN_TIP = 'Fewer than k visitors reached this step (or, with filters, fewer than k were left out): it is not shown, so that no report singles anyone out (k-anonymity).';

const num = (v: number | null) => (v === null ? '—' : v.toLocaleString('en-US'));
const rate = (v: number | null) => (v === null ? '—' : `${v}%`);

/** The funnel panel's HTML, or '' when the site has no funnel (started at once, awaited with the other panels). */
export async function funnelPanel(deps: FunnelPanelDeps, site: Site, state: DashboardState, base: string) {
  const list = deps.funnels?.list(site.id) ?? [];
  if (!deps.funnel || list.length === 0) return '';
  const current = list.find((f) => f.name === state.funnel) ?? list[0];
  let res: FunnelResponse | null = null;
  try {
    res = await deps.funnel(site, { site_id: site.domain, funnel: current.name, ...queryBase(state) });
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
  }
  const k = site.minVisitors;
  const link = (name: string) => `${base}${stateQuery({ ...state, funnel: name })}`;
  const first = res?.results[0]?.visits ?? 0;
  const switcher = list.length > 1
    ? html`<ul class="periods" aria-label="Funnels">${list.map((f) => html`<li><a href="${link(f.name)}"${f.name === current.name ? html` aria-current="page"` : ''}>${f.name}</a></li>`)}</ul>`
    : '';
  const body = res === null ? html`<p class="muted">This funnel could not be computed for this period.</p>` : html`<table><thead><tr><th scope="col">Step</th>
<th scope="col" class="num">Visits</th><th scope="col" class="num">Conversion</th><th scope="col" class="num">Drop-off</th></tr></thead><tbody>
${res.results.map((r) => {
    const width = r.visits === null || first === 0 ? 0 : Math.round((r.visits / first) * 20) * 5;
    const visits = r.below_k
      ? html`<span class="other" title="${HIDDEN_TIP}" tabindex="0" data-below-k>&lt; ${k}</span>`
      : html`${num(r.visits)}`;
    const drop = r.dropoff === null ? '—' : `${num(r.dropoff)} (${rate(r.dropoff_rate)})`;
    return html`<tr data-step="${r.step}"><td class="label"><span class="bar w${width}"></span><span>${r.step}. ${r.label}</span></td>
<td class="num" data-visits>${visits}</td><td class="num">${rate(r.conversion_rate)}</td><td class="num">${r.step === 1 ? '' : drop}</td></tr>`;
  })}</tbody></table>
<p class="muted">Visits that reached each step in order (a visit counts on each day it touches); conversion from step 1.</p>`;
  return html`<div class="panels"><section class="panel" aria-label="Funnel"><h2>Funnel: ${current.name}</h2>${switcher}${body}</section></div>`;
}
