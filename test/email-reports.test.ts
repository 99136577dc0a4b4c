// Scheduled e-mail reports (issue 16) against a real SMTP server in this process (smtp-server),
// each mail parsed with mailparser: `hush report send` delivers the Stats API's numbers with
// "(other)" where k folds rows; the scheduler sends a due weekly report once across a restart,
// and a missed one once late; the unsubscribe link stops the next one; without HUSH_SMTP_URL
// nothing is sent; STARTTLS with a verified (explicitly trusted) certificate, plain without.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { harness, tempDir, type Harness } from './helpers/harness.ts';
import { runCli } from './helpers/spawn-server.ts';
import { runQuery } from '../src/reports/engine.ts';
import { latestDue } from '../src/email/periods.ts';
import { EmailScheduler } from '../src/email/scheduler.ts';
import { SubscriptionRepo } from '../src/email/subscriptions.ts';
import { audit } from '../src/privacy/audit.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';

/** `hush …args` in this process (what bin/hush.js runs, without a process start of ~1.5 s). One test runs the real binary. */
const hush = (args: string[], env: Record<string, string>) => runCliInProcess(args, env);

interface Inbox {
  port: number;
  mails: Array<ParsedMail & { secure: boolean; rcpt: string[] }>;
  close(): Promise<void>;
}

