// One site's data at the edge: a Durable Object is the single writer of its SQLite, the role the
// writer thread plays on Node. It runs the Node store code unchanged (HitWriter, the visit
// tracker, the string dictionary, KeyRing) over DoSqlite. What it receives is a finished Hit:
// the Worker truncated the IP and hashed the visitor before calling, so no address and no
// user-agent ever reaches an object. The RPC answer — and so the 202 — leaves only once the
// write is durable (the object's output gate holds it until then). Writes arriving together are
// committed together by the runtime, which is the batching Node's writer does by hand.
// Its alarm does what Node's timers do: deletes daily keys past their day (≤ 48 h), enforces the
// site's retention (Node's enforceSiteRetention, hourly as on Node) and builds the rollups of the
// days written since the last round (Node's refreshRollups, whole-day rebuilds), so the Stats API
// here reads rollups like Node's.
import { DurableObject } from 'cloudflare:workers';
import { randomBytes } from 'node:crypto';
import { HitWriter, type WriteResult } from '../store/hit-writer.ts';
import { Batcher } from '../store/batcher.ts';
import { DAY_MS, KeyRing } from '../pseudonymize/daily-keys.ts';
import type { Hit } from '../collector/hit.ts';
import type { DurableObjectNamespace, DurableObjectState } from './cf-types.ts';
import type { Directory } from './directory-object.ts';
import { enforceSiteRetention, type RetentionResult } from '../privacy/retention.ts';
import { invalidateSite, refreshRollups } from '../reports/rollups.ts';
import { rollupReader } from '../reports/rollup-reader.ts';
import { HOUR, localDayNumber } from '../reports/time-zone.ts';
import { DoSqlite } from './do-sqlite.ts';
import { inJurisdiction } from './edge-config.ts';
import { doKeyStore } from './key-store.ts';
import { applyMigrations } from './migrations.ts';
import { fetchSums, firstEventAt, queryFor, runQuery, type QueryResponse, type QuerySums } from '../reports/engine.ts';
import { jsStringMatch, type StringMatch } from '../reports/string-match.ts';
import { propKeys } from '../reports/prop-keys.ts';
import { QueryError } from '../reports/query-error.ts';
import type { Goal } from '../store/goals.ts';
import type { Site } from '../store/sites.ts';

/** The keys a Worker needs to hash a site's visitors at `now` (never logged, never stored there). */
export interface SiteKeys {
  day: number;
  current: Uint8Array;
  /** Yesterday's key, while it still exists (a visit may continue across UTC midnight). */
  previous: Uint8Array | null;
}

/** How long the first hit of a batch waits for others to share its commit. */
const BATCH_MS = 2;

/** A minute past the next UTC midnight: when the key of the day before yesterday is due to go. */
export function nextRotation(now: number): number {
  return now - (now % DAY_MS) + DAY_MS + 60_000;
}

/** Retention runs hourly, as on Node (a shortened retention takes effect within the hour). */
export const RETENTION_MS = 3_600_000;
/**
 * How long after a write the rollups of its days are built (HUSH_ROLLUP_MS; Node's default is
 * 1 s). A round rebuilds each written day whole, and storage is billed by rows: a round over a
 * day of the demo site (~1,300 hits, ~200 rollup rows) writes ~400 rows and reads the day's
 * events, so rounds a minute apart would write ~590,000 rows a day for the hits' ~4,000 (the free
 * plan allows 100,000). An hour apart: ~10,000. Reports do not wait for a round: a day written
 * since its rollups were built is read from its events (readyToRead), so the answers are the
 * same; only a query over today reads events rather than rollups.
 */
export const EDGE_ROLLUP_MS = 3_600_000;

/** What a site's object needs of its settings (from the directory). */
export type SiteSettings = Pick<Site, 'id' | 'domain' | 'timezone' | 'retentionDays'>;

