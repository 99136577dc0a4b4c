// A realistic benchmark database: N events over 50 sites and 30 days, one site holding a
// quarter of them (as in PERF-NOTES). Visits have 1–6 page views with a long tail, engagement
// reports on most pages and a few custom events; pages, sources, countries and browsers follow
// skewed real-world mixes. Rows go in through prepared statements (the pipeline's cost is
// measured by the ingestion bench), visits included, and the writer's dirty marks are set so
// the rollup builder sees what the writer would have told it.
import { openDb } from '../src/store/db.ts';
import { VisitProfiles } from '../src/store/visit-profiles.ts';
import { mulberry32 as rng } from '../src/demo/random.ts';


/** Zipf-like pick among n items: item i with weight 1/(i+1). */
function zipf(r: () => number, n: number): () => number {
  const cum: number[] = [];
  let s = 0;
  for (let i = 0; i < n; i++) cum.push((s += 1 / (i + 1)));
  return () => {
    const x = r() * s;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
}

const SOURCES: Array<[string | null, string | null, string | null, string]> = [
  [null, null, null, 'direct'], ['google.com', '/', 'Google', 'search'], ['bing.com', '/', 'Bing', 'search'],
  ['duckduckgo.com', '/', 'DuckDuckGo', 'search'], ['t.co', '/x', 'Twitter', 'social'], ['news.ycombinator.com', '/item', 'Hacker News', 'social'],
  ['reddit.com', '/r/webdev/', 'Reddit', 'social'], ['github.com', '/awesome/list', 'GitHub', 'referral'], ['linkedin.com', '/', 'LinkedIn', 'social'],
  ['blog.example.org', '/review', 'blog.example.org', 'referral'],
];
const AGENTS: Array<[string, string, string, string, string, string]> = [
  ['Chrome', '131', 'Windows', '10', 'desktop', 'desktop'], ['Safari', '18', 'iOS', '18', 'mobile', 'mobile'],
  ['Chrome', '131', 'Android', '14', 'mobile', 'mobile'], ['Chrome', '131', 'macOS', '10', 'desktop', 'laptop'],
  ['Safari', '18', 'macOS', '10', 'desktop', 'laptop'], ['Firefox', '133', 'Windows', '10', 'desktop', 'desktop'],
  ['Edge', '131', 'Windows', '10', 'desktop', 'laptop'], ['Samsung Internet', '26', 'Android', '14', 'mobile', 'mobile'],
  ['Firefox', '133', 'Linux', null as unknown as string, 'desktop', 'desktop'], ['Safari', '18', 'iPadOS', '18', 'tablet', 'tablet'],
];
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'IN', 'CA', 'NL', 'BR', 'JP', 'ES', 'IT', 'SE', 'PL', 'AU', 'FI', 'CH', 'AT', 'MX', 'KR', 'NO', null];
const LANGS = ['en-US', 'de-DE', 'en-GB', 'fr-FR', 'en-IN', 'en-CA', 'nl-NL', 'pt-BR', 'ja-JP', 'es-ES', 'it-IT', 'sv-SE', 'pl-PL', 'en-AU', 'fi-FI'];

export interface Filled {
  sites: number;
  bigSiteId: number;
  events: number;
  visits: number;
  seconds: number;
}

