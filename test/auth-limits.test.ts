// Issue 12 regressions over a real HTTP server (node:http in front of the harness's app, on a
// real SQLite file): parallel guesses cannot outrun the login, 2FA, shared-link and account-page
// limits (at most the limit reaches scrypt, counted by a wrapper around it); one TOTP or recovery
// code opens one session; X-Forwarded-Proto sets Secure only from a trusted proxy. Clients bind
// different loopback addresses (127.0.N.x) so each test chooses its /24 network honestly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { harness, type Harness } from './helpers/harness.ts';
import { base32Decode, hotp, STEP_MS } from '../src/accounts/totp.ts';
import { SharedLinkRepo } from '../src/accounts/shared-links.ts';

// Every password check is one scrypt run: count them (passwords.ts imports scrypt from node:crypto).
let hashes = 0;
const realScrypt = crypto.scrypt;
(crypto as { scrypt: unknown }).scrypt = (...args: unknown[]) => {
  hashes++;
  return (realScrypt as (...a: unknown[]) => void)(...args);
};
syncBuiltinESMExports();

let h: Harness;
let server: http.Server;
let base: string;
let requestsSeen = 0;

async function start(env: Record<string, string> = {}): Promise<void> {
  h = await harness(env);
  h.core.sites.add({ domain: 'example.com' });
  // The socket's own peer address, as @hono/node-server gives it to the real server.
  const listener = getRequestListener((req, env) => h.core.app.fetch(req, { peer: (env as HttpBindings).incoming.socket.remoteAddress }));
  server = http.createServer(listener);
  server.on('request', () => requestsSeen++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await h.close();
}

interface Answer { status: number; location: string | null; retryAfter: number; setCookies: string[]; text: string }

/** A browser over real sockets from one loopback address, with a cookie jar. */
class Client {
  cookies = new Map<string, string>();
  constructor(readonly ip = '127.0.0.1') {}
  /** `hold`: send the headers now and the body once it resolves (a slow body). */
  go(path: string, init: { form?: Record<string, string>; headers?: Record<string, string>; hold?: Promise<void> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(`${base}${path}`, { method: body !== undefined ? 'POST' : 'GET', headers, localAddress: this.ip, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const setCookies = res.headers['set-cookie'] ?? [];
          for (const c of setCookies) {
            const [pair] = c.split(';');
            const [k, v] = pair.split('=');
            if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || v === '') this.cookies.delete(k);
            else this.cookies.set(k, v);
          }
          const location = (res.headers.location as string | undefined) ?? null;
          resolve({ status: res.statusCode!, location, retryAfter: Number(res.headers['retry-after'] ?? 0), setCookies, text });
        });
      });
      req.on('error', reject);
      if (!init.hold) return req.end(body);
      req.flushHeaders();
      void init.hold.then(() => req.end(body));
    });
  }
  async csrf(path: string): Promise<string> {
    return /name="csrf" value="([^"]+)"/.exec((await this.go(path)).text)![1];
  }
}

const PASSWORD = 'correct horse battery';
const EMAIL = 'admin@example.com';

