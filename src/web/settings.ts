// Site settings, for the site's owners: the snippet, domain, time zone, k, retention and excluded
// paths; goals; Stats API keys (a new key is shown once, then only its first characters);
// shared links (shown once; public or with a password; revocable).
// Every change is a POST form with the session's CSRF secret, refused from other sites.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { page } from './layout.ts';
import { crossSite, currentUser, respond, toLogin, type AuthDeps } from './auth-routes.ts';
import type { Site, SiteRepo } from '../store/sites.ts';
import { isTimeZone, normalizeDomain } from '../store/sites.ts';
import { GoalError, type GoalRepo } from '../store/goals.ts';
import type { ApiKeyRepo } from '../store/api-keys.ts';
import { AccountError, type User } from '../accounts/users.ts';
import type { SharedLinkRepo } from '../accounts/shared-links.ts';
import { funnelsCard, funnelRoutes, type FunnelRepo } from './funnel-settings.ts';

export interface SettingsDeps extends AuthDeps {
  sites: SiteRepo;
  goals: GoalRepo;
  apiKeys: ApiKeyRepo;
  links: SharedLinkRepo;
  /** The site's funnels (absent: no funnels card). */
  funnels?: FunnelRepo;
  /** Lowest k a site may have (HUSH_MIN_K_FLOOR). */
  kFloor: number;
  /** The site's time zone changed: its rollups must be rebuilt in the new local days. */
  timezoneChanged: (siteId: number) => void;
}

const MAX_RETENTION = 36_500;

interface Owner { user: User; csrf: string; site: Site }

/** The signed-in owner of the site in the URL, or the answer to send instead. */
async function owner(c: Context, deps: SettingsDeps): Promise<Owner | Response> {
  const me = currentUser(c, deps);
  if (!me) return toLogin(c, deps);
  const site = deps.sites.byDomain(c.req.param('domain') ?? '');
  const role = site ? deps.users.roleOn(me.user, site.id) : null;
  if (!site || role === null) {
    return respond(c, 404, page('Not found', html`<section class="card"><h1>No such site</h1><p><a href="/">Your sites</a></p></section>`, { user: me.user.email, csrf: me.session.csrf }));
  }
  if (role !== 'owner') {
    return respond(c, 403, page('Settings', html`<section class="card"><h1>Owners only</h1><p>Viewers can read the dashboard but not change the site.</p><p><a href="/sites/${encodeURIComponent(site.domain)}">Back to the dashboard</a></p></section>`, { user: me.user.email, csrf: me.session.csrf }));
  }
  return { user: me.user, csrf: me.session.csrf, site };
}

