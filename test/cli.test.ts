// The `hush` CLI as a user runs it: help everywhere, one-line errors with exit code 2 for bad
// arguments and 1 for failures, sites and keys in the database named by HUSH_DB.
//
// Each command runs at least once as a real process (runCli: exit code, stderr as the shell sees
// them); the other cases run main() in this process (runCliInProcess), which the first test
// checks gives the same code, stdout and stderr as the real process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { tempDir } from './helpers/harness.ts';

let dir: string, cleanup: () => void, env: Record<string, string>;

const help = suite('cli: help and usage errors');
help.before(() => {
  ({ dir, cleanup } = tempDir());
  env = { HUSH_DB: path.join(dir, 'hush.db') };
});
help.after(() => cleanup());

help('a real process answers as main() does in this process', async () => {
  for (const args of [['--help'], ['frobnicate'], ['site', 'add', '--help'], ['site', 'add', 'ok.com', '--bogus']]) {
    const real = await runCli(args, env);
    assert.equal(await runCliInProcess(args, env), real, args.join(' '));
  }
});

help('--help on every command', async () => {
  for (const args of [['--help'], ['serve', '--help'], ['site', '--help'], ['site', 'add', '--help'], ['site', 'list', '--help'], ['site', 'remove', '--help'], ['key', '--help'], ['key', 'add', '--help']]) {
    const r = await runCliInProcess(args, env);
    assert.is(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage|hush —/, args.join(' '));
  }
});

help('bad arguments: one line on stderr, exit code 2', async () => {
  for (const [args, re] of [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['site', 'add'], /missing <domain>/],
    [['site', 'add', 'not a domain'], /is not a domain name/],
    [['site', 'add', 'ok.com', '--timezone', 'Mars/Olympus'], /not an IANA time zone/],
    [['site', 'add', 'ok.com', '--min-visitors', '0'], /--min-visitors must be a whole number/],
    [['site', 'add', 'ok.com', '--bogus'], /Unknown option '--bogus'/],
    [['site', 'zap'], /unknown subcommand "zap"/],
    [['key', 'add'], /missing <domain>/],
    [['serve', '--port', '99999'], /PORT must be a whole number/],
  ] as Array<[string[], RegExp]>) {
    const r = await runCliInProcess(args, env);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

help('bad environment for serve is a usage error, not a crash', async () => {
  const r = await runCli(['serve'], { ...env, HUSH_IP_PRECISION: 'paranoid' });
  assert.is(r.code, 2);
  assert.match(r.stderr, /HUSH_IP_PRECISION must be "default" or "strict"/);
  const p = await runCliInProcess(['serve'], { ...env, HUSH_TRUSTED_PROXIES: '10.0.0.0/8,nope' });
  assert.is(p.code, 2);
  assert.match(p.stderr, /HUSH_TRUSTED_PROXIES: "nope"/);
});

help.run();

const sites = suite('cli: sites and keys');
sites.before(() => {
  ({ dir, cleanup } = tempDir());
  env = { HUSH_DB: path.join(dir, 'sub', 'hush.db') };
});
sites.after(() => cleanup());

sites('site add / list / remove, normalised domains, duplicates refused', async () => {
  const a = await runCli(['site', 'add', 'https://WWW.Example.com/', '--timezone', 'Europe/Helsinki', '--min-visitors', '5'], env);
  assert.is(a.code, 0, a.stderr);
  assert.match(a.stdout, /Added example\.com/);
  const dup = await runCliInProcess(['site', 'add', 'example.com'], env);
  assert.is(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
  const l = await runCli(['site', 'list'], env);
  assert.match(l.stdout, /example\.com\ttimezone=Europe\/Helsinki\tmin_visitors=5/);
  const rm = await runCliInProcess(['site', 'remove', 'example.com'], env);
  assert.is(rm.code, 0, rm.stderr);
  const none = await runCliInProcess(['site', 'remove', 'example.com'], env);
  assert.is(none.code, 1);
  assert.match(none.stderr, /no site example\.com/);
});

sites('site remove asks for --yes when the site has data, then deletes all of it', async () => {
  assert.is((await runCliInProcess(['site', 'add', 'data.com'], env)).code, 0);
  const db = new Database(env.HUSH_DB);
  const id = (db.prepare("SELECT id FROM sites WHERE domain = 'data.com'").get() as { id: number }).id;
  db.prepare(`INSERT INTO events (id, site_id, ts, visit_id, name_id, host_id, page_id) VALUES (1, ?, 1, 1, 1, 1, 1)`).run(id);
  db.close();
  const refused = await runCli(['site', 'remove', 'data.com'], env);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /deletes data\.com and all its data \(1 events\); run again with --yes/);
  const ok = await runCliInProcess(['site', 'remove', 'data.com', '--yes'], env);
  assert.is(ok.code, 0, ok.stderr);
  const db2 = new Database(env.HUSH_DB, { readonly: true });
  assert.is((db2.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 0);
  db2.close();
});

sites('key add prints the key as the last line; only its hash is stored', async () => {
  assert.is((await runCliInProcess(['site', 'add', 'keys.com'], env)).code, 0);
  const r = await runCli(['key', 'add', '--site', 'keys.com'], env);
  assert.is(r.code, 0, r.stderr);
  const key = r.stdout.trim().split('\n').pop()!;
  assert.match(key, /^hush_[A-Za-z0-9_-]{43}$/);
  const db = new Database(env.HUSH_DB, { readonly: true });
  const rows = db.prepare('SELECT * FROM api_keys').all();
  db.close();
  assert.is(rows.length, 1);
  assert.not.ok(JSON.stringify(rows).includes(key));
  const missing = await runCliInProcess(['key', 'add', '--site', 'nope.com'], env);
  assert.is(missing.code, 1);
});

sites.run();
