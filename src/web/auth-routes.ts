// Setup, login and logout. Forms are protected against cross-site requests twice: a secret the
// form must echo (the session's, or before login a random cookie's — double submit), and the
// browser's own Origin / Sec-Fetch-Site headers. Failed logins are limited per client network
// (its truncated prefix, never the address) and per account, with a message saying when to retry.
// Every password or code check first reserves an attempt (src/accounts/rate-limit.ts) with no
// await between the form's parse and the reservation, so a parallel burst cannot outrun the
// limit; the 2FA route reads its challenge and user only after the parse (issue 12).
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { page, SECURITY_HEADERS } from './layout.ts';
import { AccountError, normalizeEmail, type User, type UserRepo } from '../accounts/users.ts';
import { SESSION_COOKIE, MAX_AGE_MS, type Session, type SessionStore } from '../accounts/sessions.ts';
import { verifyPassword, hashPassword, MIN_PASSWORD } from '../accounts/passwords.ts';
import { minutesText, type Attempt, type LoginLimiter } from '../accounts/rate-limit.ts';
import type { TwoFactor } from '../accounts/two-factor.ts';

export const FORM_COOKIE = 'hush_form';

export interface AuthDeps {
  users: UserRepo;
  sessions: SessionStore;
  limiter: LoginLimiter;
  /** The client's truncated network prefix (rate limiting never sees the address). */
  clientPrefix: (c: Context) => string;
  /** Whether the request came over HTTPS: X-Forwarded-Proto only from a trusted proxy. */
  isHttps: (c: Context) => boolean;
  twoFactor: TwoFactor;
  now: () => number;
}

// A password accepted for an account with two-factor login waits here for its code (5 minutes),
// keyed by a random token in a cookie scoped to /login. In memory: one server process.
const CHALLENGE_COOKIE = 'hush_2fa';
const CHALLENGE_MS = 5 * 60_000;
const challenges = new Map<string, { userId: number; until: number }>();

/** Whether cookies get the Secure flag: the deps' verdict, never a client's word. */
export const secure = (c: Context, deps: Pick<AuthDeps, 'isHttps'>) => deps.isHttps(c);

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
export function formSecret(c: Context, deps: Pick<AuthDeps, 'isHttps'>): string {
  let v = getCookie(c, FORM_COOKIE);
  if (!v || v.length > 64) {
    v = randomBytes(24).toString('base64url');
    setCookie(c, FORM_COOKIE, v, { httpOnly: true, sameSite: 'Strict', path: '/', secure: secure(c, deps) });
  }
  return v;
}

