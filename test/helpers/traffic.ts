// Synthetic traffic for report tests: planned visits are played through the real app (POST
// /api/event with the clock moved to each hit), and the same plan gives an independent model
// of what every report must say, computed here in plain JS from what was sent.
import type { Harness } from './harness.ts';
import { lookupCountry } from '../../src/pseudonymize/country.ts';
import { truncateIp } from '../../src/pseudonymize/truncate.ts';
import { loadCountryTables } from '../../src/pseudonymize/country-data.ts';
import { localDayNumber } from '../../src/reports/time-zone.ts';
import { acquisition } from '../../src/collector/referrer.ts';
import { mulberry32 } from '../../src/demo/random.ts';

export const rng = mulberry32;

/** User-agents with the families ua-parser-js 1.0 reports for them. */
export const AGENTS = [
  { ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0', browser: 'Firefox', os: 'Windows', device: 'desktop' },
  { ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1', browser: 'Safari', os: 'iOS', device: 'mobile' },
  { ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', browser: 'Chrome', os: 'macOS', device: 'desktop' },
];

/** Addresses in networks whose country the bundled database knows. */
export const IPS = ['8.8.8.8', '8.8.4.4', '9.9.9.9', '1.1.1.1', '81.2.69.160', '2.16.2.1', '5.255.255.5', '31.13.64.1', '46.4.0.1', '77.88.8.8', '80.80.80.80', '185.60.216.35'];

export interface PlannedPage {
  path: string;
  /** ms after the previous hit of the visit. */
  after: number;
  bytes?: number;
  status?: number;
  load?: number;
  /** Engagement reported when leaving the page (ms visible). */
  engaged?: number;
  /** Scroll depth (`sd`, percent) sent with that engagement report. */
  scroll?: number;
}

export interface PlannedVisit {
  ip: string;
  agent: number;
  start: number;
  pages: PlannedPage[];
  /** Custom events after page index `at`. */
  events?: Array<{ at: number; name: string; props?: Record<string, string>; interactive?: boolean }>;
  referrer?: string;
  utm?: Record<string, string>;
  language?: string;
  width?: number;
  host?: string;
}

/** One stored event as the model sees it. */
export interface ModelEvent {
  ts: number;
  day: number;
  visitor: string;
  visit: number;
  name: string;
  page: string;
  host: string;
  bytes: number | null;
  status: number | null;
  load: number | null;
  engaged: number | null;
  /** Scroll depth of an engagement report, as stored (null: none sent). */
  scroll?: number | null;
  props: Record<string, string>;
  attrs: Record<string, string | null>;
}

export interface ModelVisit {
  id: number;
  entry: string;
  exit: string;
  bounce: boolean;
  durationMs: number;
  pageviews: number;
}


const screenOf = (w: number) => (w < 576 ? 'mobile' : w < 992 ? 'tablet' : w < 1440 ? 'laptop' : 'desktop');

export class Model {
  events: ModelEvent[] = [];
  visits = new Map<number, ModelVisit>();
  constructor(readonly tz: string) {}
}

/**
 * Plays the visits through the app in time order and returns the model. Visits of one visitor
 * must be more than 30 minutes apart and must not cross UTC midnight (the key's day).
 */
export async function play(h: Harness, domain: string, tz: string, plan: PlannedVisit[]): Promise<Model> {
  const countries = await loadCountryTables();
  const model = new Model(tz);
  const hits: Array<{ ts: number; ip: string; ua: string; body: Record<string, unknown>; ev: ModelEvent | null }> = [];
  plan.forEach((v, id) => {
    const agent = AGENTS[v.agent];
    const prefix = v.ip.split('.').slice(0, 3).join('.');
    const host = v.host ?? domain;
    const acq = acquisition(v.referrer ?? null, host, {
      source: v.utm?.utm_source ?? null, medium: v.utm?.utm_medium ?? null, campaign: v.utm?.utm_campaign ?? null,
      content: v.utm?.utm_content ?? null, term: v.utm?.utm_term ?? null,
    }, null);
    const attrs: Record<string, string | null> = {
      source: acq.source ?? 'Direct / None', channel: acq.channel,
      referrer: acq.referrerHost === null ? null : acq.referrerHost + (acq.referrerPath ?? ''),
      country: lookupCountry(countries, truncateIp(v.ip, 'default')!) ?? null,
      browser: agent.browser, os: agent.os, device: agent.device,
      language: v.language ?? null, screen: v.width ? screenOf(v.width) : null,
      utm_source: v.utm?.utm_source ?? null, utm_medium: v.utm?.utm_medium ?? null, utm_campaign: v.utm?.utm_campaign ?? null,
      utm_content: v.utm?.utm_content ?? null, utm_term: v.utm?.utm_term ?? null,
    };
    const qs = v.utm ? `?${new URLSearchParams(v.utm)}` : '';
    let t = v.start;
    let last = t;
    const mv: ModelVisit = { id, entry: v.pages[0].path, exit: v.pages[0].path, bounce: true, durationMs: 0, pageviews: 0 };
    model.visits.set(id, mv);
    const add = (ts: number, body: Record<string, unknown>, ev: Omit<ModelEvent, 'ts' | 'day' | 'visitor' | 'visit' | 'host' | 'attrs'>) => {
      const me: ModelEvent = { ...ev, ts, day: localDayNumber(ts, tz), visitor: `${prefix}|${v.agent}|${Math.floor(v.start / 86_400_000)}`, visit: id, host, attrs };
      model.events.push(me);
      hits.push({ ts, ip: v.ip, ua: agent.ua, body, ev: me });
      last = Math.max(last, ts);
    };
    v.pages.forEach((p, i) => {
      t += p.after;
      const url = `https://${host}${p.path}${i === 0 ? qs : ''}`;
      add(t, {
        n: 'pageview', u: url, d: domain, r: i === 0 ? v.referrer : undefined, sw: v.width, l: v.language,
        b: p.bytes, s: p.status, lt: p.load,
      }, { name: 'pageview', page: p.path, bytes: p.bytes ?? null, status: p.status ?? null, load: p.load ?? null, engaged: null, props: {} });
      mv.pageviews++;
      mv.exit = p.path;
      for (const e of v.events ?? []) {
        if (e.at !== i) continue;
        t += 1000;
        add(t, { n: e.name, u: `https://${host}${p.path}`, d: domain, p: e.props, i: e.interactive }, {
          name: e.name, page: p.path, bytes: null, status: null, load: null, engaged: null, props: e.props ?? {},
        });
        if (e.interactive !== false) mv.bounce = false;
      }
      if (p.engaged) {
        t += p.engaged;
        add(t, { n: 'engagement', u: `https://${host}${p.path}`, d: domain, e: p.engaged, sd: p.scroll }, {
          name: 'engagement', page: p.path, bytes: null, status: null, load: null, engaged: p.engaged, scroll: p.scroll ?? null, props: {},
        });
      }
    });
    if (mv.pageviews > 1) mv.bounce = false;
    mv.durationMs = last - v.start - v.pages[0].after;
  });
  hits.sort((a, b) => a.ts - b.ts);
  for (const hit of hits) {
    h.clock.now = hit.ts;
    const r = await h.post(hit.body, { ip: hit.ip, ua: hit.ua });
    if (r.status !== 202 || r.headers.get('x-hush-dropped')) throw new Error(`hit not stored: ${r.status} ${r.headers.get('x-hush-dropped')}`);
  }
  return model;
}

/** Random visits over `days` local days ending at `lastDay` (a Date.UTC at local noon-ish). */
export function randomPlan(seed: number, n: number, firstMs: number, days: number): PlannedVisit[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const pages = ['/', '/pricing', '/docs', '/docs/api', '/blog/a', '/blog/b', '/about'];
  const refs = [undefined, 'https://www.google.com/search?q=x', 'https://news.ycombinator.com/item?id=1', 'https://t.co/abc', 'https://example.org/links'];
  const plan: PlannedVisit[] = [];
  for (let i = 0; i < n; i++) {
    const day = Math.floor(r() * days);
    // Between 06:00 and 18:00 UTC: no visit crosses UTC midnight.
    const start = firstMs + day * 86_400_000 + Math.floor((6 + r() * 11) * 3_600_000);
    const np = 1 + Math.floor(r() * 4);
    plan.push({
      ip: pick(IPS), agent: Math.floor(r() * AGENTS.length), start,
      pages: Array.from({ length: np }, (_, j) => ({
        path: pick(pages), after: j === 0 ? 0 : 20_000 + Math.floor(r() * 120_000),
        bytes: r() < 0.8 ? 1000 + Math.floor(r() * 50_000) : undefined,
        status: r() < 0.1 ? 404 : 200,
        load: r() < 0.7 ? 50 + Math.floor(r() * 2000) : undefined,
        engaged: r() < 0.6 ? 1000 + Math.floor(r() * 60_000) : undefined,
      })),
      events: r() < 0.3 ? [{ at: 0, name: pick(['Signup', 'Download', 'Outbound Link: Click']), props: { plan: pick(['free', 'pro']) } }] : undefined,
      referrer: pick(refs),
      utm: r() < 0.2 ? {
        utm_source: pick(['newsletter', 'twitter']), utm_medium: pick(['email', 'social']), utm_campaign: 'launch',
        ...(r() < 0.5 ? { utm_content: pick(['banner', 'link']), utm_term: pick(['analytics', 'privacy']) } : {}),
      } : undefined,
      language: pick(['en-US', 'fi-FI', 'de-DE', undefined]),
      width: pick([390, 800, 1280, 1920, undefined]),
    });
  }
  // Scroll depth on most engagement reports, 0–100, derived from the engaged time so that the
  // generator draws no more numbers (the plans of every existing seed stay the same).
  for (const v of plan) for (const p of v.pages) if (p.engaged && p.engaged % 7 !== 0) p.scroll = p.engaged % 101;
  // One visitor (address + agent) a day keeps one visit: later ones start over 30 min apart.
  plan.sort((a, b) => a.start - b.start);
  const lastEnd = new Map<string, number>();
  for (const v of plan) {
    const key = `${v.ip.split('.').slice(0, 3).join('.')}|${v.agent}|${Math.floor(v.start / 86_400_000)}`;
    const duration = v.pages.reduce((s, p) => s + p.after + (p.engaged ?? 0) + 1000, 0) + 2000;
    const prev = lastEnd.get(key);
    if (prev !== undefined && v.start < prev + 31 * 60_000) v.start = prev + 31 * 60_000;
    lastEnd.set(key, v.start + duration);
  }
  return plan.filter((v) => v.start % 86_400_000 < 20 * 3_600_000);
}
