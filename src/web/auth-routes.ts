// Setup, login and logout. Forms are protected against cross-site requests twice: a secret the
// form must echo (the session's, or before login a random cookie's — double submit), and the
// browser's own Origin / Sec-Fetch-Site headers. Failed logins are limited per client network
// (its truncated prefix, never the address) and per account, with a message saying when to retry.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { page, SECURITY_HEADERS } from './layout.ts';
import { AccountError, normalizeEmail, type User, type UserRepo } from '../accounts/users.ts';
import { SESSION_COOKIE, MAX_AGE_MS, type Session, type SessionStore } from '../accounts/sessions.ts';
import { verifyPassword, hashPassword, MIN_PASSWORD } from '../accounts/passwords.ts';
import type { LoginLimiter } from '../accounts/rate-limit.ts';
import type { TwoFactor } from '../accounts/two-factor.ts';

export const FORM_COOKIE = 'hush_form';

export interface AuthDeps {
  users: UserRepo;
  sessions: SessionStore;
  limiter: LoginLimiter;
  /** The client's truncated network prefix (rate limiting never sees the address). */
  clientPrefix: (c: Context) => string;
  twoFactor: TwoFactor;
  now: () => number;
}

// A password accepted for an account with two-factor login waits here for its code (5 minutes),
// keyed by a random token in a cookie scoped to /login. In memory: one server process.
const CHALLENGE_COOKIE = 'hush_2fa';
const CHALLENGE_MS = 5 * 60_000;
const challenges = new Map<string, { userId: number; until: number }>();

export const secure = (c: Context) => c.req.url.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https';

export function same(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A request a browser sent from another site (or that says nothing and carries no Origin of ours). */
export function crossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = c.req.header('origin');
  if (origin && origin !== 'null') {
    try {
      return new URL(origin).host !== (c.req.header('host') ?? new URL(c.req.url).host);
    } catch {
      return true;
    }
  }
  return origin === 'null';
}

/** The random secret a login or setup form echoes, set as a cookie if missing. */
export function formSecret(c: Context): string {
  let v = getCookie(c, FORM_COOKIE);
  if (!v || v.length > 64) {
    v = randomBytes(24).toString('base64url');
    setCookie(c, FORM_COOKIE, v, { httpOnly: true, sameSite: 'Strict', path: '/', secure: secure(c) });
  }
  return v;
}

export function startSession(c: Context, deps: AuthDeps, user: User): void {
  const { token } = deps.sessions.create(user.id, deps.now());
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/', secure: secure(c), maxAge: MAX_AGE_MS / 1000 });
}

/**
 * Where to send a request without a live session: setup on a fresh install; the login page,
 * saying why, when the browser still holds a session cookie that has ended (logout elsewhere,
 * idle for 7 days, or 30 days old).
 */
export function toLogin(c: Context, deps: AuthDeps): Response {
  if (deps.users.count() === 0) return c.redirect('/setup', 303);
  return c.redirect(getCookie(c, SESSION_COOKIE) ? '/login?ended=1' : '/login', 303);
}

/** The signed-in user of a request, or null. */
export function currentUser(c: Context, deps: AuthDeps): { user: User; session: Session; token: string } | null {
  const token = getCookie(c, SESSION_COOKIE);
  const session = deps.sessions.get(token, deps.now());
  if (!session) return null;
  const user = deps.users.byId(session.userId);
  return user ? { user, session, token: token! } : null;
}

const respond = (c: Context, status: number, body: ReturnType<typeof page>) => {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
  return c.html(body, status as 200);
};

const loginForm = (csrf: string, email = '', error = '') => html`<form class="card" method="post" action="/login">
<h1>Log in</h1>${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<input type="hidden" name="csrf" value="${csrf}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${email}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button></form>`;

const setupForm = (csrf: string, email = '', error = '') => html`<form class="card" method="post" action="/setup">
<h1>Welcome to Hush</h1><p class="muted">Create the first account. It can see and manage every site.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<input type="hidden" name="csrf" value="${csrf}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${email}">
<label for="password">Password (at least ${MIN_PASSWORD} characters)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD}" required>
<label for="password2">Password again</label><input id="password2" name="password2" type="password" autocomplete="new-password" required>
<button type="submit">Create account</button></form>`;

// Verifying against a throwaway hash when the e-mail is unknown keeps the answer time the same,
// so the login form does not tell which e-mail addresses have accounts.
let decoy: Promise<string> | null = null;

