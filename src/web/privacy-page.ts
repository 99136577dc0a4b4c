// The privacy page of a site, for anyone who may see it: what is stored and for how long, the IP
// precision, the visitor-hash scheme, k, and how old the current daily key is — the same facts
// GET /api/privacy serves, plus the ready-to-paste policy text.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { page } from './layout.ts';
import { currentUser, respond, toLogin, type AuthDeps } from './auth-routes.ts';
import type { Site } from '../store/sites.ts';
import { privacyDocument, privacyMarkdown } from '../privacy/document.ts';
import { INVENTORY } from '../privacy/inventory.ts';
import type { Precision } from '../pseudonymize/truncate.ts';

export interface PrivacyPageDeps extends AuthDeps {
  siteByDomain: (domain: string) => Site | undefined;
  precision: Precision;
  kFloor: number;
  /** When the site's current daily key was created (null before the first hit of the day; on Node one key ring serves every site). */
  keyCreatedAt: (siteId: number) => number | null | Promise<number | null>;
}

const hours = (ms: number) => (ms < 3_600_000 ? `${Math.round(ms / 60_000)} minutes` : `${(ms / 3_600_000).toFixed(1)} hours`);

export function privacyRoutes(app: Hono, deps: PrivacyPageDeps): void {
  app.get('/sites/:domain/privacy', async (c) => {
    const me = currentUser(c, deps);
    if (!me) return toLogin(c, deps);
    const site = deps.siteByDomain(c.req.param('domain') ?? '');
    if (!site || !deps.users.roleOn(me.user, site.id)) {
      return respond(c, 404, page('Not found', html`<section class="card"><h1>No such site</h1></section>`, { user: me.user.email, csrf: me.session.csrf }));
    }
    const doc = privacyDocument(deps.precision, deps.kFloor, [site]) as {
      ip_addresses: { truncated_to: { ipv4: string; ipv6: string } }; visitor_hash: { scheme: string; key_lifetime: string };
    };
    const created = await deps.keyCreatedAt(site.id);
    const fields = (table: 'events' | 'visits') => Object.entries(INVENTORY[table]).map(([col, f]) => html`<tr><td><code>${col}</code></td><td>${f.what}</td><td>${f.purpose}</td></tr>`);
    const body = html`<p><a href="/sites/${encodeURIComponent(site.domain)}">← ${site.domain} dashboard</a></p>
<h1>Privacy of ${site.domain}</h1>
<section class="card wide"><h2>The facts</h2><dl class="facts">
<dt>IP addresses</dt><dd>never stored; truncated to ${doc.ip_addresses.truncated_to.ipv4} (IPv4) and ${doc.ip_addresses.truncated_to.ipv6} (IPv6) on arrival (precision: ${deps.precision})</dd>
<dt>Visitor number</dt><dd>${doc.visitor_hash.scheme}</dd>
<dt>Daily key</dt><dd>${doc.visitor_hash.key_lifetime}. The current key is ${created === null ? 'not created yet today' : html`<span data-key-age>${hours(Date.now() - created)}</span> old`}.</dd>
<dt>k (min_visitors)</dt><dd>${site.minVisitors}: report rows describing fewer visitors are folded into "(other)"</dd>
<dt>Retention</dt><dd>${site.retentionDays} days, enforced by the server every hour</dd>
<dt>Cookies</dt><dd>none on the website; the dashboard uses one session cookie</dd></dl></section>
<section class="card wide"><h2>What is stored per page view and per visit</h2>
<table><thead><tr><th scope="col">Field</th><th scope="col">What</th><th scope="col">Why</th></tr></thead><tbody>${fields('events')}${fields('visits')}</tbody></table>
<p class="muted">Every stored field is declared; <code>hush audit</code> fails on anything undeclared. The full inventory is public at <a href="/api/privacy">/api/privacy</a>.</p></section>
<section class="card wide"><h2>Text for your privacy policy</h2><pre>${privacyMarkdown(deps.precision, site)}</pre></section>`;
    return respond(c, 200, page(`Privacy · ${site.domain}`, body, { user: me.user.email, csrf: me.session.csrf }));
  });
}
