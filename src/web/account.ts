// The account page: two-factor login on and off. Setting it up shows the secret, its otpauth://
// URI for apps that take one, and that URI as a QR code to scan (inline SVG), and asks for a
// first code; the ten recovery codes are shown once, after that code. Turning it on (the confirm
// step) and off takes the current password too, so a stolen session alone cannot change the
// second factor; passwords and the code to turn it off are limited like logins, reserved before
// they are checked (issue 12).
import type { Context, Hono } from 'hono';
import { html, raw } from 'hono/html';
import { page } from './layout.ts';
import { qrSvg } from './qr.ts';
import { crossSite, currentUser, reserveCheck, respond, toLogin, type AuthDeps } from './auth-routes.ts';
import { verifyPassword } from '../accounts/passwords.ts';
import type { Attempt } from '../accounts/rate-limit.ts';
import type { User } from '../accounts/users.ts';
import { emailRoutes, emailSection, type EmailWebDeps } from '../email/web.ts';

type Msg = { error?: string; ok?: string; secret?: string; codes?: string[] };

export function accountRoutes(app: Hono, deps: AuthDeps & { emailReports?: EmailWebDeps }): void {
  const view = async (c: Context, status: number, msg: Msg = {}) => {
    const me = currentUser(c, deps)!;
    const user = deps.users.byId(me.user.id)!;
    const csrf = html`<input type="hidden" name="csrf" value="${me.session.csrf}">`;
    const uri = msg.secret ? `otpauth://totp/Hush:${encodeURIComponent(user.email)}?secret=${msg.secret}&issuer=Hush` : '';
    const password = (id: string) => html`<label for="${id}">Your password</label><input id="${id}" name="password" type="password" autocomplete="current-password" required>`;
    const body = html`<h1>Your account</h1><p class="muted">${user.email}</p>
${msg.error ? html`<p class="error" role="alert">${msg.error}</p>` : ''}${msg.ok ? html`<p class="ok" role="status">${msg.ok}</p>` : ''}
${msg.codes ? html`<section class="card wide"><h2>Recovery codes</h2><p>Each works once if you lose your authenticator. Keep them somewhere safe: they are shown only now.</p>
<pre data-recovery-codes>${msg.codes.join('\n')}</pre></section>` : ''}
<section class="card wide"><h2>Two-factor login</h2>
${user.totpSecret
    ? html`<p>On. ${deps.twoFactor.remaining(user)} recovery codes left.</p>
<form method="post" action="/account/totp/disable">${csrf}${password('off_password')}<label for="off_code">A current code, to turn it off</label><input id="off_code" name="code" type="text" inputmode="numeric" required><button type="submit">Turn off</button></form>`
    : msg.secret
      ? html`<p>Scan this code with your authenticator app, or add the secret by hand (time-based, 6 digits, 30 seconds):</p>
<div class="totp-setup"><figure class="qr">${raw(qrSvg(uri, 'QR code of the two-factor secret for your authenticator app'))}</figure>
<div><pre data-totp-secret>${msg.secret}</pre><p class="muted">or as a link: <code data-totp-uri>${uri}</code></p></div></div>
<form method="post" action="/account/totp/confirm">${csrf}${password('on_password')}<label for="code">The code your app shows</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required><button type="submit">Turn on</button></form>`
      : html`<p>Off.</p><form method="post" action="/account/totp/start">${csrf}<button type="submit">Set up two-factor login</button></form>`}
</section>
${emailSection(deps.emailReports, deps, user.id, me.session.csrf)}`;
    return respond(c, status, page('Account', body, { user: user.email, csrf: me.session.csrf }));
  };

  /** The signed-in user, if the form is genuine. */
  const post = async (c: Context) => {
    const me = currentUser(c, deps);
    if (!me) return { answer: toLogin(c, deps) };
    const form = await c.req.parseBody();
    if (crossSite(c) || form.csrf !== me.session.csrf) return { answer: await view(c, 403, { error: 'This form expired or was sent from another site; nothing was changed.' }) };
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    return { user: deps.users.byId(me.user.id)!, code: str(form.code), password: str(form.password) };
  };

  /**
   * Reserves an attempt (synchronously: call with no await since the parse) and checks the
   * current password. The attempt and the user as it is after the hash; or the answer to send.
   * `keep` is what the page shows again on a refusal (the pending secret during setup).
   */
  const withPassword = async (c: Context, user: User, password: string, keep: Msg = {}):
    Promise<{ attempt: Attempt; user: User } | { answer: Response }> => {
    const r = reserveCheck(c, deps, user.email);
    if (!r.attempt) return { answer: await view(c, 429, { ...keep, error: `Too many wrong passwords or codes. Try again in ${r.wait}; nothing was changed.` }) };
    const now = (await verifyPassword(password, user.passwordHash)) ? deps.users.byId(user.id) : undefined;
    if (!now) {
      r.attempt.fail();
      return { answer: await view(c, 400, { ...keep, error: 'Wrong password; nothing was changed.' }) };
    }
    return { attempt: r.attempt, user: now };
  };

  app.get('/account', (c) => (currentUser(c, deps) ? view(c, 200) : toLogin(c, deps)));
  // Scheduled e-mail reports: the section's form, and the unsubscribe link of each mail.
  emailRoutes(app, deps.emailReports, deps, view);

  app.post('/account/totp/start', async (c) => {
    const r = await post(c);
    if ('answer' in r) return r.answer;
    if (r.user.totpSecret) return view(c, 400, { error: 'Two-factor login is already on.' });
    return view(c, 200, { secret: deps.twoFactor.start(r.user) });
  });

  app.post('/account/totp/confirm', async (c) => {
    const r = await post(c);
    if ('answer' in r) return r.answer;
    const p = await withPassword(c, r.user, r.password, { secret: r.user.totpPending ?? undefined });
    if ('answer' in p) return p.answer;
    // A wrong code here is not a guess worth limiting: the secret was just shown to this session.
    p.attempt.release();
    const codes = deps.twoFactor.confirm(p.user, r.code, deps.now());
    if (!codes) return view(c, 400, { error: 'That code does not match: check the time on your device and try the next code.', secret: p.user.totpPending ?? undefined });
    return view(c, 200, { ok: 'Two-factor login is on.', codes });
  });

  app.post('/account/totp/disable', async (c) => {
    const r = await post(c);
    if ('answer' in r) return r.answer;
    const p = await withPassword(c, r.user, r.password);
    if ('answer' in p) return p.answer;
    // The code is part of the same attempt: a wrong one counts like a wrong password.
    if (!deps.twoFactor.disable(p.user, r.code, deps.now())) {
      p.attempt.fail();
      return view(c, 400, { error: 'Wrong or already used code; two-factor login stays on.' });
    }
    p.attempt.release();
    return view(c, 200, { ok: 'Two-factor login is off.' });
  });
}
