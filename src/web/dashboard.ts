// The dashboard of one site, rendered on the server from the same report engine as the Stats
// API (so the numbers are the API's numbers, k-anonymity included): top line with deltas and
// realtime visitors, the visitors chart, and panels. Every row is a link that adds its value as
// a filter; filters show as removable chips; everything is in the URL. No script at all.
import type { Context, Hono } from 'hono';
import { html, raw } from 'hono/html';
import { page } from './layout.ts';
import { currentUser, respond, toLogin, type AuthDeps } from './auth-routes.ts';
import { PERIODS, parseState, queryBase, stateQuery, withFilter, withoutFilter, type DashboardState } from './dashboard-state.ts';
import { lineChart } from './chart.ts';
import { country, countryText, localeOf } from './countries.ts';
import { worldMap } from './world-map.ts';
import { OTHER, type QueryResponse } from '../reports/engine.ts';
import type { Site } from '../store/sites.ts';
import { QueryError } from '../reports/query-error.ts';
import { importedNote } from './imported-note.ts';
import { funnelPanel, type FunnelPanelDeps } from './funnel-panel.ts';

export interface DashboardDeps extends AuthDeps, FunnelPanelDeps {
  siteByDomain: (domain: string) => Site | undefined;
  query: (site: Site, body: Record<string, unknown>) => QueryResponse | Promise<QueryResponse>;
  hasGoals: (siteId: number) => boolean;
  /** Custom property keys of an event in a period (shown when the dashboard is filtered by it; at the edge, asked of the site's objects). */
  propKeys: (site: Site, eventName: string, dateRange: unknown) => string[] | Promise<string[]>;
}

interface PanelSpec {
  title: string; dim: string; metrics: string[]; heads: string[];
  /** Values this panel does not list: asked for as extra rows and dropped (see Custom events). */
  hide?: string[];
  /** Rows to ask for (10 shown): the countries panel asks for all, for the map. */
  limit?: number;
}

const ROWS = 10;
// Every country there is (249 ISO codes, plus "(other)" and "(none)"), so the map shows all the
// rows the table's query returned and no other.
const COUNTRY_LIMIT = 300;

const PANELS: PanelSpec[] = [
  // Scroll depth: the mean of each visit's deepest scroll on the page (engagement reports; "—"
  // where none carried one), read from the rollups' page rows or day segments like the rest of
  // the panel (reports/plan.ts; on the raw SQL path a month took 19-31 s on the 10M bench).
  { title: 'Pages', dim: 'event:page', metrics: ['visitors', 'pageviews', 'scroll_depth'], heads: ['Visitors', 'Views', 'Scroll depth'] },
  { title: 'Entry pages', dim: 'visit:entry_page', metrics: ['visitors', 'visits'], heads: ['Visitors', 'Entrances'] },
  { title: 'Exit pages', dim: 'visit:exit_page', metrics: ['visitors', 'visits'], heads: ['Visitors', 'Exits'] },
  { title: 'Sources', dim: 'visit:source', metrics: ['visitors', 'bounce_rate'], heads: ['Visitors', 'Bounce'] },
  { title: 'Channels', dim: 'visit:channel', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'Referrers', dim: 'visit:referrer', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'UTM sources', dim: 'visit:utm_source', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'UTM mediums', dim: 'visit:utm_medium', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'UTM campaigns', dim: 'visit:utm_campaign', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'Countries', dim: 'visit:country', metrics: ['visitors'], heads: ['Visitors'], limit: COUNTRY_LIMIT },
  { title: 'Browsers', dim: 'visit:browser', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'Operating systems', dim: 'visit:os', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'Devices', dim: 'visit:device', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'Screen sizes', dim: 'visit:screen', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'Languages', dim: 'visit:language', metrics: ['visitors'], heads: ['Visitors'] },
  { title: 'HTTP status', dim: 'event:status', metrics: ['visitors', 'events', 'bytes'], heads: ['Visitors', 'Hits', 'Bytes'] },
  // Page views and engagement pings are not custom events (they have the top line and Pages).
  // Not an is_not filter: the engine hides a filtered answer when fewer than k visitors are left
  // out by the filter — here, whenever fewer than k visitors sent no custom event at all — so the
  // panel asks for 2 more rows and drops these two (rows of k or more; nothing new is shown).
  { title: 'Custom events', dim: 'event:name', metrics: ['visitors', 'events'], heads: ['Visitors', 'Events'], hide: ['pageview', 'engagement'] },
];
const GOALS: PanelSpec = { title: 'Goals', dim: 'event:goal', metrics: ['visitors', 'events', 'conversion_rate'], heads: ['Visitors', 'Conversions', 'CR'] };