/** Fills `file` (a fresh path) with `total` events ending at `end`. */
export function fillReportDb(file: string, total: number, end: number, days = 30): Filled {
  const t0 = performance.now();
  const store = openDb(file, { synchronous: 'OFF' as 'NORMAL' });
  const db = store.sqlite;
  db.pragma('journal_mode = OFF');
  const r = rng(12345);
  const addSite = db.prepare("INSERT INTO sites (domain, timezone, created_at) VALUES (?, ?, 0)");
  const zones = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Tokyo', 'Europe/Helsinki'];
  for (let i = 0; i < 50; i++) addSite.run(`site${i}.example`, zones[i % zones.length]);
  // flags 0: interactive, from the script.
  const ins = db.prepare(`INSERT INTO events (id, site_id, ts, visit_id, name_id, host_id, page_id, bytes, status, load_ms, engagement_ms, props,
    scroll_depth, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`);
  let eventId = 0;
  const insVisit = db.prepare(`INSERT INTO visits (id, site_id, visitor_id, start_ts, duration_ms, entry_page_id, exit_page_id, pageviews,
    bounce, referrer_id, country_id, language_id, platform_id, acquisition_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Platform and acquisition rows as the writer finds or adds them (src/store/visit-profiles.ts).
  const profiles = new VisitProfiles(db);
  // The per-site dictionary, as the writer keeps it.
  const insString = db.prepare('INSERT INTO strings (site_id, value) VALUES (?, ?) RETURNING id').pluck();
  const ids = new Map<string, number>();
  const sid = (site: number, v: unknown): number | null => {
    if (v === null || v === undefined) return null;
    const k = `${site}\u0000${v}`;
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = insString.get(site, v) as number));
    return id;
  };
  const pagesBig = Array.from({ length: 600 }, (_, i) => (i === 0 ? '/' : i < 20 ? `/section-${i}` : `/blog/${i % 37}/post-${i}`));
  const pagesSmall = Array.from({ length: 60 }, (_, i) => (i === 0 ? '/' : `/page-${i}`));
  const pickBig = zipf(r, pagesBig.length), pickSmall = zipf(r, pagesSmall.length);
  const pickSource = zipf(r, SOURCES.length), pickAgent = zipf(r, AGENTS.length), pickCountry = zipf(r, COUNTRIES.length);
  const start = end - days * 86_400_000;
  let events = 0, visitId = 0;
  const hourW = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3.5, 4.5, 5, 5, 4.6, 4.8, 5, 4.8, 4.4, 4, 3.6, 3.4, 3, 2.6, 2, 1.4];
  const hourTot = hourW.reduce((a, b) => a + b, 0);
  // Day by day, and within a day in time order: the order a collector appends rows in.
  const perDay = Math.ceil(total / days);
  type Row = [number, unknown[]];
  const genDay = (day: number): { rows: Row[]; visits: unknown[][] } => {
    const rows: Row[] = [];
    const visits: unknown[][] = [];
    let dayEvents = 0;
    while (dayEvents < perDay && events + dayEvents < total) {
      const big = r() < 0.25;
      const site = big ? 1 : 2 + Math.floor(r() * 49);
      const pages = big ? pagesBig : pagesSmall;
      const pick = big ? pickBig : pickSmall;
      let x = r() * hourTot, hour = 0;
      while ((x -= hourW[hour]) > 0 && hour < 23) hour++;
      let t = start + day * 86_400_000 + hour * 3_600_000 + Math.floor(r() * 3_600_000);
      const src = SOURCES[pickSource()], ag = AGENTS[pickAgent()], ci = pickCountry(), country = COUNTRIES[ci];
      const utm = r() < 0.05 ? ['newsletter', 'email', 'november'] : [null, null, null];
      const lang = LANGS[ci % LANGS.length];
      const visitor = BigInt.asIntN(64, (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32)));
      const id = ++visitId;
      const host = `site${site - 1}.example`;
      const n = 1 + Math.floor(-Math.log(1 - r()) * 1.3);
      const st = t;
      let entry = '', exit = '', custom = 0, engaged = 0;
      const attrs = [src[0], src[1], src[2], src[3], ...utm, country, ag[0], ag[1], ag[2], ag[3], ag[4], lang, ag[5]];
      for (let p = 0; p < n; p++) {
        const path = pages[pick()];
        if (p === 0) entry = path;
        exit = path;
        const status = r() < 0.015 ? 404 : 200;
        rows.push([t, [site, t, id, 'pageview', host, path, 10_000 + Math.floor(r() * 200_000), status, 100 + Math.floor(r() * 2500), null, null, null]]);
        if (r() < 0.06) {
          rows.push([t + 5000, [site, t + 5000, id, r() < 0.5 ? 'Signup' : 'Download', host, path, null, null, null, null, r() < 0.5 ? '{"plan":"pro"}' : '{"plan":"free"}', null]]);
          custom++;
        }
        if (r() < 0.7) {
          const e = 3000 + Math.floor(r() * 90_000);
          engaged += e;
          // Scroll depth as Plausible's tracker sends it, deeper the longer the page was seen (from
          // the engaged time: no number drawn, so the rest of the data is what it was without it).
          rows.push([t + e, [site, t + e, id, 'engagement', host, path, null, null, null, e, null, Math.min(100, 5 + Math.floor(e / 900))]]);
          t += e;
        }
        t += 5000 + Math.floor(r() * 60_000);
      }
      dayEvents = rows.length;
      visits.push([id, site, visitor, st, t, entry, exit, host, n, custom, n === 1 && custom === 0 ? 1 : 0, engaged, ...attrs]);
    }
    rows.sort((a, b) => a[0] - b[0]);
    return { rows, visits };
  };
  const write = db.transaction((rows: Row[], visits: unknown[][]) => {
    for (const [, e] of rows) {
      const site = e[0] as number;
      ins.run(++eventId, site, e[1], e[2], sid(site, e[3]), sid(site, e[4]), sid(site, e[5]), ...e.slice(6));
    }
    for (const v of visits) {
      const site = v[1] as number;
      // attrs: referrer host, path, source, channel, 3 utm, country, browser, version, os, version, device, language, screen
      const a = v.slice(12);
      const referrer = a[0] === null ? null : `${a[0]}${a[1] ?? ''}`;
      const [source, channel, utmSource, utmMedium, utmCampaign, country, browser, browserVersion, os, osVersion, device, language, screen] =
        a.slice(2).map((x) => sid(site, x));
      const platform = profiles.platforms.id(site, [browser, browserVersion, os, osVersion, device, screen]);
      const acquisition = profiles.acquisitions.id(site, [source, channel, utmSource, utmMedium, utmCampaign, null, null]);
      // [id, site, visitor, start, end, entry, exit, host, pageviews, custom events, bounce, engaged ms]: host, custom events and
      // engaged time are what the visit's events say, not stored on the visit.
      insVisit.run(v[0], site, v[2], v[3], (v[4] as number) - (v[3] as number), sid(site, v[5]), sid(site, v[6]), v[8], v[10],
        sid(site, referrer), country, language, platform, acquisition);
    }
  });
  for (let day = 0; day < days && events < total; day++) {
    const { rows, visits } = genDay(day);
    write(rows, visits);
    events += rows.length;
  }
  db.prepare("UPDATE sequences SET value = ? WHERE name = 'events'").run(eventId);
  db.prepare("UPDATE sequences SET value = ? WHERE name = 'visits'").run(visitId);
  db.exec(`INSERT INTO rollup_dirty (site_id, hour, gen) SELECT DISTINCT site_id, ts / 3600000, 1 FROM events WHERE true ON CONFLICT DO NOTHING`);
  store.close();
  return { sites: 50, bigSiteId: 1, events, visits: visitId, seconds: (performance.now() - t0) / 1000 };
}
