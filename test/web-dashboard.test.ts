// Issue 16's first impressions and the map, over the real app and a real SQLite file (no
// browser; test/web-browser.test.ts has Chromium): a one-site account lands on its dashboard;
// country names and flags in the reader's language in panels, chips and map tooltips; pageview
// and engagement stay out of "Custom events"; the map shades only countries with k visitors or
// more (a smaller one is folded into "(other)" and looks like no visitors) within its byte
// budget; the countries CSV keeps the code and adds the name; the two-factor setup shows the
// otpauth:// URI as an SVG QR code, with no script.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import QRCode from 'qrcode';
import { harness, UA, type Harness } from './helpers/harness.ts';
import { QUIET } from '../src/web/qr.ts';
import { mapShapes } from '../src/web/world-map.ts';

let h: Harness, b: Client;
const PASSWORD = 'correct horse battery';
const MAP_BUDGET = 150_000; // bytes of the map's SVG, with every country shaded

/** A browser's cookie jar over app.request. */
class Client {
  cookies = new Map<string, string>();
  async go(path: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const r = await h.core.app.request(path, { method: init.form ? 'POST' : 'GET', headers, body }, { peer: '198.51.100.7' });
    for (const c of r.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      if (v) this.cookies.set(k, v);
      else this.cookies.delete(k);
    }
    return r;
  }
  async csrf(path: string): Promise<string> {
    return /name="csrf" value="([^"]+)"/.exec(await (await this.go(path)).text())![1];
  }
  async text(path: string, lang?: string): Promise<string> {
    const r = await this.go(path, lang ? { headers: { 'Accept-Language': lang } } : {});
    assert.is(r.status, 200, path);
    return r.text();
  }
}

async function admin(): Promise<Client> {
  const b = new Client();
  const csrf = await b.csrf('/setup');
  const r = await b.go('/setup', { form: { csrf, email: 'admin@example.com', password: PASSWORD, password2: PASSWORD } });
  assert.is(r.status, 303);
  return b;
}

// Three visitors from Germany (k = 3), one from Finland: DE is a row, FI folds into "(other)".
const AGENTS = [UA.firefox, UA.iphone, UA.chromeMac];
async function traffic(): Promise<void> {
  const send = async (body: Record<string, unknown>, ip: string, ua: string) => {
    const r = await h.post({ domain: 'example.com', url: 'https://example.com/', ...body }, { ip, ua });
    assert.is(r.status, 202, JSON.stringify(body));
  };
  for (const ua of AGENTS) {
    await send({ name: 'pageview' }, '46.4.0.1', ua);
    await send({ name: 'Signup', props: { plan: 'pro' } }, '46.4.0.1', ua);
    await send({ name: 'engagement', engagement_ms: 4000 }, '46.4.0.1', ua);
  }
  await send({ name: 'pageview' }, '193.166.3.1', UA.firefox);
  h.clock.now += 60_000;
}

/** The section of a page with this aria-label. */
const section = (page: string, label: string) => {
  const at = page.indexOf(`aria-label="${label}"`);
  assert.ok(at >= 0, `the page has a section "${label}"`);
  return page.slice(at, page.indexOf('</section>', at));
};

// One database for the file (the tests run in order): one site and its traffic, then a second site.
const s = suite('web: first impressions');
s.before(async () => {
  h = await harness();
  h.core.sites.add({ domain: 'example.com' });
  h.core.directory.refresh();
  await traffic();
  b = await admin();
});
s.after(() => h.close());

s('an account with one site lands on its dashboard; with two it sees the list', async () => {
  let r = await b.go('/');
  assert.equal([r.status, r.headers.get('location')], [302, '/sites/example.com']);
  h.core.sites.add({ domain: 'other.org' });
  r = await b.go('/');
  assert.is(r.status, 200);
  const page = await r.text();
  assert.match(page, /<ul class="sites">.*example\.com.*other\.org/s);
});