const TOP = [
  ['visitors', 'Visitors'], ['visits', 'Visits'], ['pageviews', 'Page views'], ['views_per_visit', 'Views per visit'],
  ['bounce_rate', 'Bounce rate'], ['visit_duration', 'Visit duration'],
] as const;

const OTHER_TIP = 'Rows describing fewer than k visitors are added up here, so that no report singles anyone out (k-anonymity).';

export function formatMetric(metric: string, v: number | null): string {
  if (v === null) return '—';
  if (metric === 'bounce_rate' || metric === 'conversion_rate' || metric === 'percentage' || metric === 'scroll_depth') return `${v}%`;
  if (metric === 'visit_duration' || metric === 'time_on_page') return `${Math.floor(v / 60)}m ${String(v % 60).padStart(2, '0')}s`;
  if (metric === 'bytes') {
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let x = v, u = 0;
    while (x >= 1000 && u < units.length - 1) { x /= 1000; u++; }
    return `${u === 0 ? x : x.toFixed(1)} ${units[u]}`;
  }
  return v.toLocaleString('en-US');
}

const delta = (metric: string, change: number | null | undefined) => {
  if (change === null || change === undefined) return '';
  // Less bounce is better; for everything else more is.
  const good = metric === 'bounce_rate' ? change < 0 : change > 0;
  const unit = metric === 'bounce_rate' ? ' pts' : '%';
  return html` <span class="delta ${change === 0 ? '' : good ? 'up' : 'down'}">${change > 0 ? '+' : ''}${change}${unit}</span>`;
};

/** A filter value as the reader sees it: a country's flag and name in their language, else the value. */
function shownValue(dim: string, value: string, locale: string) {
  const c = dim === 'visit:country' ? country(value, locale) : null;
  return c ? html`<span aria-hidden="true">${c.flag}</span> <span lang="${locale}">${c.name}</span>` : html`${value}`;
}
const valueText = (dim: string, value: string, locale: string) => (dim === 'visit:country' ? countryText(value, locale) : value);

function panel(spec: PanelSpec, res: QueryResponse | null, state: DashboardState, base: string, locale: string) {
  const rows = (res?.results ?? []).filter((r) => !spec.hide?.includes(r.dimensions[0])).slice(0, ROWS);
  const max = Math.max(1, ...rows.map((r) => r.metrics[0] ?? 0));
  const body = res === null
    ? html`<p class="muted">Hidden: fewer than k visitors match these filters.</p>`
    : rows.length === 0 ? html`<p class="muted">No data for this period.</p>`
      : html`<table><thead><tr><th scope="col">${spec.title}</th>${spec.heads.map((h) => html`<th scope="col" class="num">${h}</th>`)}</tr></thead><tbody>
${rows.map((r) => {
    const label = r.dimensions[0];
    const width = Math.round(((r.metrics[0] ?? 0) / max) * 20) * 5;
    const cell = label === OTHER
      ? html`<span class="other" title="${OTHER_TIP}" tabindex="0">(other) <abbr title="${OTHER_TIP}">ⓘ</abbr></span>`
      : html`<a href="${base}${stateQuery(withFilter(state, spec.dim, label))}">${shownValue(spec.dim, label, locale)}</a>`;
    return html`<tr><td class="label"><span class="bar w${width}"></span>${cell}</td>${r.metrics.map((m, i) => html`<td class="num">${formatMetric(spec.metrics[i], m)}</td>`)}</tr>`;
  })}</tbody></table>`;
  return html`<section class="panel" aria-label="${spec.title}"><h2>${spec.title}</h2>${body}</section>`;
}

