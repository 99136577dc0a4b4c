// Daily keys: one per UTC day, created on first use, shared through the database, deleted
// when they pass their lifetime — and then gone from the file's bytes, not only from the table.
// Also the visitor hash: keyed, per site, unambiguous.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { openDb } from '../src/store/db.ts';
import { sqliteKeyStore } from '../src/store/key-store.ts';
import { KeyRing, utcDay, DAY_MS } from '../src/pseudonymize/daily-keys.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { visitorId, visitorMessage, hmac64 } from '../src/pseudonymize/visitor-id.ts';
import { tempDir, harness } from './helpers/harness.ts';

const T0 = Date.UTC(2026, 2, 10, 15, 0, 0);

const keys = suite('daily keys');

keys('one 32-byte key per UTC day, stable within the day, persisted', () => {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'k.db');
  const db = openDb(file);
  const ring = new KeyRing(sqliteKeyStore(db.sqlite));
  const k1 = ring.current(T0);
  assert.is(k1.length, 32);
  assert.ok(ring.current(T0 + 3600_000).equals(k1));
  const k2 = ring.current(T0 + DAY_MS);
  assert.not.ok(k2.equals(k1));
  assert.equal(ring.days(), ['2026-03-10', '2026-03-11']);
  // a second process (the CLI importer, a restart) sees the same keys
  const other = new KeyRing(sqliteKeyStore(db.sqlite));
  assert.ok(other.current(T0).equals(k1));
  db.close();
  cleanup();
});

keys('two rings racing for a new day agree on one key', () => {
  const db = openDb(':memory:');
  const a = new KeyRing(sqliteKeyStore(db.sqlite));
  const b = new KeyRing(sqliteKeyStore(db.sqlite));
  assert.ok(a.current(T0).equals(b.current(T0)));
  db.close();
});

keys('yesterday is kept, older keys are deleted; after deletion the bytes are gone from file and WAL', () => {
  const { dir, cleanup } = tempDir();
  const file = path.join(dir, 'k.db');
  const db = openDb(file);
  const ring = new KeyRing(sqliteKeyStore(db.sqlite));
  const old = Buffer.from(ring.current(T0));
  const mid = Buffer.from(ring.current(T0 + DAY_MS));
  ring.current(T0 + 2 * DAY_MS);
  const bytes = () => Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  assert.ok(bytes().includes(old), 'precondition: the key is in the file');
  // day 3, 00:10 UTC: day 1 ended 24 h 10 min ago → deleted; day 2 (yesterday) kept
  const n = ring.rotate(T0 + 2 * DAY_MS - 15 * 3600_000 + 10 * 60_000);
  assert.is(n, 1);
  assert.equal(ring.days(), [utcDay(T0 + DAY_MS), utcDay(T0 + 2 * DAY_MS)]);
  assert.is(ring.previous(T0 + 2 * DAY_MS)?.equals(mid), true);
  assert.not.ok(bytes().includes(old), 'the deleted key must not survive in the database file or WAL');
  const rows = db.sqlite.prepare('SELECT day FROM daily_keys').all();
  assert.is(rows.length, 2);
  db.close();
  cleanup();
});

keys('no key outlives 48 hours after its day ends', () => {
  const db = openDb(':memory:');
  const ring = new KeyRing(sqliteKeyStore(db.sqlite));
  for (let d = 0; d < 5; d++) ring.current(T0 + d * DAY_MS);
  const now = T0 + 4 * DAY_MS;
  ring.rotate(now);
  for (const day of ring.days()) {
    const dayEnd = Date.parse(`${day}T00:00:00Z`) + DAY_MS;
    assert.ok(now - dayEnd < 48 * 3600_000, `${day} is too old`);
  }
  db.close();
});

keys('a (re)starting server deletes keys that expired while it was down', async () => {
  const h = await harness({}, T0);
  h.core.keys.current(T0);
  h.core.keys.current(T0 + DAY_MS);
  h.clock.now = T0 + 5 * DAY_MS;
  await h.reopen();
  assert.equal(h.core.keys.days(), []);
  const n = (h.core.store.sqlite.prepare('SELECT count(*) AS n FROM daily_keys').get() as { n: number }).n;
  assert.is(n, 0);
  // the periodic housekeeping does the same for a server that keeps running
  h.core.keys.current(h.clock.now);
  h.clock.now += 3 * DAY_MS;
  assert.is(h.core.housekeeping().keysDeleted, 1);
  await h.close();
});

keys.run();