export function startSession(c: Context, deps: AuthDeps, user: User): void {
  const { token } = deps.sessions.create(user.id, deps.now());
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/', secure: secure(c, deps), maxAge: MAX_AGE_MS / 1000 });
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

/**
 * Reserves a password or code check for the client's network and an account (synchronous: call
 * it with no await since the form was parsed). The attempt to settle after the check; or null,
 * "N minutes" for the message, and Retry-After set on the 429 the caller answers.
 */
export function reserveCheck(c: Context, deps: AuthDeps, account: string): { attempt: Attempt } | { attempt: null; wait: string } {
  const r = deps.limiter.reserve(deps.clientPrefix(c), account, deps.now());
  if (r.attempt) return { attempt: r.attempt };
  c.header('Retry-After', String(Math.ceil(r.wait / 1000)));
  return { attempt: null, wait: minutesText(r.wait) };
}

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
    return respond(c, 200, page('Set up', setupForm(formSecret(c, deps))));
  });

  app.post('/setup', async (c) => {
    if (deps.users.count() > 0) return c.redirect('/login', 303);
    const form = await c.req.parseBody();
    const email = str(form.email);
    if (crossSite(c) || !same(str(form.csrf), getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Set up', setupForm(formSecret(c, deps), email, 'This form expired or was sent from another site. Please try again.')));
    }
    if (str(form.password) !== str(form.password2)) return respond(c, 400, page('Set up', setupForm(formSecret(c, deps), email, 'The two passwords differ.')));
    try {
      const user = await deps.users.create(email, str(form.password), true, deps.now(), true);
      startSession(c, deps, user);
      return c.redirect('/', 303);
    } catch (e) {
      if (e instanceof AccountError) return respond(c, 400, page('Set up', setupForm(formSecret(c, deps), email, `Cannot create the account: ${e.message}.`)));
      throw e;
    }
  });

  app.get('/login', (c) => {
    if (deps.users.count() === 0) return c.redirect('/setup', 303);
    if (currentUser(c, deps)) return c.redirect('/', 303);
    // The ended session's cookie is dropped so the message shows once.
    const ended = c.req.query('ended') === '1' && getCookie(c, SESSION_COOKIE) !== undefined;
    if (ended) deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return respond(c, 200, page('Log in', loginForm(formSecret(c, deps), '', ended ? 'Your session has ended (you logged out, or it was idle for 7 days or older than 30). Please log in again.' : '')));
  });

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const email = normalizeEmail(str(form.email)) ?? str(form.email).slice(0, 200);
    if (crossSite(c) || !same(str(form.csrf), getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Log in', loginForm(formSecret(c, deps), email, 'This form expired or was sent from another site. Please try again.')));
    }
    // Reserved before the first await: at most the limit of guesses can reach the hash at once.
    const r = reserveCheck(c, deps, email);
    if (!r.attempt) {
      return respond(c, 429, page('Log in', loginForm(formSecret(c, deps), email,
        `Too many failed logins from your network or for this account. Try again in ${r.wait}.`)));
    }
    const found = deps.users.byEmail(email);
    const ok = found
      ? await verifyPassword(str(form.password), found.passwordHash)
      : (await verifyPassword(str(form.password), await (decoy ??= hashPassword(randomBytes(16).toString('hex')))), false);
    const user = found && ok ? deps.users.byId(found.id) : undefined; // as it is now, after the hash
    if (!user) {
      r.attempt.fail();
      return respond(c, 401, page('Log in', loginForm(formSecret(c, deps), email, 'Wrong e-mail or password.')));
    }
    if (user.totpSecret) {
      r.attempt.release(); // the password was right; the code is checked (and limited) next
      const token = randomBytes(24).toString('base64url');
      const now = deps.now();
      for (const [k, v] of challenges) if (v.until < now) challenges.delete(k);
      challenges.set(token, { userId: user.id, until: now + CHALLENGE_MS });
      setCookie(c, CHALLENGE_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/login', secure: secure(c, deps) });
      return c.redirect('/login/2fa', 303);
    }
    r.attempt.succeed();
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
    return respond(c, 200, page('Two-factor login', codeForm(formSecret(c, deps))));
  });

  app.post('/login/2fa', async (c) => {
    const form = await c.req.parseBody();
    // The challenge and its user (with the last used step) are read after the parse: from here
    // on nothing awaits, and using the code is one conditional write (two-factor.ts).
    const ch = challenge(c);
    if (!ch) return respond(c, 401, page('Log in', loginForm(formSecret(c, deps), '', 'The login took more than 5 minutes; please start again.')));
    if (crossSite(c) || !same(str(form.csrf), getCookie(c, FORM_COOKIE))) {
      return respond(c, 403, page('Two-factor login', codeForm(formSecret(c, deps), 'This form expired or was sent from another site. Please try again.')));
    }
    const r = reserveCheck(c, deps, ch.user.email);
    if (!r.attempt) return respond(c, 429, page('Two-factor login', codeForm(formSecret(c, deps), `Too many wrong codes. Try again in ${r.wait}.`)));
    if (!deps.twoFactor.check(ch.user, str(form.code), deps.now())) {
      r.attempt.fail();
      return respond(c, 401, page('Two-factor login', codeForm(formSecret(c, deps), 'Wrong or already used code.')));
    }
    challenges.delete(ch.token); // one session per challenge
    deleteCookie(c, CHALLENGE_COOKIE, { path: '/login' });
    r.attempt.succeed();
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
