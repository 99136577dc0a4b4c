// Accounts over real HTTP handling and a real SQLite file: first-run setup, login, logout that
// really ends the session, CSRF and cross-site refusals, login limits per network and account,
// session expiry, per-site roles, security headers, and `hush user add`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, type Harness } from './helpers/harness.ts';
import { runCli } from './helpers/spawn-server.ts';
import { base32Decode, hotp, STEP_MS } from '../src/accounts/totp.ts';

let h: Harness;

/** A browser's cookie jar over app.request. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly ip = '198.51.100.7') {}
  async go(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const r = await h.core.app.request(path, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body }, { peer: this.ip });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = pair.split('=');
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || v === '') this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return r;
  }
  /** The hidden csrf field of a page. */
  async csrf(path: string): Promise<string> {
    const text = await (await this.go(path)).text();
    return /name="csrf" value="([^"]+)"/.exec(text)![1];
  }
}

const PASSWORD = 'correct horse battery';

async function setupAdmin(b: Browser): Promise<void> {
  const csrf = await b.csrf('/setup');
  const r = await b.go('/setup', { form: { csrf, email: 'Admin@Example.com', password: PASSWORD, password2: PASSWORD } });
  assert.is(r.status, 303);
  assert.is(r.headers.get('location'), '/');
}

const s = suite('accounts: setup, login, logout');
s.before.each(async () => {
  h = await harness();
  h.core.sites.add({ domain: 'example.com' });
  h.core.sites.add({ domain: 'other.org' });
});
s.after.each(() => h.close());