const hash = suite('visitor hash');

hash('64-bit, keyed, per site', () => {
  const k1 = Buffer.alloc(32, 1), k2 = Buffer.alloc(32, 2);
  const id = visitorId(k1, 1, '203.0.113.0/24', 'UA');
  assert.is(typeof id, 'bigint');
  assert.ok(id >= -(2n ** 63n) && id < 2n ** 63n);
  assert.is(visitorId(k1, 1, '203.0.113.0/24', 'UA'), id);
  assert.is.not(visitorId(k2, 1, '203.0.113.0/24', 'UA'), id, 'a new key unlinks the id');
  assert.is.not(visitorId(k1, 2, '203.0.113.0/24', 'UA'), id, 'no id spans two sites');
  assert.is.not(visitorId(k1, 1, '203.0.114.0/24', 'UA'), id);
});

hash('fields are length-prefixed: shifting characters between fields changes the message', () => {
  assert.is.not(visitorMessage(1, '2.0.0.0/8', 'x'), visitorMessage(12, '.0.0.0/8', 'x'));
  assert.is.not(visitorMessage(1, 'a|b', 'c'), visitorMessage(1, 'a', 'b|c'));
});

hash('the one-shot HMAC gives createHmac\'s bytes: any key length, non-ASCII, lone surrogates, long messages', () => {
  const ref = (k: Buffer, m: string) => createHmac('sha256', k).update(m).digest().readBigInt64BE(0);
  const pieces = ['Mozilla/5.0 (X11; Linux x86_64)', 'é', '日本語', '😀', '\ud800', '\udfff', '|', ':', '\u0000', ' '];
  let seed = 1;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (const keyLen of [1, 16, 32, 63, 64, 65, 100]) {
    const key = randomBytes(keyLen);
    for (let i = 0; i < 300; i++) {
      let m = '';
      const parts = rnd(4) === 0 ? 200 + rnd(400) : rnd(40);
      for (let j = 0; j < parts; j++) m += pieces[rnd(pieces.length)];
      assert.is(hmac64(key, m), ref(key, m), `key ${keyLen} B, message of ${m.length} chars`);
    }
    for (const m of ['', 'x'.repeat(1399), 'x'.repeat(1400), 'x'.repeat(1401), '😀'.repeat(700), '日'.repeat(1400), 'é'.repeat(5000)]) {
      assert.is(hmac64(key, m), ref(key, m), `key ${keyLen} B, ${m.length} chars`);
    }
  }
  const k = Buffer.alloc(32, 7);
  assert.is(visitorId(k, 3, '203.0.113.0/24', 'UA'), ref(k, visitorMessage(3, '203.0.113.0/24', 'UA')));
});

hash('visitorId writes the message itself: the same id as HMAC over visitorMessage, at every block length', () => {
  const ref = (k: Buffer, m: string) => createHmac('sha256', k).update(m).digest().readBigInt64BE(0);
  const pieces = ['Mozilla/5.0 (X11; Linux x86_64)', 'a', 'é', '日本語', '😀', '\ud800', '\udfff', '|', ':', ' ', 'AppleWebKit/537.36'];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const key = randomBytes(32);
  // every message length from 0 to 300 ASCII bytes crosses each padding boundary (55/56, 119/120…)
  for (let len = 0; len < 300; len++) {
    const ua = 'x'.repeat(len);
    assert.is(visitorId(key, 1, '203.0.113.0/24', ua), ref(key, visitorMessage(1, '203.0.113.0/24', ua)), `${len} chars`);
  }
  for (let i = 0; i < 500; i++) {
    let prefix = '', ua = '';
    for (let j = rnd(4); j > 0; j--) prefix += pieces[rnd(pieces.length)];
    for (let j = rnd(rnd(8) === 0 ? 200 : 12); j > 0; j--) ua += pieces[rnd(pieces.length)];
    const site = [1, 9, 10, 12345, 2 ** 31][rnd(5)];
    assert.is(visitorId(key, site, prefix, ua), ref(key, visitorMessage(site, prefix, ua)), `site ${site}, ${prefix.length} + ${ua.length} chars`);
  }
  for (const ua of ['x'.repeat(1340), 'x'.repeat(1400), '😀'.repeat(680), '日'.repeat(1500)]) {
    assert.is(visitorId(key, 1, '2001:db8:1::/48', ua), ref(key, visitorMessage(1, '2001:db8:1::/48', ua)), `${ua.length} chars`);
  }
});

hash.run();