async function setupAdmin(): Promise<Client> {
  const b = new Client('127.0.0.1');
  const csrf = await b.csrf('/setup');
  const r = await b.go('/setup', { form: { csrf, email: EMAIL, password: PASSWORD, password2: PASSWORD } });
  assert.is(r.status, 303);
  return b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Requests whose handlers all start before any body arrives: headers first, then (once the
 * server has them all and each handler waits on its body) every body at once. The widest window
 * a client can open between what a handler read and what it does after parsing the form.
 */
async function together(make: (hold: Promise<void>) => Array<Promise<Answer>>): Promise<Answer[]> {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const seen = requestsSeen;
  const answers = make(hold);
  for (let i = 0; i < 400 && requestsSeen < seen + answers.length; i++) await sleep(5);
  assert.is(requestsSeen - seen, answers.length, 'every request reached the server');
  await sleep(50);
  release();
  return Promise.all(answers);
}

/** Statuses of a parallel burst, counted: { 401: n, 429: m, … }. */
const tally = (answers: Answer[]) => answers.reduce<Record<number, number>>((t, a) => ({ ...t, [a.status]: (t[a.status] ?? 0) + 1 }), {});
const sessionsNow = () => (h.core.store.sqlite.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;

// ---------------------------------------------------------------------------------------------
const limits = suite('auth limits: parallel guesses are reserved before the hash');
limits.before.each(() => start());
limits.after.each(() => stop());

limits('25 parallel logins for one account from one network: 5 reach the hash; then even the right password waits', async () => {
  await setupAdmin();
  const attacker = new Client('127.0.5.9');
  const csrf = await attacker.csrf('/login');
  hashes = 0;
  let burst = await Promise.all(Array.from({ length: 25 }, (_, i) =>
    attacker.go('/login', { form: { csrf, email: EMAIL, password: `guess number ${i}` } })));
  assert.equal(tally(burst), { 401: 5, 429: 20 });
  assert.is(hashes, 5, 'only the reserved 5 were checked against the hash');
  assert.ok(burst.filter((a) => a.status === 429).every((a) => a.retryAfter > 0 && /Too many failed logins .* Try again in 15 minutes\./.test(a.text)));
  // The right password sent among a second burst does not get in: nothing reaches the hash.
  const before = sessionsNow();
  hashes = 0;
  burst = await Promise.all(Array.from({ length: 25 }, (_, i) =>
    attacker.go('/login', { form: { csrf, email: EMAIL, password: i === 12 ? PASSWORD : `guess ${i}` } })));
  assert.equal(tally(burst), { 429: 25 });
  assert.is(hashes, 0);
  assert.is(sessionsNow(), before, 'no session was opened');
  assert.not.ok(attacker.cookies.has('hush_session'));
  // Another network is still refused for this account (the account limit), until the window ends.
  const elsewhere = new Client('127.0.7.1');
  const c2 = await elsewhere.csrf('/login');
  assert.is((await elsewhere.go('/login', { form: { csrf: c2, email: EMAIL, password: PASSWORD } })).status, 429);
  h.clock.now += 16 * 60_000;
  assert.is((await elsewhere.go('/login', { form: { csrf: c2, email: EMAIL, password: PASSWORD } })).status, 303);
});

limits('a right password inside a burst gets in only as one of the first 5 checked', async () => {
  await setupAdmin();
  const attacker = new Client('127.0.5.10');
  const csrf = await attacker.csrf('/login');
  hashes = 0;
  const burst = await Promise.all(Array.from({ length: 25 }, (_, i) =>
    attacker.go('/login', { form: { csrf, email: EMAIL, password: i === 24 ? PASSWORD : `guess number ${i}` } })));
  const t = tally(burst);
  assert.is((t[401] ?? 0) + (t[303] ?? 0), 5, JSON.stringify(t));
  assert.is(t[429], 20);
  assert.is(hashes, 5);
  assert.ok((t[303] ?? 0) <= 1);
});

limits('25 parallel logins spread over accounts from one network: 10 reach the hash', async () => {
  await setupAdmin();
  // The throwaway hash for unknown e-mails is made once per process: make it before counting.
  const warm = new Client('127.0.9.1');
  await warm.go('/login', { form: { csrf: await warm.csrf('/login'), email: 'warm@example.com', password: 'whatever12345' } });
  const spray = new Client('127.0.6.20');
  const csrf = await spray.csrf('/login');
  hashes = 0;
  const burst = await Promise.all(Array.from({ length: 25 }, (_, i) =>
    spray.go('/login', { form: { csrf, email: `user${i}@example.com`, password: 'whatever12345' } })));
  assert.equal(tally(burst), { 401: 10, 429: 15 });
  assert.is(hashes, 10);
  // Another address of the same /24 is the same network: even the right password waits.
  const neighbour = new Client('127.0.6.77');
  const c2 = await neighbour.csrf('/login');
  const r = await neighbour.go('/login', { form: { csrf: c2, email: EMAIL, password: PASSWORD } });
  assert.is(r.status, 429);
  assert.ok(r.retryAfter > 0);
  // A different network logs in.
  const home = new Client('127.0.8.1');
  assert.is((await home.go('/login', { form: { csrf: await home.csrf('/login'), email: EMAIL, password: PASSWORD } })).status, 303);
});

limits('20 parallel shared-link passwords: 5 reach the hash; the right one then waits', async () => {
  const site = h.core.sites.byDomain('example.com')!;
  const token = await new SharedLinkRepo(h.core.store.db).create(site.id, 'Board', 'link password 123', h.clock.now);
  const guesser = new Client('127.0.5.30');
  const csrf = await guesser.csrf(`/share/${token}`);
  hashes = 0;
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    guesser.go(`/share/${token}/unlock`, { form: { csrf, password: `wrong guess ${i}` } })));
  assert.equal(tally(burst), { 401: 5, 429: 15 });
  assert.is(hashes, 5);
  hashes = 0;
  // The per-link limit holds from any network.
  const other = new Client('127.0.8.30');
  const c2 = await other.csrf(`/share/${token}`);
  const r = await other.go(`/share/${token}/unlock`, { form: { csrf: c2, password: 'link password 123' } });
  assert.equal([r.status, /Too many wrong passwords/.test(r.text), hashes], [429, true, 0]);
  h.clock.now += 16 * 60_000;
  assert.is((await other.go(`/share/${token}/unlock`, { form: { csrf: c2, password: 'link password 123' } })).status, 303);
});

