// The account page: two-factor login on and off. Setting it up shows the secret (and its
// otpauth:// URI for apps that take one) and asks for a first code; the ten recovery codes are
// shown once, after that code.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { page } from './layout.ts';
import { crossSite, currentUser, respond, toLogin, type AuthDeps } from './auth-routes.ts';

export function accountRoutes(app: Hono, deps: AuthDeps): void {
  const view = async (c: Context, status: number, msg: { error?: string; ok?: string; secret?: string; codes?: string[] } = {}) => {
    const me = currentUser(c, deps)!;
    const user = deps.users.byId(me.user.id)!;
    const csrf = html`<input type="hidden" name="csrf" value="${me.session.csrf}">`;
    const uri = msg.secret ? `otpauth://totp/Hush:${encodeURIComponent(user.email)}?secret=${msg.secret}&issuer=Hush` : '';
    const body = html`<h1>Your account</h1><p class="muted">${user.email}</p>
${msg.error ? html`<p class="error" role="alert">${msg.error}</p>` : ''}${msg.ok ? html`<p class="ok" role="status">${msg.ok}</p>` : ''}
${msg.codes ? html`<section class="card wide"><h2>Recovery codes</h2><p>Each works once if you lose your authenticator. Keep them somewhere safe: they are shown only now.</p>
<pre data-recovery-codes>${msg.codes.join('\n')}</pre></section>` : ''}
<section class="card wide"><h2>Two-factor login</h2>
${user.totpSecret
    ? html`<p>On. ${deps.twoFactor.remaining(user)} recovery codes left.</p>
<form method="post" action="/account/totp/disable">${csrf}<label for="off_code">A current code, to turn it off</label><input id="off_code" name="code" type="text" inputmode="numeric" required><button type="submit">Turn off</button></form>`
    : msg.secret
      ? html`<p>Add this secret to your authenticator app (time-based, 6 digits, 30 seconds):</p><pre data-totp-secret>${msg.secret}</pre>
<p class="muted">or as a link: <code>${uri}</code></p>
<form method="post" action="/account/totp/confirm">${csrf}<label for="code">The code your app shows</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required><button type="submit">Turn on</button></form>`
      : html`<p>Off.</p><form method="post" action="/account/totp/start">${csrf}<button type="submit">Set up two-factor login</button></form>`}
</section>`;
    return respond(c, status, page('Account', body, { user: user.email, csrf: me.session.csrf }));
  };

  /** The signed-in user, if the form is genuine. */
  const post = async (c: Context) => {
    const me = currentUser(c, deps);
    if (!me) return { answer: toLogin(c, deps) };
    const form = await c.req.parseBody();
    if (crossSite(c) || form.csrf !== me.session.csrf) return { answer: await view(c, 403, { error: 'This form expired or was sent from another site; nothing was changed.' }) };
    return { user: deps.users.byId(me.user.id)!, code: typeof form.code === 'string' ? form.code : '' };
  };

  app.get('/account', (c) => (currentUser(c, deps) ? view(c, 200) : toLogin(c, deps)));

  app.post('/account/totp/start', async (c) => {
    const r = await post(c);
    if ('answer' in r) return r.answer;
    if (r.user.totpSecret) return view(c, 400, { error: 'Two-factor login is already on.' });
    return view(c, 200, { secret: deps.twoFactor.start(r.user) });
  });

  app.post('/account/totp/confirm', async (c) => {
    const r = await post(c);
    if ('answer' in r) return r.answer;
    const codes = deps.twoFactor.confirm(r.user, r.code, deps.now());
    if (!codes) return view(c, 400, { error: 'That code does not match: check the time on your device and try the next code.', secret: r.user.totpPending ?? undefined });
    return view(c, 200, { ok: 'Two-factor login is on.', codes });
  });

  app.post('/account/totp/disable', async (c) => {
    const r = await post(c);
    if ('answer' in r) return r.answer;
    return deps.twoFactor.disable(r.user, r.code, deps.now())
      ? view(c, 200, { ok: 'Two-factor login is off.' })
      : view(c, 400, { error: 'Wrong or already used code; two-factor login stays on.' });
  });
}