/** How a dashboard is being looked at: by a signed-in account, or through a shared link. */
export interface DashboardView {
  base: string;
  /** Other dashboards to switch to (empty for a shared link). */
  switcher: Array<{ domain: string; href: string }>;
  user?: { email: string; csrf: string };
  owner: boolean;
}

type RenderDeps = Pick<DashboardDeps, 'query' | 'hasGoals' | 'propKeys' | 'funnel' | 'funnels'>;

export async function renderDashboard(c: Context, deps: RenderDeps, site: Site, view: DashboardView) {
  const state = parseState(new URL(c.req.url));
  const locale = localeOf(c.req.header('accept-language'));
  const base = view.base;
  const common = queryBase(state);
  const ask = async (body: Record<string, unknown>): Promise<QueryResponse | null> => {
    try {
      const r = await deps.query(site, { site_id: site.domain, ...body });
      return r.meta.suppressed ? null : r;
    } catch (e) {
      if (e instanceof QueryError) return null;
      throw e;
    }
  };
  // Filtered by a custom event: a panel for each of its properties.
  const eventName = state.filters.find(([d]) => d === 'event:name')?.[1];
  const props: PanelSpec[] = eventName && eventName !== 'pageview'
    ? (await deps.propKeys(site, eventName, common.date_range)).map((k) => ({ title: `${eventName}: ${k}`, dim: `event:props:${k}`, metrics: ['visitors', 'events'], heads: ['Visitors', 'Events'] }))
    : [];
  const panels = [...PANELS, ...(deps.hasGoals(site.id) ? [GOALS] : []), ...props];
  // The funnel panel (when the site has funnels) runs beside the other queries.
  const funnelP = funnelPanel(deps, site, state, base);
  funnelP.catch(() => undefined);
  const [top, realtime, chart, ...results] = await Promise.all([
    ask({ ...common, metrics: TOP.map(([m]) => m), ...(state.compare ? { include: { comparison: 'previous_period' } } : {}) }),
    ask({ metrics: ['visitors'], date_range: 'realtime' }),
    ask({ ...common, metrics: ['visitors', 'pageviews'], dimensions: ['time'], include: { time_labels: true, ...(state.compare ? { comparison: 'previous_period' } : {}) } }),
    ...panels.map((p) => ask({ ...common, metrics: p.metrics, dimensions: [p.dim], pagination: { limit: p.limit ?? ROWS + (p.hide?.length ?? 0) } })),
  ]);
  const funnel = await funnelP;
  const topRow = top?.results[0];
  // The map draws the countries panel's own answer: k-anonymity folded it already.
  const countries = results[panels.findIndex((p) => p.dim === 'visit:country')];
  const labels = (chart?.meta.time_labels as string[] | undefined) ?? [];
  const byLabel = new Map((chart?.results ?? []).map((r) => [r.dimensions[0], r]));
  const points = labels.map((l) => {
    const r = byLabel.get(l);
    return { label: l, value: r?.metrics[0] ?? 0, ...(state.compare ? { previous: r?.comparison?.metrics[0] ?? null } : {}) };
  });
  const body = html`
<nav class="bar-top" aria-label="Site and period">
  ${view.switcher.length > 1 ? html`<details class="switcher"><summary>${site.domain}</summary><ul>${view.switcher.map((s) => html`<li><a href="${s.href}${stateQuery(state)}">${s.domain}</a></li>`)}</ul></details>` : html`<strong class="site">${site.domain}</strong>`}
  <ul class="periods">${PERIODS.map(([p, name]) => html`<li><a href="${base}${stateQuery({ ...state, period: p, from: null, to: null })}"${state.period === p ? html` aria-current="page"` : ''}>${name}</a></li>`)}</ul>
  <form class="custom" method="get" action="${base}"><label>From <input type="date" name="from" value="${state.from ?? ''}" required></label>
  <label>to <input type="date" name="to" value="${state.to ?? ''}" required></label>
  ${state.filters.map(([d, v]) => html`<input type="hidden" name="f" value="${d}:${v}">`)}${state.compare ? html`<input type="hidden" name="compare" value="previous_period">` : ''}${state.funnel ? html`<input type="hidden" name="funnel" value="${state.funnel}">` : ''}<button type="submit">Show</button></form>
  <a class="compare" href="${base}${stateQuery({ ...state, compare: !state.compare })}">${state.compare ? 'Hide comparison' : 'Compare with previous period'}</a>
  ${view.user ? html`<a class="privacy" href="${base}/privacy">Privacy</a>` : html`<span class="muted">Read-only shared view</span>`}
  ${view.owner ? html`<a class="settings" href="${base}/settings">Settings</a>` : ''}
</nav>
${state.filters.length ? html`<ul class="chips" aria-label="Filters">${state.filters.map(([d, v], i) => html`<li><span>${d.replace(/^(visit|event):/, '')} is ${shownValue(d, v, locale)}</span> <a href="${base}${stateQuery(withoutFilter(state, i))}" aria-label="Remove filter ${d} is ${valueText(d, v, locale)}">×</a></li>`)}</ul>` : ''}
<section class="topline" aria-label="Summary">
  <div class="stat"><span class="name">Current visitors</span><span class="value" data-metric="realtime">${formatMetric('visitors', realtime?.results[0]?.metrics[0] ?? 0)}</span></div>
  ${TOP.map(([m, name], i) => html`<div class="stat"><span class="name">${name}</span><span class="value" data-metric="${m}">${formatMetric(m, topRow?.metrics[i] ?? null)}</span>${state.compare ? delta(m, topRow?.comparison?.change[i]) : ''}</div>`)}
</section>
${importedNote([top, chart, ...results])}
${top === null ? html`<p class="notice">Fewer than ${site.minVisitors} visitors match these filters (or are left out by them): the numbers are hidden so that no one can be singled out.</p>` : ''}
<section class="chart-box" aria-label="Visitors over time">${lineChart(points, 'visitors')}
<details><summary>Show as a table</summary><table><thead><tr><th scope="col">Time</th><th scope="col" class="num">Visitors</th><th scope="col" class="num">Page views</th></tr></thead>
<tbody>${labels.map((l) => html`<tr><td>${l}</td><td class="num">${formatMetric('visitors', byLabel.get(l)?.metrics[0] ?? 0)}</td><td class="num">${formatMetric('pageviews', byLabel.get(l)?.metrics[1] ?? 0)}</td></tr>`)}</tbody></table></details></section>
${countries ? html`<section class="map-box" aria-label="Map of countries">${raw(worldMap(
    countries.results.map((r) => [r.dimensions[0], r.metrics[0] ?? 0]),
    {
      title: 'Visitors by country (the Countries table below has the same numbers)',
      href: (code) => `${base}${stateQuery(withFilter(state, 'visit:country', code))}`,
      tip: (code, v) => `${countryText(code, locale)}: ${formatMetric('visitors', v)} visitors`,
    },
  ))}</section>` : ''}
${funnel}
<div class="panels">${panels.map((p, i) => panel(p, results[i], state, base, locale))}</div>`;
  return respond(c, 200, page(site.domain, body, view.user ? { user: view.user.email, csrf: view.user.csrf } : {}));
}

export function dashboardRoutes(app: Hono, deps: DashboardDeps): void {
  app.get('/sites/:domain', async (c: Context) => {
    const me = currentUser(c, deps);
    if (!me) return toLogin(c, deps);
    const site = deps.siteByDomain(c.req.param('domain') ?? '');
    const role = site ? deps.users.roleOn(me.user, site.id) : null;
    // A site the account may not see answers like one that does not exist.
    if (!site || !role) {
      return respond(c, 404, page('Not found', html`<section class="card"><h1>No such site</h1><p><a href="/">Your sites</a></p></section>`, { user: me.user.email, csrf: me.session.csrf }));
    }
    return renderDashboard(c, deps, site, {
      base: `/sites/${encodeURIComponent(site.domain)}`,
      switcher: deps.users.sitesFor(me.user).map((s) => ({ domain: s.domain, href: `/sites/${encodeURIComponent(s.domain)}` })),
      user: { email: me.user.email, csrf: me.session.csrf },
      owner: role === 'owner',
    });
  });
}
