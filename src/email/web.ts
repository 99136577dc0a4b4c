// The web side of e-mail reports: the account page's "E-mail reports" section (a weekly and a
// monthly checkbox per site the user can see; saved with the session's CSRF secret, same-site
// only), and the unsubscribe link of each mail, GET /email/unsubscribe?t=<token>, which needs
// no login: the token is signed per subscription (subscriptions.ts). POST does the same for
// RFC 8058 one-click unsubscribes, which mail providers send cross-site with the link's token.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { page } from '../web/layout.ts';
import { crossSite, currentUser, respond, toLogin, type AuthDeps } from '../web/auth-routes.ts';
import type { SiteRepo } from '../store/sites.ts';
import { latestDue, type PeriodKind } from './periods.ts';
import type { SubscriptionRepo } from './subscriptions.ts';

export interface EmailWebDeps {
  subscriptions: SubscriptionRepo;
  sites: SiteRepo;
  /** Why scheduled mail is off on this server, or null. */
  off: string | null;
}

type Html = ReturnType<typeof page>;
type View = (c: Context, status: number, msg?: { error?: string; ok?: string }) => Promise<Response>;

const KINDS: Array<[PeriodKind, string]> = [['week', 'Weekly'], ['month', 'Monthly']];

/** The account page's section (empty when the server was built without e-mail deps). */
export function emailSection(deps: EmailWebDeps | undefined, auth: AuthDeps, userId: number, csrf: string): Html | '' {
  if (!deps) return '';
  const user = auth.users.byId(userId)!;
  const have = new Set(deps.subscriptions.forUser(userId).map((s) => `${s.siteId}:${s.period}`));
  const sites = auth.users.sitesFor(user);
  return html`<section class="card wide" data-email-reports><h2>E-mail reports</h2>
<p class="muted">A weekly (Monday morning, the week before) or monthly (the 1st, the month before) summary of a site, sent to ${user.email}. Each mail has an unsubscribe link.</p>
${deps.off ? html`<p class="muted">This server sends no e-mail yet (${deps.off}); your choice is kept for when it does.</p>` : ''}
${sites.length ? html`<form method="post" action="/account/email"><input type="hidden" name="csrf" value="${csrf}">
<table><tr><th>Site</th>${KINDS.map(([, label]) => html`<th>${label}</th>`)}</tr>
${sites.map((s) => html`<tr><td>${s.domain}</td>${KINDS.map(([k, label]) => html`<td><input type="checkbox" name="sub" value="${s.id}:${k}" aria-label="${label} report of ${s.domain}"${have.has(`${s.id}:${k}`) ? html` checked` : ''}></td>`)}</tr>`)}
</table><button type="submit">Save e-mail reports</button></form>` : html`<p class="muted">No sites to report on.</p>`}
</section>`;
}

export function emailRoutes(app: Hono, deps: EmailWebDeps | undefined, auth: AuthDeps, view: View): void {
  if (!deps) return;

  app.post('/account/email', async (c) => {
    const me = currentUser(c, auth);
    if (!me) return toLogin(c, auth);
    const form = await c.req.parseBody({ all: true });
    if (crossSite(c) || form.csrf !== me.session.csrf) return view(c, 403, { error: 'This form expired or was sent from another site; nothing was changed.' });
    const raw = form.sub === undefined ? [] : Array.isArray(form.sub) ? form.sub : [form.sub];
    const wanted = new Set(raw.filter((v): v is string => typeof v === 'string'));
    // Only sites this user can see: a forged site id is ignored, not subscribed.
    for (const s of auth.users.sitesFor(me.user)) {
      const site = deps.sites.byId(s.id)!;
      for (const [k] of KINDS) {
        if (wanted.has(`${s.id}:${k}`)) deps.subscriptions.subscribe(me.user.id, s.id, k, latestDue(k, auth.now(), site.timezone).from, auth.now());
        else deps.subscriptions.unsubscribe(me.user.id, s.id, k);
      }
    }
    return view(c, 200, { ok: 'E-mail reports saved.' });
  });

  const unsubscribe = async (c: Context, token: string) => {
    const sub = deps.subscriptions.byToken(token);
    if (sub) deps.subscriptions.remove(sub.id);
    const site = sub ? deps.sites.byId(sub.siteId) : undefined;
    // An unknown token is answered like a used one: the link may have been clicked already.
    const body = html`<h1>Unsubscribed</h1><p>${site
      ? html`You will get no more ${sub!.period}ly reports of ${site.domain}.`
      : 'This link is not (or no longer) subscribed to anything: no more reports are sent with it.'}</p>
<p class="muted">To subscribe again, log in and use "E-mail reports" on your account page.</p>`;
    return respond(c, 200, page('Unsubscribed', body));
  };
  app.get('/email/unsubscribe', (c) => unsubscribe(c, c.req.query('t') ?? ''));
  app.post('/email/unsubscribe', (c) => unsubscribe(c, c.req.query('t') ?? ''));
}
