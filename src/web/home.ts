// The signed-in home page: the sites this account may see, with its role on each; an account
// with exactly one site lands on its dashboard instead (issue 16).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { page } from './layout.ts';
import { currentUser, respond, toLogin, type AuthDeps } from './auth-routes.ts';
import { CSS, CSS_ETAG } from './style.ts';

const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#3554d1"/><path d="M4 12V4h2v3h4V4h2v8h-2V9H6v3z" fill="#fff"/></svg>';

export function homeRoutes(app: Hono, deps: AuthDeps): void {
  app.get('/assets/hush.css', (c) => {
    if (c.req.header('if-none-match') === CSS_ETAG) return c.body(null, 304);
    return c.body(CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', ETag: CSS_ETAG, 'Cache-Control': 'public, max-age=3600' });
  });

  // A plain mark for the tab; also keeps browsers from asking for /favicon.ico.
  app.get('/assets/icon.svg', (c) => c.body(ICON, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }));

  app.get('/', (c) => {
    const me = currentUser(c, deps);
    if (!me) return toLogin(c, deps);
    const sites = deps.users.sitesFor(me.user);
    // A list of one is a click in the way: go straight to that site's dashboard (302, not cached:
    // a second site shared later brings the list back).
    if (sites.length === 1) return c.redirect(`/sites/${encodeURIComponent(sites[0].domain)}`, 302);
    const body = html`<h1>Sites</h1>${sites.length === 0
      ? html`<p class="muted">No site is shared with this account yet. An administrator can add one with
        <code>hush user add ${me.user.email} --site &lt;domain&gt;</code>.</p>`
      : html`<ul class="sites">${sites.map((s) => html`<li><a href="/sites/${encodeURIComponent(s.domain)}"><strong>${s.domain}</strong></a> <span class="muted">${s.role}</span></li>`)}</ul>`}`;
    return respond(c, 200, page('Sites', body, { user: me.user.email, csrf: me.session.csrf }));
  });
}