s('a fresh install sends everyone to setup; the page has strict security headers', async () => {
  const b = new Browser();
  for (const p of ['/', '/login']) {
    const r = await b.go(p);
    assert.equal([r.status, r.headers.get('location')], [303, '/setup'], p);
  }
  const r = await b.go('/setup');
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-security-policy')!, /default-src 'self'/);
  assert.match(r.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
  assert.is(r.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(r.headers.get('referrer-policy'));
  const html = await r.text();
  assert.not.match(html, /<script|style=/, 'no inline script or style');
  const css = await b.go('/assets/hush.css');
  assert.match(css.headers.get('content-type')!, /text\/css/);
});

s('setup refuses a missing CSRF secret, different passwords and a short one, then creates the admin', async () => {
  const b = new Browser();
  const csrf = await b.csrf('/setup');
  let r = await b.go('/setup', { form: { csrf: 'forged', email: 'a@example.com', password: PASSWORD, password2: PASSWORD } });
  assert.is(r.status, 403);
  assert.match(await r.text(), /expired or was sent from another site/);
  r = await b.go('/setup', { form: { csrf, email: 'a@example.com', password: PASSWORD, password2: 'something else!' } });
  assert.equal([r.status, /The two passwords differ/.test(await r.text())], [400, true]);
  r = await b.go('/setup', { form: { csrf, email: 'a@example.com', password: 'short', password2: 'short' } });
  assert.equal([r.status, /at least 10 characters/.test(await r.text())], [400, true]);
  await setupAdmin(b);
  const cookie = (await b.go('/')).status;
  assert.is(cookie, 200);
  const row = h.core.store.sqlite.prepare('SELECT email, password_hash, admin FROM users').get() as { email: string; password_hash: string; admin: number };
  assert.equal([row.email, row.admin], ['admin@example.com', 1]);
  assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$/);
  assert.not.ok(row.password_hash.includes(PASSWORD));
  // setup is closed once an account exists
  assert.is((await new Browser().go('/setup')).headers.get('location'), '/login');
  const sess = h.core.store.sqlite.prepare('SELECT token_hash FROM sessions').all() as Array<{ token_hash: string }>;
  assert.is(sess.length, 1);
  assert.not.ok(sess[0].token_hash === b.cookies.get('hush_session'), 'only a hash of the cookie is stored');
});

s('the session cookie is HttpOnly and SameSite=Lax; the admin sees every site', async () => {
  const b = new Browser();
  const csrf = await b.csrf('/setup');
  const r = await b.go('/setup', { form: { csrf, email: 'a@example.com', password: PASSWORD, password2: PASSWORD } });
  const set = r.headers.getSetCookie().find((c) => c.startsWith('hush_session='))!;
  assert.match(set, /HttpOnly/i);
  assert.match(set, /SameSite=Lax/i);
  assert.not.match(set, /Secure/i, 'not Secure over plain http');
  const home = await (await b.go('/')).text();
  assert.match(home, /example\.com/);
  assert.match(home, /other\.org/);
});

s('logout needs the session\'s CSRF secret and really ends the session', async () => {
  const b = new Browser();
  await setupAdmin(b);
  const stolen = b.cookies.get('hush_session')!;
  let r = await b.go('/logout', { form: { csrf: 'nope' } });
  assert.is(r.status, 403);
  assert.is((await b.go('/')).status, 200, 'still logged in');
  const csrf = await b.csrf('/');
  r = await b.go('/logout', { form: { csrf } });
  assert.equal([r.status, r.headers.get('location')], [303, '/login']);
  assert.is((await b.go('/')).headers.get('location'), '/login');
  // the old cookie is worthless now
  const old = new Browser();
  old.cookies.set('hush_session', stolen);
  assert.is((await old.go('/')).headers.get('location'), '/login?ended=1');
  assert.match(await (await old.go('/login?ended=1')).text(), /Your session has ended/);
  assert.is((h.core.store.sqlite.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n, 0);
});

s('login: wrong password and unknown e-mail get the same answer; the right one logs in', async () => {
  await setupAdmin(new Browser());
  const b = new Browser();
  let csrf = await b.csrf('/login');
  let r = await b.go('/login', { form: { csrf, email: 'admin@example.com', password: 'wrong password!' } });
  const wrong = await r.text();
  assert.is(r.status, 401);
  assert.match(wrong, /Wrong e-mail or password\./);
  r = await b.go('/login', { form: { csrf, email: 'nobody@example.com', password: 'wrong password!' } });
  assert.is(r.status, 401);
  assert.match(await r.text(), /Wrong e-mail or password\./);
  csrf = await b.csrf('/login');
  r = await b.go('/login', { form: { csrf, email: 'ADMIN@example.com', password: PASSWORD } });
  assert.equal([r.status, r.headers.get('location')], [303, '/']);
  assert.is((await b.go('/')).status, 200);
});

s('cross-site form posts are refused even with a valid secret', async () => {
  await setupAdmin(new Browser());
  const b = new Browser();
  const csrf = await b.csrf('/login');
  for (const headers of [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site' }] as Array<Record<string, string>>) {
    const r = await b.go('/login', { form: { csrf, email: 'admin@example.com', password: PASSWORD }, headers });
    assert.is(r.status, 403, JSON.stringify(headers));
  }
});

s('failed logins are limited per account and per network, with when to retry', async () => {
  await setupAdmin(new Browser());
  const b = new Browser('203.0.113.10');
  const csrf = await b.csrf('/login');
  for (let i = 0; i < 5; i++) assert.is((await b.go('/login', { form: { csrf, email: 'admin@example.com', password: `guess number ${i}` } })).status, 401);
  let r = await b.go('/login', { form: { csrf, email: 'admin@example.com', password: PASSWORD } });
  assert.is(r.status, 429, 'even the right password waits');
  assert.match(await r.text(), /Too many failed logins .* Try again in 15 minutes\./);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
  // another network, another account: the network limit (10) stops a spray across accounts
  const spray = new Browser('203.0.113.99');
  const c2 = await spray.csrf('/login');
  for (let i = 0; i < 10; i++) await spray.go('/login', { form: { csrf: c2, email: `user${i}@example.com`, password: 'whatever12345' } });
  r = await spray.go('/login', { form: { csrf: c2, email: 'someone@example.com', password: 'whatever12345' } });
  assert.is(r.status, 429);
  // 203.0.113.10 and .99 share a /24: the limit is per network, never per address
  h.clock.now += 16 * 60_000;
  r = await b.go('/login', { form: { csrf, email: 'admin@example.com', password: PASSWORD } });
  assert.is(r.status, 303, 'after the window the login works again');
});

s('sessions end after 7 idle days and after 30 days', async () => {
  const b = new Browser();
  await setupAdmin(b);
  h.clock.now += 6 * 86_400_000;
  assert.is((await b.go('/')).status, 200, 'used within the week');
  h.clock.now += 6 * 86_400_000;
  assert.is((await b.go('/')).status, 200);
  h.clock.now += 8 * 86_400_000;
  assert.is((await b.go('/')).headers.get('location'), '/login?ended=1', 'idle for 8 days');
  const c = new Browser();
  const csrf = await c.csrf('/login');
  await c.go('/login', { form: { csrf, email: 'admin@example.com', password: PASSWORD } });
  for (let d = 0; d < 31; d += 5) {
    h.clock.now += 5 * 86_400_000;
    if (d < 25) assert.is((await c.go('/')).status, 200, `day ${d + 5}`);
  }
  assert.is((await c.go('/')).headers.get('location'), '/login?ended=1', 'past 30 days');
});

s('an owner renames the site\'s domain; a taken or invalid domain is refused', async () => {
  const b = new Browser();
  await setupAdmin(b);
  const csrf = await b.csrf('/sites/example.com/settings');
  const save = (domain: string) => b.go('/sites/example.com/settings', { form: { csrf, domain, timezone: 'UTC', min_visitors: '3', retention_days: '760', exclude_paths: '' } });
  let r = await save('other.org');
  assert.equal([r.status, /already a site here/.test(await r.text())], [400, true]);
  r = await save('not a domain');
  assert.equal([r.status, /is not a domain name/.test(await r.text())], [400, true]);
  r = await save('https://www.renamed.example/');
  assert.is(r.status, 200);
  assert.ok(h.core.sites.byDomain('renamed.example'));
  assert.is((await b.go('/sites/renamed.example')).status, 200);
  assert.is((await b.go('/sites/example.com')).status, 404);
});

s('TOTP follows RFC 6238 (its SHA-1 test vectors)', () => {
  const key = Buffer.from('12345678901234567890');
  assert.is(hotp(key, Math.floor(59 / 30), 8), '94287082');
  assert.is(hotp(key, Math.floor(1111111109 / 30), 8), '07081804');
  assert.is(hotp(key, Math.floor(2000000000 / 30), 8), '69279037');
});

s('two-factor login: set up with the password and a first code, then password + code; codes work once; recovery codes', async () => {
  const b = new Browser();
  await setupAdmin(b);
  let csrf = await b.csrf('/account');
  let page = await (await b.go('/account/totp/start', { form: { csrf } })).text();
  const secret = /data-totp-secret>([A-Z2-7]+)</.exec(page)![1];
  const code = (offset = 0) => hotp(base32Decode(secret), Math.floor(h.clock.now / STEP_MS) + offset);
  assert.match(page, /name="password" type="password"/, 'the confirm form asks for the password');
  let r = await b.go('/account/totp/confirm', { form: { csrf, password: PASSWORD, code: '000000' === code() ? '111111' : '000000' } });
  assert.is(r.status, 400);
  // Turning it on takes the current password (issue 12): a session alone is not enough.
  for (const password of ['', 'not the password']) {
    r = await b.go('/account/totp/confirm', { form: { csrf, password, code: code() } });
    page = await r.text();
    assert.equal([r.status, /Wrong password; nothing was changed/.test(page), /data-totp-secret/.test(page)], [400, true, true], password);
  }
  assert.is((h.core.store.sqlite.prepare('SELECT totp_secret FROM users').get() as { totp_secret: string | null }).totp_secret, null);
  r = await b.go('/account/totp/confirm', { form: { csrf, password: PASSWORD, code: code() } });
  page = await r.text();
  assert.is(r.status, 200);
  const recovery = /data-recovery-codes>([^<]+)</.exec(page)![1].split('\n');
  assert.is(recovery.length, 10);
  const stored = JSON.stringify(h.core.store.sqlite.prepare('SELECT code_hash FROM recovery_codes').all());
  assert.not.ok(recovery.some((c) => stored.includes(c)), 'recovery codes are stored hashed');
  csrf = await b.csrf('/');
  await b.go('/logout', { form: { csrf } });

  // Password alone is not enough any more.
  const login = async (browser: Browser) => {
    const c = await browser.csrf('/login');
    const res = await browser.go('/login', { form: { csrf: c, email: 'admin@example.com', password: PASSWORD } });
    assert.equal([res.status, res.headers.get('location')], [303, '/login/2fa']);
    assert.is((await browser.go('/')).headers.get('location'), '/login', 'no session yet');
    return browser.csrf('/login/2fa');
  };
  let c2 = await login(b);
  r = await b.go('/login/2fa', { form: { csrf: c2, code: code() } });
  assert.is(r.status, 401, 'the code used to turn it on does not work again');
  assert.match(await r.text(), /Wrong or already used code/);
  h.clock.now += STEP_MS;
  r = await b.go('/login/2fa', { form: { csrf: c2, code: code() } });
  assert.equal([r.status, r.headers.get('location')], [303, '/']);
  assert.is((await b.go('/')).status, 200);

  // A recovery code works once.
  const other = new Browser();
  c2 = await login(other);
  assert.is((await other.go('/login/2fa', { form: { csrf: c2, code: recovery[0] } })).status, 303);
  const third = new Browser();
  c2 = await login(third);
  assert.is((await third.go('/login/2fa', { form: { csrf: c2, code: recovery[0] } })).status, 401);
  // A challenge expires after 5 minutes.
  h.clock.now += 6 * 60_000;
  assert.is((await third.go('/login/2fa', { form: { csrf: c2, code: code() } })).status, 401);

  // Turning it off takes the password and a current code.
  csrf = await b.csrf('/account');
  assert.match(await (await b.go('/account')).text(), /action="\/account\/totp\/disable">.*name="password" type="password"/s);
  assert.is((await b.go('/account/totp/disable', { form: { csrf, password: PASSWORD, code: '123' } })).status, 400);
  h.clock.now += STEP_MS;
  r = await b.go('/account/totp/disable', { form: { csrf, password: 'not the password', code: code() } });
  assert.equal([r.status, /Wrong password/.test(await r.text())], [400, true]);
  assert.is((await b.go('/account/totp/disable', { form: { csrf, password: PASSWORD, code: code() } })).status, 200);
  assert.is((h.core.store.sqlite.prepare('SELECT totp_secret FROM users').get() as { totp_secret: string | null }).totp_secret, null);
});

s.run();

// ---------------------------------------------------------------------------------------------
const cli = suite('accounts: hush user add');

cli('creates accounts from standard input, grants sites with roles, refuses bad input', async () => {
  h = await harness();
  h.core.sites.add({ domain: 'example.com' });
  await h.core.close();
  const env = { HUSH_DB: h.dbPath };
  try {
    let r = await runCli(['user', 'add', 'viewer@example.com', '--site', 'example.com', '--role', 'viewer', '--password-stdin'], env, `${PASSWORD}\n`);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /can now see example\.com as viewer/);
    assert.not.ok(r.stdout.includes(PASSWORD) || r.stderr.includes(PASSWORD));
    r = await runCli(['user', 'add', 'weak@example.com', '--admin', '--password-stdin'], env, 'short\n');
    assert.equal([r.code, /at least 10 characters/.test(r.stderr)], [2, true]);
    for (const args of [['user', 'add', 'x@example.com'], ['user', 'add', 'not-an-email', '--admin'], ['user', 'add', 'x@example.com', '--site', 'example.com', '--role', 'boss'], ['user', 'remove']]) {
      assert.is((await runCli([...args, '--password-stdin'], env, `${PASSWORD}\n`)).code, 2, args.join(' '));
    }
    assert.is((await runCli(['user', 'add', 'x@example.com', '--site', 'nope.example', '--password-stdin'], env, `${PASSWORD}\n`)).code, 1);
    await h.reopen();
    const b = new Browser();
    const csrf = await b.csrf('/login');
    const login = await b.go('/login', { form: { csrf, email: 'viewer@example.com', password: PASSWORD } });
    assert.is(login.status, 303);
    // One site: the home page is its dashboard (issue 16), where a viewer has no Settings.
    assert.is((await b.go('/')).headers.get('location'), '/sites/example.com');
    assert.not.match(await (await b.go('/sites/example.com')).text(), /href="[^"]*\/settings"/);
  } finally {
    await h.close();
  }
});

cli.run();
