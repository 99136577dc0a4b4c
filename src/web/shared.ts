// Shared links: /share/<token> shows one site's dashboard read-only, to anyone with the link —
// after its password, if it has one. Nothing under /share can change anything: the only form is
// the password's. Wrong passwords are limited like logins (per network and per link): each
// check is reserved before the hash, so a parallel burst gets no more guesses (issue 12).
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { getCookie, setCookie } from 'hono/cookie';
import { page } from './layout.ts';
import { crossSite, formSecret, reserveCheck, respond, same, secure, FORM_COOKIE, type AuthDeps } from './auth-routes.ts';
import { renderDashboard, type DashboardDeps } from './dashboard.ts';
import { unlockProof, type SharedLinkRepo } from '../accounts/shared-links.ts';
import { verifyPassword } from '../accounts/passwords.ts';
import type { Site } from '../store/sites.ts';

export interface SharedDeps extends AuthDeps {
  links: SharedLinkRepo;
  siteById: (id: number) => Site | undefined;
  query: DashboardDeps['query'];
  hasGoals: DashboardDeps['hasGoals'];
  propKeys: DashboardDeps['propKeys'];
  funnel?: DashboardDeps['funnel'];
  funnels?: DashboardDeps['funnels'];
}

const UNLOCK_COOKIE = 'hush_share';

const gone = (c: Context) => respond(c, 404, page('Link not found', html`<section class="card"><h1>This link does not work</h1>
<p>It was revoked, or it never existed. Ask whoever shared it for a new one.</p></section>`));

const passwordForm = (token: string, csrf: string, error = '') => html`<form class="card" method="post" action="/share/${token}/unlock">
<h1>This dashboard is protected</h1>${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<input type="hidden" name="csrf" value="${csrf}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Open</button></form>`;

export function sharedRoutes(app: Hono, deps: SharedDeps): void {
  app.get('/share/:token', async (c) => {
    const token = c.req.param('token');
    const link = deps.links.byToken(token);
    const site = link ? deps.siteById(link.siteId) : undefined;
    if (!link || !site) return gone(c);
    if (link.passwordHash && !same(getCookie(c, UNLOCK_COOKIE), unlockProof(token, link))) {
      return respond(c, 200, page('Protected', passwordForm(token, formSecret(c, deps))));
    }
    return renderDashboard(c, deps, site, { base: `/share/${token}`, switcher: [], owner: false });
  });

  app.post('/share/:token/unlock', async (c) => {
    const token = c.req.param('token');
    const link = deps.links.byToken(token);
    if (!link || !link.passwordHash) return gone(c);
    const form = await c.req.parseBody();
    const password = typeof form.password === 'string' ? form.password : '';
    if (crossSite(c) || !same(typeof form.csrf === 'string' ? form.csrf : '', getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Protected', passwordForm(token, formSecret(c, deps), 'This form expired or was sent from another site. Please try again.')));
    }
    // Reserved before the hash, with no await since the parse.
    const r = reserveCheck(c, deps, `share:${link.id}`);
    if (!r.attempt) {
      return respond(c, 429, page('Protected', passwordForm(token, formSecret(c, deps), `Too many wrong passwords. Try again in ${r.wait}.`)));
    }
    if (!(await verifyPassword(password, link.passwordHash))) {
      r.attempt.fail();
      return respond(c, 401, page('Protected', passwordForm(token, formSecret(c, deps), 'Wrong password.')));
    }
    r.attempt.succeed();
    setCookie(c, UNLOCK_COOKIE, unlockProof(token, link), { httpOnly: true, sameSite: 'Lax', path: `/share/${token}`, secure: secure(c, deps) });
    return c.redirect(`/share/${token}`, 303);
  });
}