/** An SMTP server on a free port: plain, or STARTTLS with a certificate and a required login. */
async function smtp(opts: { tls?: { key: string; cert: string }; login?: [string, string] } = {}): Promise<Inbox> {
  const mails: Inbox['mails'] = [];
  const server = new SMTPServer({
    secure: false,
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : { hideSTARTTLS: true }),
    authOptional: !opts.login,
    allowInsecureAuth: false,
    onAuth(auth, _session, cb) {
      if (opts.login && auth.username === opts.login[0] && auth.password === opts.login[1]) return cb(null, { user: auth.username });
      cb(new Error('bad login'));
    },
    onData(stream, session, cb) {
      simpleParser(stream).then((m) => {
        mails.push(Object.assign(m, { secure: session.secure, rcpt: session.envelope.rcptTo.map((r) => r.address) }));
        cb();
      }, cb);
    },
    logger: false,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const until = async (fn: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

/** A distinct client network (/24) per i: one visitor each. */
const IP = (i: number) => `81.${10 + Math.floor(i / 250)}.${i % 250}.7`;

/** `n` visitors (one address each) view `page` at the harness clock. */
async function visits(h: Harness, domain: string, page: string, n: number, from = 0, ref?: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await h.post({ n: 'pageview', u: `https://${domain}${page}`, d: domain, r: ref }, { ip: IP(from + i) });
    assert.is(r.status, 202);
  }
}

// ---------------------------------------------------------------------------------------------
const cli = suite('email: hush report send');
let h: Harness, inbox: Inbox;
cli.before(async () => {
  // The CLI reports the last complete week of the real clock: the traffic goes there.
  const week = latestDue('week', Date.now(), 'UTC');
  h = await harness({}, Date.parse(`${week.from}T12:00:00Z`) + 2 * 86_400_000);
  h.core.sites.add({ domain: 'mail.test', timezone: 'UTC', minVisitors: 3 });
  h.core.directory.refresh();
  await visits(h, 'mail.test', '/', 5, 0, 'https://www.google.com/');
  await visits(h, 'mail.test', '/pricing', 3, 10);
  await visits(h, 'mail.test', '/a-lonely-page', 1, 20);
  await visits(h, 'mail.test', '/another-one', 1, 30);
  h.clock.now -= 7 * 86_400_000; // the week before, for the change
  await visits(h, 'mail.test', '/', 4, 40);
  inbox = await smtp();
});
cli.after(async () => {
  await h.close();
  await inbox.close();
});

cli('delivers the Stats API numbers of the last week, "(other)" where k folds rows', async () => {
  const env = { HUSH_DB: h.dbPath, HUSH_SMTP_URL: `smtp://127.0.0.1:${inbox.port}`, HUSH_SMTP_FROM: 'Hush <hush@mail.test>' };
  const r = await runCli(['report', 'send', '--site', 'mail.test', '--to', 'Reader@Example.com'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Sent the weekly report of mail\.test/);
  await until(() => inbox.mails.length === 1);
  const mail = inbox.mails[0];
  assert.equal(mail.rcpt, ['reader@example.com']);
  assert.match(mail.subject!, /Weekly report for mail\.test/);

  const site = h.core.sites.byDomain('mail.test')!;
  const week = latestDue('week', Date.now(), 'UTC');
  const q = (body: Record<string, unknown>) => runQuery({ sqlite: h.core.store.sqlite, site, goals: [], now: Date.now() }, { site_id: 'mail.test', date_range: [week.from, week.to], ...body });
  const top = q({ metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate'], include: { comparison: 'previous_period' } }).results[0];
  assert.is(top.metrics[0], 10);
  const text = mail.text!;
  assert.ok(text.includes(`Visitors: ${top.metrics[0]} (+${top.comparison!.change[0]}% vs. the week before)`), text);
  assert.ok(text.includes(`Visits: ${top.metrics[1]}`), text);
  assert.ok(text.includes(`Pageviews: ${top.metrics[2]}`), text);
  assert.ok(text.includes(`Bounce rate: ${top.metrics[3]}%`), text);
  // Pages as the engine returns them: two under k=3 folded into "(other)", never named.
  const pages = q({ metrics: ['visitors'], dimensions: ['event:page'] }).results.map((x) => `  ${x.dimensions[0]}: ${x.metrics[0]}`);
  assert.equal(pages, ['  /: 5', '  /pricing: 3', '  (other): 2']);
  assert.ok(text.includes(`Top pages (visitors)\n${pages.join('\n')}\n`), text);
  assert.not.ok(text.includes('lonely') || mail.html!.toString().includes('lonely'));
  assert.match(mail.html as string, /<td[^>]*>\(other\)<\/td><td[^>]*>2<\/td>/);
  assert.match(text, /Top sources \(visitors\)\n(?: {2}.*\n)* {2}Google: 5\n/, text);
  // A one-off has no subscription: nothing to unsubscribe from.
  assert.not.ok(mail.headerLines.some((l) => l.key.startsWith('list-')));
  // No address of a visitor or user-agent in the mail.
  assert.not.match(mail.html as string, /81\.\d+\.\d+|Firefox|Mozilla/);
});

cli('without HUSH_SMTP_URL nothing is sent and the command says so in one line (exit 1)', async () => {
  const before = inbox.mails.length;
  const r = await hush(['report', 'send', '--site', 'mail.test', '--to', 'reader@example.com'], { HUSH_DB: h.dbPath });
  assert.is(r.code, 1);
  assert.match(r.stderr, /^hush: report send: e-mail is not configured \(HUSH_SMTP_URL is not set\)/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  const bad = await hush(['report', 'send', '--site', 'mail.test', '--to', 'nobody'], { HUSH_DB: h.dbPath });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /is not an e-mail address/);
  await new Promise((r) => setTimeout(r, 100));
  assert.is(inbox.mails.length, before);
});

cli.run();

// ---------------------------------------------------------------------------------------------
const tls = suite('email: STARTTLS, verified certificates, credentials kept out of messages');
let certDir: { dir: string; cleanup(): void }, secured: Inbox, plain: Inbox, caPath: string;
tls.before(async () => {
  certDir = tempDir();
  caPath = path.join(certDir.dir, 'cert.pem');
  const keyPath = path.join(certDir.dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', caPath,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const { readFileSync } = await import('node:fs');
  secured = await smtp({ tls: { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(caPath, 'utf8') }, login: ['hush', 's3cret-pass'] });
  plain = await smtp();
  const week = latestDue('week', Date.now(), 'UTC');
  h = await harness({}, Date.parse(`${week.from}T12:00:00Z`));
  h.core.sites.add({ domain: 'tls.test' });
});
tls.after(async () => {
  await h.close();
  await secured.close();
  await plain.close();
  certDir.cleanup();
});

tls('smtp:// with a login upgrades with STARTTLS, trusting a self-signed certificate only when told to', async () => {
  const env = { HUSH_DB: h.dbPath, HUSH_SMTP_URL: `smtp://hush:s3cret-pass@localhost:${secured.port}`, HUSH_SMTP_FROM: 'hush@tls.test' };
  const refused = await hush(['report', 'send', '--site', 'tls.test', '--to', 'a@example.com'], env);
  assert.is(refused.code, 1, 'a self-signed certificate is refused by default');
  assert.match(refused.stderr, /could not send through smtp:\/\/localhost:\d+/);
  assert.not.ok(refused.stderr.includes('s3cret-pass'), refused.stderr);
  assert.is(secured.mails.length, 0);
  const ok = await hush(['report', 'send', '--site', 'tls.test', '--to', 'a@example.com', '--period', 'month'], { ...env, HUSH_SMTP_CA: caPath });
  assert.is(ok.code, 0, ok.stderr);
  await until(() => secured.mails.length === 1);
  assert.ok(secured.mails[0].secure, 'the session was upgraded to TLS');
  assert.match(secured.mails[0].subject!, /Monthly report for tls\.test/);
});

tls('credentials are never sent in clear: a server without STARTTLS is refused; without a login, plain works', async () => {
  const env = { HUSH_DB: h.dbPath, HUSH_SMTP_FROM: 'hush@tls.test' };
  const refused = await hush(['report', 'send', '--site', 'tls.test', '--to', 'a@example.com'], { ...env, HUSH_SMTP_URL: `smtp://hush:s3cret-pass@127.0.0.1:${plain.port}` });
  assert.is(refused.code, 1);
  assert.not.ok(refused.stderr.includes('s3cret-pass'), refused.stderr);
  const ok = await hush(['report', 'send', '--site', 'tls.test', '--to', 'a@example.com'], { ...env, HUSH_SMTP_URL: `smtp://127.0.0.1:${plain.port}` });
  assert.is(ok.code, 0, ok.stderr);
  await until(() => plain.mails.length === 1);
  assert.is(plain.mails.length, 1);
  assert.not.ok(plain.mails[0].secure);
});

tls.run();

// ---------------------------------------------------------------------------------------------
const sched = suite('email: the scheduler, subscriptions and the unsubscribe link');
// Sunday 14 June 2026, 12:00 UTC: in Helsinki (UTC+3) the week of 8–14 June is not over yet.
const SUNDAY = Date.UTC(2026, 5, 14, 12);
const HOUR = 3_600_000;
let lines: string[];
const consoleLog = console.log;
sched.before(async () => {
  inbox = await smtp();
  lines = [];
  // What the core's scheduler logs (it logs to the console by default).
  console.log = (...a: unknown[]) => { lines.push(a.join(' ')); consoleLog(...a); };
  h = await harness({ HUSH_SMTP_URL: `smtp://127.0.0.1:${inbox.port}`, HUSH_SMTP_FROM: 'hush@sched.test', HUSH_PUBLIC_URL: 'https://stats.sched.test/' }, SUNDAY);
  h.core.sites.add({ domain: 'sched.test', timezone: 'Europe/Helsinki' });
  h.core.directory.refresh();
  await visits(h, 'sched.test', '/', 4);
});
sched.after(async () => {
  console.log = consoleLog;
  await h.close();
  await inbox.close();
});

/** A user subscribed from the account page, as a browser would. */
async function subscribeOnAccountPage(email: string, admin: boolean, boxes: string[]): Promise<number> {
  const user = await h.core.users.create(email, 'correct horse battery', admin, h.clock.now);
  const { token } = h.core.sessions.create(user.id, h.clock.now);
  const cookie = `hush_session=${token}`;
  const page = await (await h.core.app.request('/account', { headers: { Cookie: cookie } })).text();
  assert.match(page, /<h2>E-mail reports<\/h2>/);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1];
  const site = h.core.sites.byDomain('sched.test')!;
  const form = new URLSearchParams([['csrf', csrf], ...boxes.map((b) => ['sub', `${site.id}:${b}`]), ['sub', '999:week']]);
  const r = await h.core.app.request('/account/email', { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  assert.is(r.status, 200);
  const after = await r.text();
  for (const b of boxes) assert.match(after, new RegExp(`value="${site.id}:${b}"[^>]*checked`));
  return user.id;
}

sched('a due weekly report goes out once, Monday morning in the site\'s zone, and never again after a restart', async () => {
  const anna = await subscribeOnAccountPage('anna@example.com', true, ['week']);
  const subs = new SubscriptionRepo(h.core.store.db);
  assert.equal(subs.forUser(anna).map((s) => s.period), ['week'], 'a forged site id is not subscribed');
  assert.is(await h.core.emails.tick(), 0, 'subscribing sends nothing for the week already gone');
  h.clock.now = Date.UTC(2026, 5, 15, 2, 30); // Monday 05:30 in Helsinki: not yet
  assert.is(await h.core.emails.tick(), 0);
  h.clock.now = Date.UTC(2026, 5, 15, 4); // Monday 07:00 in Helsinki
  assert.is(await h.core.emails.tick(), 1);
  assert.is(await h.core.emails.tick(), 0);
  await h.reopen(); // a restart within the same hour
  assert.is(await h.core.emails.tick(), 0);
  await until(() => inbox.mails.length === 1);
  assert.is(inbox.mails.length, 1);
  const mail = inbox.mails[0];
  assert.equal(mail.rcpt, ['anna@example.com']);
  assert.match(mail.subject!, /Weekly report for sched\.test: 8 Jun 2026 – 14 Jun 2026/);
  assert.match(mail.text!, /\nVisitors: 4 \(\+100% vs\. the week before\)\n/, mail.text);
  const link = /Unsubscribe from this report: (\S+)/.exec(mail.text!)![1];
  assert.match(link, /^https:\/\/stats\.sched\.test\/email\/unsubscribe\?t=\d+\.[\w-]{43}$/);
  const raw = (name: string) => (mail.headerLines.find((l) => l.key === name)?.line ?? '').replace(/\r?\n\s+/g, ' ');
  assert.is(raw('list-unsubscribe'), `List-Unsubscribe: <${link}>`);
  assert.is(raw('list-unsubscribe-post'), 'List-Unsubscribe-Post: List-Unsubscribe=One-Click');
});

sched('the unsubscribe link works without login and stops the next mail; a missed report is sent once, late', async () => {
  const bo = await subscribeOnAccountPage('bo@example.com', true, ['week', 'month']);
  const link = /Unsubscribe from this report: (\S+)/.exec(inbox.mails[0].text!)![1];
  const url = new URL(link);
  const forged = await h.core.app.request(`${url.pathname}?t=${url.searchParams.get('t')!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`);
  assert.is(forged.status, 200);
  assert.is(new SubscriptionRepo(h.core.store.db).list().filter((s) => s.period === 'week').length, 2, 'a forged token unsubscribes nothing');
  const r = await h.core.app.request(url.pathname + url.search);
  assert.is(r.status, 200);
  assert.match(await r.text(), /no more weekly reports of sched\.test/);
  // Three weeks later (the server was down): Bo gets one weekly report, the latest; Anna none.
  h.clock.now = Date.UTC(2026, 6, 8, 9); // Wednesday 8 July, 12:00 in Helsinki
  assert.is(await h.core.emails.tick(), 2, 'one weekly and one monthly, for Bo');
  assert.is(await h.core.emails.tick(), 0);
  await until(() => inbox.mails.length === 3);
  const late = inbox.mails.slice(1);
  assert.ok(late.every((m) => m.rcpt[0] === 'bo@example.com'));
  assert.equal(late.map((m) => m.subject!.replace(/ for sched\.test/, '')).sort(), ['Monthly report: June 2026', 'Weekly report: 29 Jun 2026 – 5 Jul 2026']);
  assert.ok(new SubscriptionRepo(h.core.store.db).forUser(bo).length === 2);
  // No log line names a recipient, and none holds the SMTP URL.
  assert.ok(lines.some((l) => /sent the weekly report of sched\.test for 2026-06-29\.\.2026-07-05/.test(l)), lines.join('\n'));
  assert.not.ok(lines.some((l) => l.includes('@') || l.includes('smtp:')), lines.join('\n'));
  // The new table is declared in the data inventory, and nothing in it trips the audit.
  // (The key-age check reads the real clock, not this test's June: it is not this test's.)
  const report = audit(h.dbPath, { kFloor: 3 });
  const failing = report.checks.filter((c) => !c.ok && !/daily key/.test(c.name));
  assert.equal(failing, [], JSON.stringify(report.findings).slice(0, 2000));
  assert.ok(report.checks.some((c) => c.name === 'schema matches the data inventory' && c.ok));
});

sched.run();

// ---------------------------------------------------------------------------------------------
const off = suite('email: no e-mail leaves without configuration');
off.before(async () => {
  inbox = await smtp();
  h = await harness({}, SUNDAY);
  h.core.sites.add({ domain: 'off.test' });
});
off.after(async () => {
  await h.close();
  await inbox.close();
});

off('without HUSH_SMTP_URL the scheduler logs once that reports are off and sends nothing', async () => {
  const user = await h.core.users.create('c@example.com', 'correct horse battery', true, h.clock.now);
  const subs = new SubscriptionRepo(h.core.store.db);
  subs.subscribe(user.id, h.core.sites.byDomain('off.test')!.id, 'week', '2000-01-03', h.clock.now);
  const log: string[] = [];
  const s = new EmailScheduler({
    config: { smtpUrl: undefined, smtpFrom: undefined, smtpCa: undefined, publicUrl: 'https://x.test' },
    subscriptions: subs, sites: h.core.sites, users: h.core.users, clock: () => h.clock.now, log: (l) => log.push(l),
    query: () => { throw new Error('no report is built'); },
  });
  s.start();
  assert.equal(log, ['e-mail reports are off: HUSH_SMTP_URL is not set']);
  assert.is(await s.tick(), 0);
  assert.is(await h.core.emails.tick(), 0);
  await s.close();
  assert.is(inbox.mails.length, 0);
  assert.is(subs.list()[0].lastSent, '2000-01-03', 'nothing was claimed either');
  // The account page says so, and still keeps the choice.
  const { token } = h.core.sessions.create(user.id, h.clock.now);
  const page = await (await h.core.app.request('/account', { headers: { Cookie: `hush_session=${token}` } })).text();
  assert.match(page, /sends no e-mail yet \(HUSH_SMTP_URL is not set\)/);
});

off.run();
