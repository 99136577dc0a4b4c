// Hush assembled: the database, the pipeline's dependencies, the batched writer and the app,
// plus the housekeeping each needs. The Node server and the tests build the same thing here.
import { MessageChannel } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { openDb, type OpenDb } from '../store/db.ts';
import { SiteDirectory, SiteRepo } from '../store/sites.ts';
import { ApiKeyRepo } from '../store/api-keys.ts';
import { HitWriter, type WriteResult } from '../store/hit-writer.ts';
import { Batcher } from '../store/batcher.ts';
import { WriterThread } from '../store/writer-thread.ts';
import { sqliteKeyStore } from '../store/key-store.ts';
import { KeyRing } from '../pseudonymize/daily-keys.ts';
import type { CountryTables } from '../pseudonymize/country.ts';
import { AgentCache } from '../collector/user-agent.ts';
import { ClientIpResolver } from '../collector/client-ip.ts';
import { Collector } from '../collector/collect.ts';
import type { Hit } from '../collector/hit.ts';
import { createApp, type AppDeps } from './app.ts';
import type { Hono } from 'hono';
import type { Asset } from './static-assets.ts';
import { enforceRetention, type RetentionResult } from '../privacy/retention.ts';
import { privacyDocument } from '../privacy/document.ts';
import { GoalRepo } from '../store/goals.ts';
import { FunnelRepo } from '../store/funnels.ts';
import { funnelFor } from '../reports/funnel.ts';
import { runQuery } from '../reports/engine.ts';
import { exportCsv } from '../reports/export.ts';
import { propKeys } from '../reports/prop-keys.ts';
import { invalidateSite, refreshRollups, type RefreshResult } from '../reports/rollups.ts';
import { registerReportFunctions } from '../reports/sql-functions.ts';
import { ReportsThread } from '../reports/reports-thread.ts';
import { setSegmentBudget } from '../reports/segment-cache.ts';
import { UserRepo } from '../accounts/users.ts';
import { SessionStore } from '../accounts/sessions.ts';
import { LoginLimiter } from '../accounts/rate-limit.ts';
import { SharedLinkRepo } from '../accounts/shared-links.ts';
import { TwoFactor } from '../accounts/two-factor.ts';
import { httpsJudge } from '../accounts/https.ts';
import { truncateIp } from '../pseudonymize/truncate.ts';
import { StoreHealth, StoreUnavailable, errorCode } from '../store/store-health.ts';
import { Metrics } from '../ops/metrics.ts';
import { SubscriptionRepo } from '../email/subscriptions.ts';
import { EmailScheduler } from '../email/scheduler.ts';

export interface Core {
  store: OpenDb;
  sites: SiteRepo;
  directory: SiteDirectory;
  apiKeys: ApiKeyRepo;
  goals: GoalRepo;
  funnels: FunnelRepo;
  users: UserRepo;
  sessions: SessionStore;
  keys: KeyRing;
  /** Where hits are committed: in this thread (tests) or the writer thread (the server). */
  sink: InlineSink | WriterThread;
  collector: Collector;
  app: Hono;
  /** One round of housekeeping: refresh sites, delete expired keys, forget closed visits. */
  housekeeping(now?: number): { keysDeleted: number };
  /** Deletes every site's rows past its retention (the server runs it hourly and at start). */
  retention(now?: number): RetentionResult[];
  /** The reports thread (server), or null when reports run on this thread (tests, tools). */
  reports: ReportsThread | null;
  /** Rebuilds the rollups of every local day written since the last refresh (on this thread). */
  refreshRollups(now?: number): RefreshResult;
  /** Whether hits can be stored now (a failed write: disk full, I/O error). */
  health: StoreHealth;
  /** Prometheus metrics, when HUSH_METRICS_TOKEN is set. */
  metrics: Metrics | null;
  /** Scheduled e-mail reports (src/email): the server calls start(); off without HUSH_SMTP_URL. */
  emails: EmailScheduler;
  /** Writes what is queued and closes the database. */
  close(): Promise<void>;
}

