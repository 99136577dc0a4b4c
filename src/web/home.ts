// The signed-in home page: the sites this account may see, with its role on each.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { page } from './layout.ts';
import { currentUser, respond, type AuthDeps } from './auth-routes.ts';
import { CSS, CSS_ETAG } from './style.ts';

export function homeRoutes(app: Hono, deps: AuthDeps): void {
  app.get('/assets/hush.css', (c) => {
    if (c.req.header('if-none-match') === CSS_ETAG) return c.body(null, 304);
    return c.body(CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', ETag: CSS_ETAG, 'Cache-Control': 'public, max-age=3600' });
  });

  app.get('/', (c) => {
    const me = currentUser(c, deps);
    if (!me) return c.redirect(deps.users.count() === 0 ? '/setup' : '/login', 303);
    const sites = deps.users.sitesFor(me.user);
    const body = html`<h1>Sites</h1>${sites.length === 0
      ? html`<p class="muted">No site is shared with this account yet. An administrator can add one with
        <code>hush user add ${me.user.email} --site &lt;domain&gt;</code>.</p>`
      : html`<ul class="sites">${sites.map((s) => html`<li><strong>${s.domain}</strong> <span class="muted">${s.role}</span></li>`)}</ul>`}`;
    return respond(c, 200, page('Sites', body, { user: me.user.email, csrf: me.session.csrf }));
  });
}