limits('5 setups posted together on a fresh install make exactly one administrator', async () => {
  const clients = Array.from({ length: 5 }, (_, i) => new Client(`127.0.9.${i + 1}`));
  const secrets = await Promise.all(clients.map((c) => c.csrf('/setup')));
  const answers = await together((hold) => clients.map((c, i) => c.go('/setup', {
    form: { csrf: secrets[i], email: `admin${i}@example.com`, password: PASSWORD, password2: PASSWORD }, hold,
  })));
  assert.is(answers.filter((a) => a.status === 303 && a.location === '/').length, 1, JSON.stringify(tally(answers)));
  assert.ok(answers.every((a) => a.status < 500), JSON.stringify(tally(answers)));
  assert.is((h.core.store.sqlite.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n, 1);
});

limits.run();

// ---------------------------------------------------------------------------------------------
const totp = suite('auth limits: one second factor opens one session');
let secret = '';
const code = (offset = 0) => hotp(base32Decode(secret), Math.floor(h.clock.now / STEP_MS) + offset);

/** The admin with two-factor login on; returns the recovery codes. */
async function withTwoFactor(): Promise<{ admin: Client; recovery: string[] }> {
  const admin = await setupAdmin();
  const csrf = await admin.csrf('/account');
  secret = /data-totp-secret>([A-Z2-7]+)</.exec((await admin.go('/account/totp/start', { form: { csrf } })).text)![1];
  const r = await admin.go('/account/totp/confirm', { form: { csrf, password: PASSWORD, code: code() } });
  assert.is(r.status, 200);
  h.clock.now += STEP_MS; // the code that turned it on is used
  return { admin, recovery: /data-recovery-codes>([^<]+)</.exec(r.text)![1].split('\n') };
}

/** A client past the password step, holding a 2FA challenge; returns the code form's secret. */
async function challenged(c: Client): Promise<string> {
  const r = await c.go('/login', { form: { csrf: await c.csrf('/login'), email: EMAIL, password: PASSWORD } });
  assert.equal([r.status, r.location], [303, '/login/2fa']);
  return c.csrf('/login/2fa');
}

totp.before.each(() => start());
totp.after.each(() => stop());

totp('three parallel posts of one TOTP code on one challenge: one session', async () => {
  await withTwoFactor();
  const c = new Client('127.0.10.1');
  const csrf = await challenged(c);
  const before = sessionsNow();
  const burst = await together((hold) => [1, 2, 3].map(() => c.go('/login/2fa', { form: { csrf, code: code() }, hold })));
  assert.equal(tally(burst), { 303: 1, 401: 2 });
  assert.is(burst.filter((a) => a.setCookies.some((s) => s.startsWith('hush_session='))).length, 1);
  assert.is(sessionsNow(), before + 1);
});

totp('the same TOTP code on three challenges in parallel: one session', async () => {
  await withTwoFactor();
  const clients = [new Client('127.0.11.1'), new Client('127.0.11.2'), new Client('127.0.11.3')];
  const forms = await Promise.all(clients.map(challenged));
  const before = sessionsNow();
  const now = code();
  const burst = await together((hold) => clients.map((c, i) => c.go('/login/2fa', { form: { csrf: forms[i], code: now }, hold })));
  assert.equal(tally(burst), { 303: 1, 401: 2 });
  assert.is(sessionsNow(), before + 1);
});

totp('one recovery code in parallel, on one challenge and on three: one session each time', async () => {
  const { recovery } = await withTwoFactor();
  const c = new Client('127.0.12.1');
  const csrf = await challenged(c);
  let before = sessionsNow();
  let burst = await together((hold) => [1, 2, 3].map(() => c.go('/login/2fa', { form: { csrf, code: recovery[0] }, hold })));
  assert.equal(tally(burst), { 303: 1, 401: 2 });
  assert.is(sessionsNow(), before + 1);
  const clients = [new Client('127.0.13.1'), new Client('127.0.13.2'), new Client('127.0.13.3')];
  const forms = await Promise.all(clients.map(challenged));
  before = sessionsNow();
  burst = await together((hold) => clients.map((x, i) => x.go('/login/2fa', { form: { csrf: forms[i], code: recovery[1] }, hold })));
  assert.equal(tally(burst), { 303: 1, 401: 2 });
  assert.is(sessionsNow(), before + 1);
  assert.is((h.core.store.sqlite.prepare('SELECT count(*) AS n FROM recovery_codes').get() as { n: number }).n, 8);
});

totp('wrong 2FA codes in parallel: 5 are checked, then the right code waits', async () => {
  await withTwoFactor();
  const c = new Client('127.0.14.1');
  const csrf = await challenged(c);
  const right = code();
  const wrong = right === '000000' ? '111111' : '000000';
  const burst = await Promise.all(Array.from({ length: 12 }, () => c.go('/login/2fa', { form: { csrf, code: wrong } })));
  assert.equal(tally(burst), { 401: 5, 429: 7 });
  const r = await c.go('/login/2fa', { form: { csrf, code: right } });
  assert.equal([r.status, /Too many wrong codes/.test(r.text)], [429, true]);
});

totp('turning two-factor off takes the password and is limited: wrong codes, then even the right one waits', async () => {
  const { admin } = await withTwoFactor();
  const csrf = await admin.csrf('/account');
  const right = code();
  const wrong = right === '000000' ? '111111' : '000000';
  // Without the password nothing happens, and the code is not used up.
  let r = await admin.go('/account/totp/disable', { form: { csrf, code: right } });
  assert.equal([r.status, /Wrong password/.test(r.text)], [400, true]);
  // Parallel wrong codes with the right password: 4 more reach the check (5 with the one above).
  hashes = 0;
  const burst = await Promise.all(Array.from({ length: 10 }, () => admin.go('/account/totp/disable', { form: { csrf, password: PASSWORD, code: wrong } })));
  assert.equal(tally(burst), { 400: 4, 429: 6 });
  assert.is(hashes, 4);
  r = await admin.go('/account/totp/disable', { form: { csrf, password: PASSWORD, code: right } });
  assert.equal([r.status, /Too many wrong passwords or codes/.test(r.text)], [429, true]);
  assert.ok((h.core.store.sqlite.prepare('SELECT totp_secret FROM users').get() as { totp_secret: string | null }).totp_secret, 'still on');
  h.clock.now += 16 * 60_000;
  r = await admin.go('/account/totp/disable', { form: { csrf, password: PASSWORD, code: code() } });
  assert.is(r.status, 200);
  assert.is((h.core.store.sqlite.prepare('SELECT totp_secret FROM users').get() as { totp_secret: string | null }).totp_secret, null);
});

totp.run();

// ---------------------------------------------------------------------------------------------
const proto = suite('auth limits: X-Forwarded-Proto only from a trusted proxy');
proto.before.each(() => start({ HUSH_TRUSTED_PROXIES: '127.0.0.1' }));
proto.after.each(() => stop());

const cookie = (a: Answer, name: string) => a.setCookies.find((s) => s.startsWith(`${name}=`))!;

proto('a client\'s X-Forwarded-Proto gets no Secure cookie; the trusted proxy\'s does', async () => {
  const https = { 'X-Forwarded-Proto': 'https' };
  const direct = await new Client('127.0.0.2').go('/setup', { headers: https });
  assert.not.match(cookie(direct, 'hush_form'), /;\s*Secure/i, 'an untrusted peer cannot claim https');
  const proxied = await new Client('127.0.0.1').go('/setup', { headers: https });
  assert.match(cookie(proxied, 'hush_form'), /;\s*Secure/i);
  assert.not.match(cookie(await new Client('127.0.0.1').go('/setup'), 'hush_form'), /;\s*Secure/i, 'plain http through the proxy');
  // The session cookie follows the same rule.
  const b = new Client('127.0.0.2');
  const csrf = await b.csrf('/setup');
  const r = await b.go('/setup', { form: { csrf, email: EMAIL, password: PASSWORD, password2: PASSWORD }, headers: https });
  assert.is(r.status, 303);
  assert.not.match(cookie(r, 'hush_session'), /;\s*Secure/i);
  const p = new Client('127.0.0.1');
  const c2 = await p.csrf('/login');
  const login = await p.go('/login', { form: { csrf: c2, email: EMAIL, password: PASSWORD }, headers: https });
  assert.is(login.status, 303);
  assert.match(cookie(login, 'hush_session'), /;\s*Secure/i);
});

proto.run();