/** Commits on this thread: a HitWriter behind a Batcher. Deterministic, for tests and tools. */
export class InlineSink {
  readonly writer: HitWriter;
  readonly health = new StoreHealth();
  private readonly batcher: Batcher<Hit, WriteResult>;
  constructor(store: OpenDb, config: Config, now: number) {
    this.writer = new HitWriter(store.sqlite, now);
    this.batcher = new Batcher((hits) => {
      try {
        const r = this.writer.write(hits);
        this.health.ok();
        return r;
      } catch (e) {
        this.health.failed(errorCode(e));
        throw e;
      }
    }, { maxItems: config.batchMax, delayMs: config.batchMs });
  }
  submit(hit: Hit): Promise<WriteResult> {
    if (this.health.refusing()) return Promise.reject(new StoreUnavailable('the store is refusing hits after a failed write'));
    return this.batcher.submit(hit);
  }
  prune(now: number): void {
    this.writer.prune(now);
  }
  forgetStrings(): void {
    this.writer.forgetStrings();
  }
  get pending(): number {
    return this.batcher.pending;
  }
  async close(): Promise<void> {
    this.batcher.close();
  }
}

export interface CoreOptions {
  countries: CountryTables;
  peer: AppDeps['peer'];
  clock?: () => number;
  logError?: (m: string) => void;
  /** Where the e-mail scheduler logs (default: console.log). */
  log?: (line: string) => void;
  /** Commit in a writer thread and run reports in a reports thread (the server), instead of inline (tests). */
  writerThread?: boolean;
  /** The built page script to serve at /hush.js. */
  beacon?: Asset | null;
}