export function authRoutes(app: Hono, deps: AuthDeps): void {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');

  app.get('/setup', (c) => {
    if (deps.users.count() > 0) return c.redirect('/login', 303);
    return respond(c, 200, page('Set up', setupForm(formSecret(c))));
  });

  app.post('/setup', async (c) => {
    if (deps.users.count() > 0) return c.redirect('/login', 303);
    const form = await c.req.parseBody();
    const email = str(form.email);
    if (crossSite(c) || !same(str(form.csrf), getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Set up', setupForm(formSecret(c), email, 'This form expired or was sent from another site. Please try again.')));
    }
    if (str(form.password) !== str(form.password2)) return respond(c, 400, page('Set up', setupForm(formSecret(c), email, 'The two passwords differ.')));
    try {
      const user = await deps.users.create(email, str(form.password), true, deps.now());
      startSession(c, deps, user);
      return c.redirect('/', 303);
    } catch (e) {
      if (e instanceof AccountError) return respond(c, 400, page('Set up', setupForm(formSecret(c), email, `Cannot create the account: ${e.message}.`)));
      throw e;
    }
  });

  app.get('/login', (c) => {
    if (deps.users.count() === 0) return c.redirect('/setup', 303);
    if (currentUser(c, deps)) return c.redirect('/', 303);
    // The ended session's cookie is dropped so the message shows once.
    const ended = c.req.query('ended') === '1' && getCookie(c, SESSION_COOKIE) !== undefined;
    if (ended) deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return respond(c, 200, page('Log in', loginForm(formSecret(c), '', ended ? 'Your session has ended (you logged out, or it was idle for 7 days or older than 30). Please log in again.' : '')));
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const email = normalizeEmail(str(form.email)) ?? str(form.email).slice(0, 200);
    if (crossSite(c) || !same(str(form.csrf), getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Log in', loginForm(formSecret(c), email, 'This form expired or was sent from another site. Please try again.')));
    }
    const prefix = deps.clientPrefix(c);
    const wait = deps.limiter.retryIn(prefix, email, deps.now());
    if (wait > 0) {
      const minutes = Math.ceil(wait / 60_000);
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return respond(c, 429, page('Log in', loginForm(formSecret(c), email,
        `Too many failed logins from your network or for this account. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`)));
    }
    const user = deps.users.byEmail(email);
    const ok = user
      ? await verifyPassword(str(form.password), user.passwordHash)
      : (await verifyPassword(str(form.password), await (decoy ??= hashPassword(randomBytes(16).toString('hex')))), false);
    if (!user || !ok) {
      deps.limiter.fail(prefix, email, deps.now());
      return respond(c, 401, page('Log in', loginForm(formSecret(c), email, 'Wrong e-mail or password.')));
    }
    if (user.totpSecret) {
      const token = randomBytes(24).toString('base64url');
      const now = deps.now();
      for (const [k, v] of challenges) if (v.until < now) challenges.delete(k);
      challenges.set(token, { userId: user.id, until: now + CHALLENGE_MS });
      setCookie(c, CHALLENGE_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/login', secure: secure(c) });
      return c.redirect('/login/2fa', 303);
    }
    deps.limiter.succeed(email);
    startSession(c, deps, user);
    return c.redirect('/', 303);
  });

  const challenge = (c: Context) => {
    const token = getCookie(c, CHALLENGE_COOKIE);
    const ch = token ? challenges.get(token) : undefined;
    if (!ch || ch.until < deps.now()) return null;
    const user = deps.users.byId(ch.userId);
    return user ? { token: token!, user } : null;
  };
  const codeForm = (csrf: string, error = '') => html`<form class="card" method="post" action="/login/2fa">
<h1>Two-factor login</h1><p class="muted">Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}<input type="hidden" name="csrf" value="${csrf}">
<label for="code">Code</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Log in</button></form>`;

  app.get('/login/2fa', (c) => {
    if (!challenge(c)) return c.redirect('/login', 303);
    return respond(c, 200, page('Two-factor login', codeForm(formSecret(c))));
  });

  app.post('/login/2fa', async (c) => {
    const ch = challenge(c);
    if (!ch) return respond(c, 401, page('Log in', loginForm(formSecret(c), '', 'The login took more than 5 minutes; please start again.')));
    const form = await c.req.parseBody();
    if (crossSite(c) || !same(str(form.csrf), getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Two-factor login', codeForm(formSecret(c), 'This form expired or was sent from another site. Please try again.')));
    }
    const prefix = deps.clientPrefix(c);
    const wait = deps.limiter.retryIn(prefix, ch.user.email, deps.now());
    if (wait > 0) return respond(c, 429, page('Two-factor login', codeForm(formSecret(c), `Too many wrong codes. Try again in ${Math.ceil(wait / 60_000)} minutes.`)));
    if (!deps.twoFactor.check(ch.user, str(form.code), deps.now())) {
      deps.limiter.fail(prefix, ch.user.email, deps.now());
      return respond(c, 401, page('Two-factor login', codeForm(formSecret(c), 'Wrong or already used code.')));
    }
    challenges.delete(ch.token);
    deleteCookie(c, CHALLENGE_COOKIE, { path: '/login' });
    deps.limiter.succeed(ch.user.email);
    startSession(c, deps, ch.user);
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    const me = currentUser(c, deps);
    const form = await c.req.parseBody();
    if (me && (crossSite(c) || !same(str(form.csrf), me.session.csrf))) {
      return respond(c, 403, page('Log out', html`<section class="card"><p class="error">This form expired or was sent from another site; you are still logged in.</p><p><a href="/">Back</a></p></section>`));
    }
    if (me) deps.sessions.destroy(me.token);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
}

export { respond };