function render(c: Context, deps: SettingsDeps, o: Owner, status: number, message: { error?: string; ok?: string; newKey?: string; newLink?: string } = {}) {
  const s = o.site;
  const base = `/sites/${encodeURIComponent(s.domain)}`;
  const origin = new URL(c.req.url).origin;
  const csrf = html`<input type="hidden" name="csrf" value="${o.csrf}">`;
  const body = html`<p><a href="${base}">← ${s.domain} dashboard</a></p><h1>Settings of ${s.domain}</h1>
${message.error ? html`<p class="error" role="alert">${message.error}</p>` : ''}${message.ok ? html`<p class="ok" role="status">${message.ok}</p>` : ''}
<section class="card wide"><h2>The snippet</h2><p>Paste into every page, in <code>&lt;head&gt;</code>:</p>
<pre><code>&lt;script defer data-domain="${s.domain}" src="${origin}/hush.js"&gt;&lt;/script&gt;</code></pre></section>
<form class="card wide" method="post" action="${base}/settings">${csrf}<h2>Site</h2>
<label for="domain">Domain (the snippet's data-domain; hits for the old one stop counting)</label><input id="domain" name="domain" type="text" value="${s.domain}" required>
<label for="timezone">Time zone (reports count days in it)</label><input id="timezone" name="timezone" type="text" value="${s.timezone}" required>
<label for="min_visitors">k: report rows with fewer visitors fold into "(other)" (at least ${deps.kFloor})</label><input id="min_visitors" name="min_visitors" type="number" min="${deps.kFloor}" max="1000" value="${s.minVisitors}" required>
<label for="retention_days">Retention in days (events older than this are deleted)</label><input id="retention_days" name="retention_days" type="number" min="1" max="${MAX_RETENTION}" value="${s.retentionDays}" required>
<label for="exclude_paths">Paths not counted (comma-separated, * and **)</label><input id="exclude_paths" name="exclude_paths" type="text" value="${s.excludePaths}">
<button type="submit">Save</button></form>
<section class="card wide"><h2>Goals</h2>${deps.goals.list(s.id).length ? html`<ul class="sites">${deps.goals.list(s.id).map((g) => html`<li>${g.name} <span class="muted">${g.kind} ${g.value}</span>
<form class="inline" method="post" action="${base}/goals/remove">${csrf}<input type="hidden" name="name" value="${g.name}"><button class="link" type="submit">Remove</button></form></li>`)}</ul>` : html`<p class="muted">No goals yet.</p>`}
<form method="post" action="${base}/goals">${csrf}<label for="goal_event">Custom event name</label><input id="goal_event" name="event" type="text">
<label for="goal_page">…or page path pattern (e.g. /thanks, /docs/**)</label><input id="goal_page" name="page" type="text"><button type="submit">Add goal</button></form></section>
${deps.funnels ? funnelsCard(deps.funnels, s.id, base, csrf) : ''}
<section class="card wide"><h2>Stats API keys</h2>
${message.newKey ? html`<p class="ok" role="status">Your new key, shown only now: copy it.</p><pre><code data-new-key>${message.newKey}</code></pre>` : ''}
${deps.apiKeys.list(s.id).length ? html`<ul class="sites">${deps.apiKeys.list(s.id).map((k) => html`<li><code>${k.keyPrefix}…</code> <span class="muted">created ${new Date(k.createdAt).toISOString().slice(0, 10)}</span>
<form class="inline" method="post" action="${base}/keys/revoke">${csrf}<input type="hidden" name="id" value="${k.id}"><button class="link" type="submit">Revoke</button></form></li>`)}</ul>` : html`<p class="muted">No keys.</p>`}
<form method="post" action="${base}/keys">${csrf}<button type="submit">Create a key</button></form></section>
<section class="card wide"><h2>Shared links</h2><p class="muted">A shared link opens this dashboard read-only, to anyone who has it (and its password, if set).</p>
${message.newLink ? html`<p class="ok" role="status">Your new link, shown only now: copy it.</p><pre><code data-new-link>${origin}/share/${message.newLink}</code></pre>` : ''}
${deps.links.list(s.id).length ? html`<ul class="sites">${deps.links.list(s.id).map((l) => html`<li>${l.label} <span class="muted">${l.passwordHash ? 'with password' : 'public'}, created ${new Date(l.createdAt).toISOString().slice(0, 10)}</span>
<form class="inline" method="post" action="${base}/links/revoke">${csrf}<input type="hidden" name="id" value="${l.id}"><button class="link" type="submit">Revoke</button></form></li>`)}</ul>` : html`<p class="muted">No shared links.</p>`}
<form method="post" action="${base}/links">${csrf}<label for="link_label">Name</label><input id="link_label" name="label" type="text" value="Shared link">
<label for="link_password">Password (optional, at least 10 characters)</label><input id="link_password" name="password" type="password" autocomplete="new-password">
<button type="submit">Create a shared link</button></form></section>`;
  return respond(c, status, page(`Settings · ${s.domain}`, body, { user: o.user.email, csrf: o.csrf }));
}

/** Checks the form's origin and CSRF secret; null when it may proceed. */
async function form(c: Context, o: Owner): Promise<Record<string, string> | null> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') fields[k] = v;
  if (crossSite(c) || fields.csrf !== o.csrf) return null;
  return fields;
}

const EXPIRED = 'This form expired or was sent from another site; nothing was changed.';