s('country names and flags in the reader\'s language; codes stay in links; events panel without pageview/engagement', async () => {
  const de = await b.text('/sites/example.com', 'de-DE,de;q=0.9,en;q=0.5');
  const countries = section(de, 'Countries');
  assert.match(countries, /<a href="\/sites\/example\.com\?f=visit%3Acountry%3ADE"><span aria-hidden="true">🇩🇪<\/span> <span lang="de[^"]*">Deutschland<\/span><\/a>/);
  assert.not.match(countries, /Finnland|FI\b/, 'one Finnish visitor is below k: folded into (other)');
  assert.match(countries, /\(other\)/);
  // Finnish, and an unknown language falls back to English.
  assert.match(section(await b.text('/sites/example.com', 'fi'), 'Countries'), />Saksa</);
  assert.match(section(await b.text('/sites/example.com', 'xx-YY, *'), 'Countries'), />Germany</);
  assert.match(section(await b.text('/sites/example.com'), 'Countries'), />Germany</);

  // The chip of a country filter; the URL keeps the code.
  const filtered = await b.text('/sites/example.com?f=visit:country:DE', 'fi-FI');
  assert.match(section(filtered, 'Filters'), /country is <span aria-hidden="true">🇩🇪<\/span> <span lang="fi[^"]*">Saksa<\/span>/);
  assert.match(section(filtered, 'Filters'), /aria-label="Remove filter visit:country is 🇩🇪 Saksa"/);

  // Custom events: Signup, and neither pageview nor engagement.
  const events = section(de, 'Custom events');
  assert.match(events, />Signup<\/a>/);
  assert.not.match(events, /pageview|engagement/);
});

s('the countries CSV keeps the code first and adds the English name last', async () => {
  const key = h.core.apiKeys.create(h.core.sites.byDomain('example.com')!.id);
  const r = await h.core.app.request('/api/v2/export?site_id=example.com&dimension=visit:country&date_range=30d', { headers: { Authorization: `Bearer ${key}` } });
  assert.is(r.status, 200);
  const lines = (await r.text()).trim().split('\r\n');
  assert.is(lines[0], 'country,visitors,visits,pageviews,bounce_rate,visit_duration,country_name');
  assert.match(lines[1], /^DE,3,3,.*,Germany$/);
  assert.match(lines[2], /^\(other\),.*,$/, 'no name for (other)');
  assert.is(lines.length, 3);
});

s('the map shades DE (k visitors) with a link and a tooltip, not FI (below k); within its byte budget', async () => {
  const page = await b.text('/sites/example.com', 'de');
  const map = /<svg class="map"[^]*?<\/svg>/.exec(page)?.[0];
  assert.ok(map, 'the dashboard has a map');
  assert.match(map, /^<svg class="map"[^>]*role="img" aria-label="Visitors by country[^"]*"><title>Visitors by country/);
  const links = [...map.matchAll(/<a href="([^"]+)"[^>]*data-country="([A-Z]{2})"><title>([^<]+)<\/title><path class="s(\d)"/g)];
  assert.equal(links.map((l) => [l[1], l[2], l[3], l[4]]), [['/sites/example.com?f=visit%3Acountry%3ADE', 'DE', '🇩🇪 Deutschland: 3 visitors', '5']]);
  assert.not.match(map, /data-country="FI"|Finnland/, 'a country below k is drawn like one without visitors');
  // FI's outline is part of the unshaded land.
  const land = /<path class="land" d="([^"]+)"/.exec(map)![1];
  assert.ok(land.includes(mapShapes().paths.get('FI')!), 'Finland is plain land');
  assert.not.ok(land.includes(mapShapes().paths.get('DE')!), 'Germany is not drawn twice');
  assert.ok(Buffer.byteLength(map) < MAP_BUDGET, `${Buffer.byteLength(map)} bytes`);
  // The map's links keep the period and comparison, like the table's.
  const other = await b.text('/sites/example.com?period=7d&compare=previous_period', 'de');
  assert.match(other, /<a href="\/sites\/example\.com\?period=7d&amp;compare=previous_period&amp;f=visit%3Acountry%3ADE" tabindex="-1" data-country="DE">/);
  assert.not.match(page, /<script/i);
});