export async function createCore(config: Config, opts: CoreOptions): Promise<Core> {
  const clock = opts.clock ?? Date.now;
  const store = openDb(config.dbPath, { synchronous: config.synchronous, maxMb: config.maxDbMb });
  const sites = new SiteRepo(store.db);
  const directory = new SiteDirectory(sites);
  const apiKeys = new ApiKeyRepo(store.db);
  const goals = new GoalRepo(store.db);
  const funnels = new FunnelRepo(store.db);
  const users = new UserRepo(store.db);
  const sessions = new SessionStore(store.db);
  const resolver = new ClientIpResolver(config.trustedProxies);
  const https = httpsJudge(config.trustedProxies);
  registerReportFunctions(store.sqlite);
  const keys = new KeyRing(sqliteKeyStore(store.sqlite));
  // The thread opens its own connection once this one has applied the migrations.
  // The writer tells the reports thread what each batch committed (its live rollups read no
  // events back); the channel's two ends go to the two threads.
  const digests = opts.writerThread && config.liveRollups ? new MessageChannel() : null;
  const sink = opts.writerThread
    ? await WriterThread.start({ dbPath: config.dbPath, synchronous: config.synchronous, maxMb: config.maxDbMb, digests: digests?.port1 }, config.batchMax)
    : new InlineSink(store, config, clock());
  const health = sink.health;
  const keyTimes = store.sqlite.prepare('SELECT max(created_at) AS newest, min(created_at) AS oldest FROM daily_keys');
  const metrics = config.metricsToken ? new Metrics({
    dbPath: config.dbPath, queueDepth: () => sink.pending, storeHealthy: () => health.healthy, failedCommits: () => health.failedCommits,
    keyTimes: () => keyTimes.get() as { newest: number | null; oldest: number | null }, now: clock,
  }) : null;
  if (metrics && sink instanceof WriterThread) sink.onCommit = (n, ms) => metrics.commit(n, ms);
  const reports = opts.writerThread ? await ReportsThread.start({ dbPath: config.dbPath, refreshMs: config.rollupMs, cacheMb: config.reportCacheMb, digests: digests?.port2 }) : null;
  // Without the thread, reports run on this one: its segment cache gets the same budget.
  if (!reports) setSegmentBudget(config.reportCacheMb);
  const subscriptions = new SubscriptionRepo(store.db);
  const emails = new EmailScheduler({
    config, subscriptions, sites, users, clock, log: opts.log ?? ((l) => console.log(l)),
    query: (site, body) => {
      const ctx = { site, goals: goals.list(site.id), now: clock() };
      return reports ? reports.query(ctx, body) : runQuery({ ...ctx, sqlite: store.sqlite }, body);
    },
  });
  const collector = new Collector({
    precision: config.precision, sites: directory, agents: new AgentCache(), countries: opts.countries, keys,
    resolver, sink, clock, counters: metrics ?? undefined,
  });
  const app = createApp({
    collector, sites, apiKeys,
    web: {
      sites, apiKeys, users, sessions, limiter: new LoginLimiter(), now: clock, twoFactor: new TwoFactor(store.db),
      goals, funnels, kFloor: config.kFloor, precision: config.precision, links: new SharedLinkRepo(store.db),
      propKeys: (site, name, range) => propKeys(store.sqlite, site, name, range, clock()),
      keyCreatedAt: () => (store.sqlite.prepare('SELECT max(created_at) AS t FROM daily_keys').get() as { t: number | null }).t,
      // Rollups are per local day: a new time zone means new days, so they are rebuilt.
      timezoneChanged: (siteId) => invalidateSite(store.sqlite, siteId),
      // Login limits key on the client's network, truncated like every hit's address.
      clientPrefix: (c) => truncateIp(resolver.resolve(opts.peer(c), c.req.header('x-forwarded-for')), config.precision)?.text ?? 'unknown',
      // The Secure cookie flag: X-Forwarded-Proto counts only from a trusted proxy, like X-Forwarded-For.
      isHttps: (c) => https(c.req.url, opts.peer(c), c.req.header('x-forwarded-proto')),
      ...{ emailReports: { subscriptions, sites, off: emails.off } },
    },
    query: (site, body) => {
      const ctx = { site, goals: goals.list(site.id), now: clock() };
      const run = () => (reports ? reports.query(ctx, body) : runQuery({ ...ctx, sqlite: store.sqlite }, body));
      return metrics ? metrics.timed('query', run) : run();
    },
    funnel: (site, body) => {
      const ctx = { site, goals: goals.list(site.id), now: clock() };
      const run = () => (reports ? reports.funnel(ctx, body) : funnelFor({ ...ctx, sqlite: store.sqlite }, body));
      return metrics ? metrics.timed('query', run) : run();
    },
    exportCsv: (site, params) => {
      const ctx = { site, goals: goals.list(site.id), now: clock() };
      const run = () => (reports ? reports.exportCsv(ctx, params) : exportCsv({ ...ctx, sqlite: store.sqlite }, params));
      return metrics ? metrics.timed('export', run) : run();
    }, peer: opts.peer, now: clock, beacon: opts.beacon,
    logError: opts.logError ?? ((m) => console.error(m)),
    health: () => ({ ...health.report(), pending: sink.pending, key_days: keys.days().length }),
    metrics: metrics && config.metricsToken ? { token: config.metricsToken, registry: metrics } : undefined,
    privacy: () => privacyDocument(config.precision, config.kFloor, sites.list().filter((s) => s.listed === 1)),
  });
  const core: Core = {
    store, sites, directory, apiKeys, goals, funnels, users, sessions, keys, reports, sink, collector, app, health, metrics, emails,
    housekeeping(now = clock()) {
      directory.refresh();
      sink.prune(now);
      sessions.purge(now);
      return { keysDeleted: keys.rotate(now) };
    },
    retention(now = clock()) {
      const results = enforceRetention(store.sqlite, now);
      // Ids of values just deleted must not be reused from the writer's cache.
      if (results.some((r) => r.strings > 0)) sink.forgetStrings();
      return results;
    },
    refreshRollups(now = clock()) {
      return refreshRollups(store.sqlite, sites.list(), now);
    },
    async close() {
      await emails.close();
      await sink.close();
      await reports?.close();
      store.close();
    },
  };
  core.housekeeping(); // a server that was down may hold keys past their lifetime
  return core;
}