export function settingsRoutes(app: Hono, deps: SettingsDeps): void {
  /** A settings form: only its site's owner, only with the session's secret, only same-site. */
  const ownerPost = (path: string, handle: (c: Context, o: Owner, f: Record<string, string>) => Promise<Response> | Response) => {
    app.post(path, async (c) => {
      const o = await owner(c, deps);
      if (o instanceof Response) return o;
      const f = await form(c, o);
      if (!f) return render(c, deps, o, 403, { error: EXPIRED });
      return handle(c, o, f);
    });
  };

  app.get('/sites/:domain/settings', async (c) => {
    const o = await owner(c, deps);
    return o instanceof Response ? o : render(c, deps, o, 200);
  });

  ownerPost('/sites/:domain/settings', async (c, o, f) => {
    const k = Number(f.min_visitors), days = Number(f.retention_days), tz = (f.timezone ?? '').trim();
    const exclude = (f.exclude_paths ?? '').trim();
    const domain = normalizeDomain(f.domain ?? o.site.domain);
    const taken = domain ? deps.sites.byDomain(domain) : undefined;
    let error = '';
    if (!domain) error = `"${(f.domain ?? '').slice(0, 100)}" is not a domain name`;
    else if (taken && taken.id !== o.site.id) error = `${domain} is already a site here`;
    else if (!isTimeZone(tz)) error = `"${tz.slice(0, 60)}" is not a time zone (e.g. Europe/Berlin)`;
    else if (!Number.isInteger(k) || k < deps.kFloor || k > 1000) error = `k must be a whole number from ${deps.kFloor} to 1000`;
    else if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION) error = `retention must be a whole number of days from 1 to ${MAX_RETENTION}`;
    else if (exclude.length > 2000) error = 'the excluded paths are too long';
    if (error) return render(c, deps, o, 400, { error: `Not saved: ${error}.` });
    const updated = deps.sites.update(o.site.id, { domain: domain!, timezone: tz, minVisitors: k, retentionDays: days, excludePaths: exclude })!;
    if (tz !== o.site.timezone) deps.timezoneChanged(o.site.id);
    return render(c, deps, { ...o, site: updated }, 200, { ok: 'Saved.' });
  });

  ownerPost('/sites/:domain/goals', async (c, o, f) => {
    const event = f.event?.trim() || undefined, pagePattern = f.page?.trim() || undefined;
    try {
      const g = deps.goals.add(o.site.id, { event, page: pagePattern });
      return render(c, deps, o, 200, { ok: `Added the goal "${g.name}".` });
    } catch (e) {
      if (e instanceof GoalError) return render(c, deps, o, 400, { error: `Not added: ${e.message}.` });
      throw e;
    }
  });

  ownerPost('/sites/:domain/goals/remove', async (c, o, f) => {
    return deps.goals.remove(o.site.id, f.name ?? '')
      ? render(c, deps, o, 200, { ok: `Removed the goal "${f.name}".` })
      : render(c, deps, o, 404, { error: 'No such goal.' });
  });

  if (deps.funnels) funnelRoutes(ownerPost, deps.funnels, (c, o, status, m) => render(c, deps, o, status, m));

  ownerPost('/sites/:domain/keys', async (c, o, f) => {
    return render(c, deps, o, 200, { newKey: deps.apiKeys.create(o.site.id) });
  });

  ownerPost('/sites/:domain/links', async (c, o, f) => {
    try {
      return render(c, deps, o, 200, { newLink: await deps.links.create(o.site.id, f.label ?? '', f.password || null) });
    } catch (e) {
      if (e instanceof AccountError) return render(c, deps, o, 400, { error: `Not created: ${e.message}.` });
      throw e;
    }
  });

  ownerPost('/sites/:domain/links/revoke', async (c, o, f) => {
    return deps.links.revoke(o.site.id, Number(f.id))
      ? render(c, deps, o, 200, { ok: 'The link was revoked: it no longer opens the dashboard.' })
      : render(c, deps, o, 404, { error: 'No such link.' });
  });

  ownerPost('/sites/:domain/keys/revoke', async (c, o, f) => {
    return deps.apiKeys.revoke(o.site.id, Number(f.id))
      ? render(c, deps, o, 200, { ok: 'The key was revoked: it no longer opens the Stats API.' })
      : render(c, deps, o, 404, { error: 'No such key.' });
  });
}