s('the map stays within budget with every country shaded, and renders in well under a millisecond', async () => {
  const { worldMap } = await import('../src/web/world-map.ts');
  const all = [...mapShapes().paths.keys(), ...mapShapes().dots.keys()].map((c, i) => [c, i + 1] as [string, number]);
  const opts = { title: 'Visitors by country', href: (c: string) => `/sites/example.com?f=visit%3Acountry%3A${c}`, tip: (c: string, v: number) => `${c}: ${v} visitors` };
  const svg = worldMap(all, opts);
  assert.ok(Buffer.byteLength(svg) < MAP_BUDGET, `${Buffer.byteLength(svg)} bytes`);
  assert.ok(all.length > 230, `${all.length} countries on the map`);
  const t = performance.now();
  for (let i = 0; i < 100; i++) worldMap(all, opts);
  const ms = (performance.now() - t) / 100;
  console.log(`map: ${Buffer.byteLength(svg)} bytes with all ${all.length} countries shaded, ${ms.toFixed(2)} ms per render`);
  assert.ok(ms < 20, `${ms} ms per render`);
});

s('countries too small for 1:110m are dots where they have visitors; the dots still match the 1:50m data', async () => {
  const { worldMap, smallCountryCentres } = await import('../src/web/world-map.ts');
  const { SMALL_COUNTRIES } = await import('../src/web/small-countries.ts');
  assert.equal(SMALL_COUNTRIES, smallCountryCentres());
  const opts = { title: 'Visitors by country', href: (c: string) => `?f=visit:country:${c}`, tip: (c: string, v: number) => `${c}: ${v}` };
  const svg = worldMap([['SG', 5], ['HK', 4]], opts);
  assert.match(svg, /data-country="SG"><title>SG: 5<\/title><path class="s5" d="M\d+ \d+a3 3 0 1 0 6 0a3 3 0 1 0-6 0z"\/>/);
  assert.match(svg, /data-country="HK">/);
  assert.not.match(worldMap([], opts), /a3 3/, 'no dots without visitors');
});

s('two-factor setup shows the otpauth:// URI as an SVG QR code, and no script', async () => {
  const csrf = await b.csrf('/account');
  const r = await b.go('/account/totp/start', { form: { csrf } });
  const page = await r.text();
  assert.is(r.status, 200);
  assert.not.match(page, /<script|data:image/i);
  assert.match(r.headers.get('content-security-policy')!, /default-src 'self'/);
  const uri = /data-totp-uri>([^<]+)</.exec(page)![1].replace(/&amp;/g, '&');
  const secret = /data-totp-secret>([A-Z2-7]+)</.exec(page)![1];
  assert.is(uri, `otpauth://totp/Hush:admin%40example.com?secret=${secret}&issuer=Hush`);
  const svg = /<svg class="qr"[^]*?<\/svg>/.exec(page)![0];
  const n = Number(/data-modules="(\d+)"/.exec(svg)![1]);
  // Read the modules back from the path (runs of dark modules) and compare with the URI's code.
  const grid = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const [, x, y, run] of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    for (let i = 0; i < Number(run); i++) grid[Number(y) - QUIET][Number(x) - QUIET + i] = true;
  }
  // The three finder patterns: a dark 7×7 ring, a light ring, a dark 3×3 centre.
  for (const [r0, c0] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 7; x++) {
        const ring = Math.max(Math.abs(y - 3), Math.abs(x - 3));
        assert.is(grid[r0 + y][c0 + x], ring !== 2, `finder at ${r0},${c0}`);
      }
    }
  }
  const expected = QRCode.create(uri, { errorCorrectionLevel: 'M' }).modules;
  assert.is(expected.size, n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) assert.is(grid[y][x], Boolean(expected.get(y, x)), `module ${x},${y}`);
});

s.run();
