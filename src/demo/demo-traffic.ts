// Synthetic but realistic traffic for `hush demo`: a month of visits with a weekly rhythm
// (weekends at ~60 %), a daytime peak in the site's zone, a slow upward trend, a few dozen
// pages with a long tail, and browser/OS/country/referrer mixes in the proportions public
// web statistics show. Every hit goes through the real pipeline (truncation, country lookup,
// hashing), so the demo data looks exactly like collected data.
import type { EventInput } from '../collector/payload.ts';
import type { CountryTables } from '../pseudonymize/country.ts';
import { lookupCountry } from '../pseudonymize/country.ts';
import { truncateIp } from '../pseudonymize/truncate.ts';
import { dayStart, localDayNumber } from '../reports/time-zone.ts';
import { mulberry32 } from './random.ts';

export interface DemoHit {
  ev: EventInput;
  ip: string;
  userAgent: string;
  ts: number;
}

type Weighted<T> = Array<[T, number]>;

const AGENTS: Weighted<{ ua: string; width: number }> = [
  [{ ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', width: 1920 }, 28],
  [{ ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', width: 1440 }, 11],
  [{ ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', width: 1512 }, 8],
  [{ ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', width: 393 }, 18],
  [{ ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', width: 412 }, 14],
  [{ ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', width: 1366 }, 6],
  [{ ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', width: 1536 }, 6],
  [{ ua: 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', width: 384 }, 3],
  [{ ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', width: 1920 }, 2],
  [{ ua: 'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', width: 820 }, 4],
];

const COUNTRIES: Weighted<[string, string]> = [
  [['US', 'en-US'], 28], [['DE', 'de-DE'], 11], [['GB', 'en-GB'], 8], [['FR', 'fr-FR'], 6], [['IN', 'en-IN'], 6],
  [['CA', 'en-CA'], 4], [['NL', 'nl-NL'], 4], [['BR', 'pt-BR'], 4], [['JP', 'ja-JP'], 3], [['ES', 'es-ES'], 3],
  [['IT', 'it-IT'], 3], [['SE', 'sv-SE'], 2], [['PL', 'pl-PL'], 2], [['AU', 'en-AU'], 2], [['FI', 'fi-FI'], 1],
  [['CH', 'de-CH'], 1], [['AT', 'de-AT'], 1], [['MX', 'es-MX'], 1],
];

const REFERRERS: Weighted<{ referrer?: string; utm?: string }> = [
  [{}, 38], [{ referrer: 'https://www.google.com/' }, 30], [{ referrer: 'https://duckduckgo.com/' }, 4],
  [{ referrer: 'https://www.bing.com/' }, 3], [{ referrer: 'https://t.co/x1' }, 4], [{ referrer: 'https://news.ycombinator.com/item?id=1' }, 4],
  [{ referrer: 'https://www.reddit.com/r/selfhosted/' }, 3], [{ referrer: 'https://github.com/awesome/list' }, 4],
  [{ referrer: 'https://www.linkedin.com/' }, 2], [{ utm: 'utm_source=newsletter&utm_medium=email&utm_campaign=november' }, 4],
  [{ utm: 'utm_source=twitter&utm_medium=social&utm_campaign=launch' }, 2], [{ referrer: 'https://blog.example.org/review' }, 2],
];

const PAGES: Weighted<string> = [
  ['/', 30], ['/pricing', 9], ['/features', 7], ['/docs', 7], ['/blog', 6], ['/about', 3], ['/contact', 2], ['/signup', 4], ['/login', 3],
  ...['getting-started', 'install', 'configuration', 'api', 'import', 'privacy', 'faq', 'upgrade'].map((p, i): [string, number] => [`/docs/${p}`, 6 / (i + 1)]),
  ...['cookieless-analytics', 'gdpr-guide', 'self-hosting', 'k-anonymity', 'access-logs', 'release-1-0', 'benchmarks', 'why-sqlite', 'dashboards', 'privacy-policy-template'].map((p, i): [string, number] => [`/blog/${p}`, 5 / (i + 1)]),
];

const HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3.5, 4.5, 5, 5, 4.6, 4.8, 5, 4.8, 4.4, 4, 3.6, 3.4, 3, 2.6, 2, 1.4];


function picker<T>(r: () => number, items: Weighted<T>): () => T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  return () => {
    let x = r() * total;
    for (const [v, w] of items) if ((x -= w) < 0) return v;
    return items[items.length - 1][0];
  };
}

/** Random public IPv4 addresses per country, drawn from the country database's own ranges. */
function addressBook(r: () => number, t: CountryTables): (code: string) => string {
  const byCode = new Map<string, number[]>();
  t.v4Code.forEach((c, i) => {
    const code = t.codes[c];
    if (!byCode.has(code)) byCode.set(code, []);
    byCode.get(code)!.push(i);
  });
  return (code) => {
    const ranges = byCode.get(code) ?? byCode.get('US')!;
    for (;;) {
      const i = ranges[Math.floor(r() * ranges.length)];
      const n = t.v4Start[i] + Math.floor(r() * (t.v4End[i] - t.v4Start[i] + 1));
      const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      const prefix = truncateIp(ip, 'default');
      if (prefix && lookupCountry(t, prefix) === code) return ip;
    }
  }
}

export interface DemoOptions {
  domain: string;
  timezone: string;
  days: number;
  /** Visits on an average weekday at the end of the period. */
  visitsPerDay: number;
  /** The generated period ends at this instant. */
  end: number;
  seed?: number;
}

/** The demo's hits in time order. */
export function demoHits(opts: DemoOptions, countries: CountryTables): DemoHit[] {
  const r = mulberry32(opts.seed ?? 20261121);
  const agent = picker(r, AGENTS), country = picker(r, COUNTRIES), ref = picker(r, REFERRERS), page = picker(r, PAGES);
  const address = addressBook(r, countries);
  const hourTotal = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  const hits: DemoHit[] = [];
  const today = localDayNumber(opts.end, opts.timezone);
  const start = dayStart(today - opts.days + 1, opts.timezone);
  for (let d = 0; d < opts.days; d++) {
    const day = today - opts.days + 1 + d;
    const midnight = dayStart(day, opts.timezone);
    const dow = new Date(day * 86_400_000).getUTCDay();
    const weekly = dow === 0 || dow === 6 ? 0.6 : 1;
    const trend = 0.75 + 0.25 * (d / Math.max(1, opts.days - 1));
    const n = Math.round(opts.visitsPerDay * weekly * trend * (0.85 + r() * 0.3));
    for (let v = 0; v < n; v++) {
      // The local hour follows the daily curve.
      let x = r() * hourTotal, hour = 0;
      while ((x -= HOUR_WEIGHTS[hour]) > 0 && hour < 23) hour++;
      let t = midnight + hour * 3_600_000 + Math.floor(r() * 3_600_000);
      if (t > opts.end - 600_000) continue;
      const a = agent(), [cc, lang] = country(), from = ref();
      const ip = address(cc);
      const pages = 1 + Math.floor(-Math.log(1 - r()) * 1.6);
      let path = from.referrer?.includes('google') && r() < 0.4 ? page() : (r() < 0.55 ? '/' : page());
      for (let p = 0; p < pages && t < opts.end; p++) {
        const url = `https://${opts.domain}${path}${p === 0 && from.utm ? `?${from.utm}` : ''}`;
        const missing = r() < 0.01;
        hits.push({ ip, userAgent: a.ua, ts: t, ev: event('pageview', missing ? `https://${opts.domain}/old-page` : url, opts.domain, {
          referrer: p === 0 ? from.referrer ?? null : null, screenWidth: a.width, language: lang,
          bytes: 15_000 + Math.floor(r() * 250_000), status: missing ? 404 : 200, loadMs: 150 + Math.floor(-Math.log(1 - r()) * 700),
        }) });
        if (path === '/signup' && r() < 0.35) hits.push({ ip, userAgent: a.ua, ts: t + 20_000, ev: event('Signup', url, opts.domain, { props: { plan: r() < 0.7 ? 'free' : 'pro' } }) });
        if (path.startsWith('/docs/') && r() < 0.08) hits.push({ ip, userAgent: a.ua, ts: t + 15_000, ev: event('File Download', url, opts.domain, { props: { url: `https://${opts.domain}/files/hush-guide.pdf` } }) });
        if (r() < 0.04) hits.push({ ip, userAgent: a.ua, ts: t + 10_000, ev: event('Outbound Link: Click', url, opts.domain, { props: { url: 'https://github.com/' } }) });
        const engaged = 4_000 + Math.floor(-Math.log(1 - r()) * 45_000);
        hits.push({ ip, userAgent: a.ua, ts: t + engaged, ev: event('engagement', url, opts.domain, { engagementMs: engaged }) });
        t += engaged + 2_000 + Math.floor(r() * 10_000);
        path = page();
      }
    }
  }
  return hits.sort((a, b) => a.ts - b.ts);
}

function event(name: string, url: string, domain: string, extra: Partial<EventInput>): EventInput {
  return {
    name, url, domains: [domain], referrer: null, props: null, revenue: null, interactive: true, hashMode: false,
    screenWidth: null, screenHeight: null, language: null, bytes: null, status: null, loadMs: null, engagementMs: null, ...extra,
  };
}