export interface Maintenance {
  keysDeleted: number;
  keyDays: string[];
  /** Null when the site is unknown to the directory (nothing of its data was deleted or built). */
  retention: RetentionResult | null;
  /** Local days whose rollups were (re)built. */
  rollupDays: number;
  /** When the alarm runs next (ms), or null: the object sleeps until a write. */
  nextAlarm: number | null;
  /** The object's jurisdiction ("eu" with HUSH_JURISDICTION=eu), or null. */
  jurisdiction: string | null;
  /** SQLite rows read and written through the store since the object was loaded, before and after this round (what storage is billed by). */
  rows: { before: { rowsRead: number; rowsWritten: number }; after: { rowsRead: number; rowsWritten: number } };
}

interface EdgeEnv {
  DIRECTORY?: DurableObjectNamespace<Directory>;
  HUSH_JURISDICTION?: string;
  HUSH_ROLLUP_MS?: string;
}

export class SiteStore extends DurableObject<EdgeEnv> {
  private readonly db: DoSqlite;
  private writer!: HitWriter;
  private keys!: KeyRing;
  private batcher!: Batcher<Hit, WriteResult>;
  /** `matches` filters and page goals, in JS: a Durable Object cannot register SQL functions. */
  private match!: StringMatch;

  /** The site this object holds (known from its first write), and the zone its rollups were built in. */
  private held: { siteId: number; rollupZone: string | null } | null = null;
  private readonly rollupMs: number;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    this.db = new DoSqlite(ctx.storage);
    const ms = Number(env.HUSH_ROLLUP_MS);
    this.rollupMs = Number.isInteger(ms) && ms >= 100 && ms <= RETENTION_MS ? ms : EDGE_ROLLUP_MS;
    void ctx.blockConcurrencyWhile(async () => {
      await applyMigrations(ctx.storage);
      // The edge's own record beside Node's schema: which site this object holds (an object
      // holds one site's shard) and the time zone its rollups' local days were cut in.
      ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS edge_site (site_id INTEGER PRIMARY KEY, rollup_zone TEXT)');
      const row = ctx.storage.sql.exec('SELECT site_id AS siteId, rollup_zone AS rollupZone FROM edge_site').toArray()[0] as
        { siteId: number; rollupZone: string | null } | undefined;
      this.held = row ?? null;
      this.keys = new KeyRing(doKeyStore(this.db), randomBytes);
      // The visits that may still grow are those open at the object's last write: restored from
      // there rather than from the clock alone (the same visits in production, where the last
      // write is not in the future; and right after a restart under the tests' made-up clock).
      const last = this.db.prepare('SELECT max(ts) FROM events').pluck().get() as number | null;
      this.writer = new HitWriter(this.db, Math.min(Date.now(), last ?? Infinity));
      this.match = jsStringMatch(this.db);
      this.batcher = new Batcher((hits) => this.writer.write(hits), { maxItems: 500, delayMs: BATCH_MS });
    });
  }

  /** Today's key (created on the day's first hit) and yesterday's; arms the rotation alarm. */
  async visitorKeys(now: number): Promise<SiteKeys> {
    const current = this.keys.current(now);
    // The alarm is armed by the runtime's clock: `now` is the request's time, which only a test
    // entry (test/helpers/edge-clock-worker.ts) sets to anything else.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(nextRotation(Date.now()));
    const previous = this.keys.previous(now);
    return { day: Math.floor(now / DAY_MS), current: new Uint8Array(current), previous: previous && new Uint8Array(previous) };
  }

  /**
   * Writes hits of this site; one result per hit ('ok' or a drop reason). Calls that arrive
   * within BATCH_MS share one transaction through Node's Batcher (the writer thread's group
   * commit), where each call would otherwise be a commit of its own; the promise settles after
   * the transaction, and the output gate holds the answer until the commit is durable.
   */
  write(hits: Hit[]): Promise<WriteResult[]> {
    if (this.held === null && hits.length > 0) {
      this.held = { siteId: hits[0].siteId, rollupZone: null };
      this.ctx.storage.sql.exec('INSERT OR IGNORE INTO edge_site (site_id) VALUES (?)', hits[0].siteId);
    }
    // Every shard builds its rollups, enforces retention and forgets finished visits in its alarm
    // (shard 0 also deletes keys there): due within rollupMs of a write.
    if (!this.armed) {
      this.armed = true;
      const due = Date.now() + this.rollupMs;
      void this.ctx.storage.getAlarm().then((a) => (a === null || a > due ? this.ctx.storage.setAlarm(due) : undefined));
    }
    return Promise.all(hits.map((h) => this.batcher.submit(h)));
  }

  /** An alarm is set (or being set) since the last one ran. */
  private armed = false;

  /**
   * A Stats API query over this site's data, by Node's report engine unchanged (over DoSqlite).
   * A refused query comes back as { error } rather than thrown: an error class does not survive RPC.
   */
  report(site: Pick<Site, 'id' | 'domain' | 'timezone' | 'minVisitors'>, goals: Goal[], body: Record<string, unknown>, now: number):
    { response?: QueryResponse; error?: string } {
    this.readyToRead(site);
    try {
      return { response: runQuery({ sqlite: this.db, site, goals, now, match: this.match }, body) };
    } catch (e) {
      if (e instanceof QueryError) return { error: e.message };
      throw e;
    }
  }

  /**
   * This shard's part of a query over a site split over several objects: the additive base sums,
   * before k-anonymity (the Worker merges every shard's and finishes; engine.ts mergeSums/finish).
   * `first`: where "all" starts, the earliest of the shards' firstEvent().
   */
  sums(site: Pick<Site, 'id' | 'domain' | 'timezone' | 'minVisitors'>, goals: Goal[], body: Record<string, unknown>, now: number,
    first: number | null | undefined): { sums?: QuerySums; error?: string } {
    this.readyToRead(site);
    try {
      const ctx = { sqlite: this.db, site, goals, now, match: this.match, firstEvent: first };
      return { sums: fetchSums(ctx, queryFor(ctx, body), true) };
    } catch (e) {
      if (e instanceof QueryError) return { error: e.message };
      throw e;
    }
  }

  /** Custom property keys of an event in a period, in this shard (the dashboard's property panels; Node's propKeys). */
  propKeys(site: Pick<Site, 'id' | 'timezone'>, eventName: string, dateRange: string | string[], now: number): string[] {
    return propKeys(this.db, site, eventName, dateRange, now);
  }

  /** When the current daily key was made (shard 0 holds the keys), or null: the site's privacy page says how old it is. */
  keyCreatedAt(): number | null {
    return (this.db.prepare('SELECT max(created_at) AS t FROM daily_keys').get() as { t: number | null }).t;
  }

  /** The site's first event (or imported day) in this shard, or null. */
  firstEvent(site: Pick<Site, 'id' | 'timezone'>): number | null {
    return firstEventAt({ sqlite: this.db, site: { ...site, domain: '', minVisitors: 0 } });
  }

  /**
   * Before a report: the rollups must say what the events say. A day written since its rollups
   * were built is read from its events until the next round rebuilds it (Node's reports thread
   * lags by up to a round instead; here a round is a minute), so its built mark is dropped —
   * one small write, only when such a day exists. Rollups cut in another time zone (the site's
   * was changed) are dropped whole, as Node's settings page does (invalidateSite).
   */
  private readyToRead(site: Pick<Site, 'id' | 'timezone'>): void {
    const held = this.held;
    if (!held || held.siteId !== site.id) return;
    if (held.rollupZone !== null && held.rollupZone !== site.timezone) {
      invalidateSite(rollupReader(this.db), site.id);
      this.db.prepare('UPDATE edge_site SET rollup_zone = NULL').run();
      held.rollupZone = null;
      this.armSoon();
      return;
    }
    const hours = this.db.prepare('SELECT DISTINCT hour FROM rollup_dirty WHERE site_id = ?').pluck().all(site.id) as number[];
    if (hours.length === 0) return;
    const days = new Set<number>();
    for (const h of hours) {
      days.add(localDayNumber(h * HOUR, site.timezone));
      days.add(localDayNumber(h * HOUR + HOUR - 1, site.timezone));
    }
    // One JSON parameter: a Durable Object binds at most 100 per statement (after a time zone
    // change every hour of the site is marked).
    const list = JSON.stringify([...days]);
    if (!this.db.prepare('SELECT 1 FROM rollup_days WHERE site_id = ? AND day IN (SELECT value FROM json_each(?)) LIMIT 1').get(site.id, list)) return;
    this.db.prepare('DELETE FROM rollup_days WHERE site_id = ? AND day IN (SELECT value FROM json_each(?))').run(site.id, list);
  }

  /** Arms the alarm for the next rollup round unless it is due sooner. */
  private armSoon(): void {
    const due = Date.now() + this.rollupMs;
    void this.ctx.storage.getAlarm().then((a) => (a === null || a > due ? this.ctx.storage.setAlarm(due) : undefined));
  }

  /**
   * The alarm's work, as if at `now`: deletes keys older than yesterday, forgets visits that can
   * no longer grow, enforces the site's retention and builds the rollups of the days written
   * since the last round. `site`: the site's settings when the caller has them (the Worker's
   * copy of the directory); otherwise they are asked of the directory.
   */
  async housekeeping(now: number, site?: SiteSettings): Promise<Maintenance> {
    const before = { ...this.db.usage };
    const keysDeleted = this.keys.rotate(now);
    this.writer.prune(now);
    let retention: RetentionResult | null = null;
    let rollupDays = 0;
    const held = this.held;
    const settings = held && (site?.id === held.siteId ? site : await this.settingsOf(held.siteId));
    if (held && settings) {
      retention = enforceSiteRetention(this.db, { id: settings.id, domain: settings.domain, timezone: settings.timezone, days: settings.retentionDays }, now);
      // Ids of values just deleted must not be reused from the writer's cache (as core.retention on Node).
      if (retention.strings > 0) this.writer.forgetStrings();
      if (held.rollupZone !== settings.timezone) {
        if (held.rollupZone !== null) invalidateSite(rollupReader(this.db), settings.id);
        this.db.prepare('UPDATE edge_site SET rollup_zone = ? WHERE site_id = ?').run(settings.timezone, settings.id);
        held.rollupZone = settings.timezone;
      }
      rollupDays = refreshRollups(rollupReader(this.db), [{ id: settings.id, timezone: settings.timezone }], now).days;
    }
    const keyDays = this.keys.days();
    const nextAlarm = this.nextAlarm(Date.now(), keyDays.length > 0);
    return { keysDeleted, keyDays, retention, rollupDays, nextAlarm, jurisdiction: this.ctx.id.jurisdiction ?? null, rows: { before, after: { ...this.db.usage } } };
  }

  /** The site's settings from the directory (null if the site is gone from it). */
  private async settingsOf(siteId: number): Promise<SiteSettings | null> {
    if (!this.env.DIRECTORY) return null;
    const ns = inJurisdiction(this.env.DIRECTORY, this.env);
    return (await ns.get(ns.idFromName('directory')).siteSettings(siteId)) as SiteSettings | null;
  }

  /**
   * When the alarm must run next: a round for rollups still to build, the hourly retention while
   * the object holds events, and the key rotation while a key exists; null when none applies
   * (an idle object with no data sleeps).
   */
  private nextAlarm(now: number, keys: boolean): number | null {
    const times: number[] = [];
    if (this.batcher.pending > 0 || this.db.prepare('SELECT 1 FROM rollup_dirty LIMIT 1').get()) times.push(now + this.rollupMs);
    if (this.db.prepare('SELECT 1 FROM events LIMIT 1').get()) times.push(now + RETENTION_MS);
    if (keys) times.push(nextRotation(now));
    return times.length ? Math.min(...times) : null;
  }

  /** Keys are gone within 48 h of their day's end (~24 h and a minute here); retention hourly; rollups a round after a write. */
  async alarm(): Promise<void> {
    const { nextAlarm } = await this.housekeeping(Date.now());
    if (nextAlarm !== null) await this.ctx.storage.setAlarm(nextAlarm);
    // Only now may a write arm it again: a write that came during the round is committed (its
    // hours are dirty) or waiting in the batcher, and nextAlarm counted either; none is
    // delivered while setAlarm is under way (the input gate).
    this.armed = false;
  }
}
