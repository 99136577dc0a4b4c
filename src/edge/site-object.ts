// One site's data at the edge: a Durable Object is the single writer of its SQLite, the role the
// writer thread plays on Node. It runs the Node store code unchanged (HitWriter, the visit
// tracker, the string dictionary, KeyRing) over DoSqlite. What it receives is a finished Hit:
// the Worker truncated the IP and hashed the visitor before calling, so no address and no
// user-agent ever reaches an object. The RPC answer — and so the 202 — leaves only once the
// write is durable (the object's output gate holds it until then). Writes arriving together are
// committed together by the runtime, which is the batching Node's writer does by hand.
import { DurableObject } from 'cloudflare:workers';
import { randomBytes } from 'node:crypto';
import { HitWriter, type WriteResult } from '../store/hit-writer.ts';
import { Batcher } from '../store/batcher.ts';
import { DAY_MS, KeyRing } from '../pseudonymize/daily-keys.ts';
import type { Hit } from '../collector/hit.ts';
import type { DurableObjectState } from './cf-types.ts';
import { DoSqlite } from './do-sqlite.ts';
import { doKeyStore } from './key-store.ts';
import { applyMigrations } from './migrations.ts';
import { fetchSums, firstEventAt, queryFor, runQuery, type QueryResponse, type QuerySums } from '../reports/engine.ts';
import { jsStringMatch, type StringMatch } from '../reports/string-match.ts';
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

export class SiteStore extends DurableObject {
  private readonly db: DoSqlite;
  private writer!: HitWriter;
  private keys!: KeyRing;
  private batcher!: Batcher<Hit, WriteResult>;
  /** `matches` filters and page goals, in JS: a Durable Object cannot register SQL functions. */
  private match!: StringMatch;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.db = new DoSqlite(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      await applyMigrations(ctx.storage);
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
    // Every shard forgets finished visits in the nightly alarm (shard 0 also deletes keys there).
    if (!this.armed) {
      this.armed = true;
      void this.ctx.storage.getAlarm().then((a) => (a === null ? this.ctx.storage.setAlarm(nextRotation(Date.now())) : undefined));
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
    try {
      const ctx = { sqlite: this.db, site, goals, now, match: this.match, firstEvent: first };
      return { sums: fetchSums(ctx, queryFor(ctx, body), true) };
    } catch (e) {
      if (e instanceof QueryError) return { error: e.message };
      throw e;
    }
  }

  /** The site's first event (or imported day) in this shard, or null. */
  firstEvent(site: Pick<Site, 'id' | 'timezone'>): number | null {
    return firstEventAt({ sqlite: this.db, site: { ...site, domain: '', minVisitors: 0 } });
  }

  /** Deletes keys older than yesterday and forgets visits that can no longer grow. */
  housekeeping(now: number): { keysDeleted: number; keyDays: string[] } {
    const keysDeleted = this.keys.rotate(now);
    this.writer.prune(now);
    return { keysDeleted, keyDays: this.keys.days() };
  }

  /** The rotation: keys are gone within 48 h of their day's end (~24 h and a minute here). */
  async alarm(): Promise<void> {
    const now = Date.now();
    this.armed = false;
    const { keyDays } = this.housekeeping(now);
    // While a key exists, come back tomorrow to delete it; an idle site's object then sleeps.
    if (keyDays.length > 0) await this.ctx.storage.setAlarm(nextRotation(now));
  }
}
