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

/**
 * How long the page waits for the funnel. Its days are cached once read, but the first read of a
 * month of a busy site takes seconds (~2 s at 2.5M events): the page does not wait for that; it
 * says the funnel is being counted, the reports thread goes on (other queries in between), and
 * the next load shows it.
 */
export const FUNNEL_WAIT_MS = 250;

const HIDDEN_TIP = 'Fewer than k visitors reached this step (or, with filters, fewer than k were left out): it is not shown, so that no report singles anyone out (k-anonymity).';

const num = (v: number | null) => (v === null ? '—' : v.toLocaleString('en-US'));
const rate = (v: number | null) => (v === null ? '—' : `${v}%`);

/** The funnel panel's HTML, or '' when the site has no funnel (started at once, awaited with the other panels). */
export async function funnelPanel(deps: FunnelPanelDeps, site: Site, state: DashboardState, base: string) {
  const list = deps.funnels?.list(site.id) ?? [];
  if (!deps.funnel || list.length === 0) return '';
  const current = list.find((f) => f.name === state.funnel) ?? list[0];
  let res: FunnelResponse | null = null;
  let late = false;
  const run = deps.funnel;
  const pending = Promise.resolve().then(() => run(site, { site_id: site.domain, funnel: current.name, ...queryBase(state) }));
  pending.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const wait = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), FUNNEL_WAIT_MS); });
  try {
    const r = await Promise.race([pending, wait]);
    if (r === 'late') late = true;
    else res = r;
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
  } finally {
    clearTimeout(timer);
  }
  const k = site.minVisitors;
  const link = (name: string) => `${base}${stateQuery({ ...state, funnel: name })}`;
  const first = res?.results[0]?.visits ?? 0;
  const switcher = list.length > 1
    ? html`<ul class="periods" aria-label="Funnels">${list.map((f) => html`<li><a href="${link(f.name)}"${f.name === current.name ? html` aria-current="page"` : ''}>${f.name}</a></li>`)}</ul>`
    : '';
  const body = late
    ? html`<p class="muted" data-funnel-pending>Counting this funnel over the period (the first count of a period takes a few seconds on a busy site): reload the page in a moment.</p>`
    : res === null ? html`<p class="muted">This funnel could not be computed for this period.</p>` : html`<table><thead><tr><th scope="col">Step</th>
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
