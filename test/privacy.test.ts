// The public privacy document, the policy text, and erasure that leaves no byte behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import { harness } from './helpers/harness.ts';
import { runCli } from './helpers/spawn-server.ts';
import { runCliInProcess } from './helpers/cli-in-process.ts';
import { INVENTORY } from '../src/privacy/inventory.ts';

const doc = suite('privacy: GET /api/privacy and hush privacy');

doc('the public document: inventory, IP precision, hash scheme, key lifetime, k and listed sites only', async () => {
  const h = await harness({ HUSH_IP_PRECISION: 'strict' });
  h.core.sites.add({ domain: 'public.org', retentionDays: 400, minVisitors: 5, listed: 1 });
  h.core.sites.add({ domain: 'private.org' });
  const r = await h.core.app.request('/api/privacy');
  assert.is(r.status, 200);
  assert.is(r.headers.get('access-control-allow-origin'), '*');
  const d = await r.json();
  assert.equal(d.ip_addresses.truncated_to, { ipv4: '/16', ipv6: '/32' });
  assert.is(d.ip_addresses.stored, false);
  assert.match(d.visitor_hash.scheme, /HMAC-SHA256/);
  assert.match(d.visitor_hash.key_lifetime, /48 hours/);
  assert.is(d.k_anonymity.minimum_k, 3);
  assert.equal(d.sites, [{ domain: 'public.org', time_zone: 'UTC', retention_days: 400, min_visitors: 5 }]);
  assert.equal(Object.keys(d.inventory).sort(), Object.keys(INVENTORY).sort());
  assert.ok(d.inventory.visits.visitor_id.purpose);
  await h.close();
});

doc('hush privacy --markdown: a policy section and a record of processing for the site', async () => {
  const h = await harness();
  h.core.sites.add({ domain: 'shop.example', retentionDays: 395, minVisitors: 4 });
  const r = await runCli(['privacy', '--markdown', '--site', 'shop.example'], { HUSH_DB: h.dbPath });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /## Website analytics/);
  assert.match(r.stdout, /shop\.example/);
  assert.match(r.stdout, /first 24 bits for IPv4/);
  assert.match(r.stdout, /fewer than 4 visitors/);
  assert.match(r.stdout, /kept for 395 days/);
  assert.match(r.stdout, /Record of processing activities/);
  const json = await runCliInProcess(['privacy'], { HUSH_DB: h.dbPath }); // main() in this process
  assert.is(JSON.parse(json.stdout).sites.length, 0, 'not listed unless the site opts in');
  await h.close();
});

doc.run();

const erase = suite('privacy: erasure');

erase('site remove --erase leaves no byte of the site\'s rows in the file; other sites stay', async () => {
  const h = await harness();
  const gone = h.core.sites.add({ domain: 'gone.example' });
  h.core.sites.add({ domain: 'kept.example' });
  h.core.directory.refresh();
  for (let i = 0; i < 300; i++) {
    await h.post({ n: 'pageview', u: `https://gone.example/erase-me-marker-${i}`, d: 'gone.example' }, { ip: `198.51.100.${i % 250}` });
  }
  await h.post({ n: 'pageview', u: 'https://kept.example/keep-me-marker', d: 'kept.example' });
  h.core.apiKeys.create(gone.id);
  const dbPath = h.dbPath;
  const bytes = () => Buffer.concat([dbPath, `${dbPath}-wal`].filter(existsSync).map((f) => readFileSync(f))).toString('latin1');
  assert.ok(bytes().includes('erase-me-marker-'), 'precondition: the rows are in the file');
  const refused = await runCli(['site', 'remove', 'gone.example', '--erase'], { HUSH_DB: dbPath });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /run again with --yes/);
  // the refusal above is a real process (its stdin is no terminal); the removal runs main() here
  const r = await runCliInProcess(['site', 'remove', 'gone.example', '--erase', '--yes'], { HUSH_DB: dbPath });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Removed gone\.example: 300 events and \d+ visits; the database was compacted/);
  const after = bytes();
  assert.not.ok(after.includes('erase-me-marker-'), 'no byte of the erased rows remains');
  assert.not.ok(after.includes('gone.example'), 'not even the domain');
  assert.ok(after.includes('keep-me-marker'), 'the other site is untouched');
  await h.close();
});

erase.run();
