// The whole stored data model. Every column here is part of the data inventory a privacy
// reviewer reads: nothing holds a raw IP, a full user-agent or a daily key outside `daily_keys`.
import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** A website whose hits Hush accepts. `domain` is normalised: lower case, no `www.`. */
export const sites = sqliteTable('sites', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  domain: text('domain').notNull(),
  timezone: text('timezone').notNull().default('UTC'),
  /** k for k-anonymity: report rows describing fewer visitors fold into "(other)". */
  minVisitors: integer('min_visitors').notNull().default(3),
  /** Events older than this many days are deleted (25 months ≈ 760 days, the CNIL ceiling). */
  retentionDays: integer('retention_days').notNull().default(760),
  /** Comma-separated path patterns (`*` wildcard) whose hits are dropped as `excluded`. */
  excludePaths: text('exclude_paths').notNull().default(''),
  createdAt: integer('created_at').notNull(),
  /** 1 when the site's retention and k may be listed at the public /api/privacy. */
  listed: integer('listed').notNull().default(0),
}, (t) => [
  // Hits are matched to a site by domain on every request (through an in-memory cache).
  uniqueIndex('sites_domain_uq').on(t.domain),
]);

/** Stats API keys. Only a SHA-256 of the key is stored; the key itself is shown once. */
export const apiKeys = sqliteTable('api_keys', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  keyHash: text('key_hash').notNull(),
  /** First characters of the key, so an owner can tell keys apart in a list. */
  keyPrefix: text('key_prefix').notNull(),
  createdAt: integer('created_at').notNull(),
}, (t) => [
  // Every Stats API request looks its bearer key up by hash.
  uniqueIndex('api_keys_hash_uq').on(t.keyHash),
]);

/**
 * Daily HMAC keys for visitor ids: 32 random bytes per UTC day. The current and the previous
 * day's key are kept (a visit may span midnight); older keys are deleted, which makes the
 * visitor ids of those days unlinkable for everyone.
 */
export const dailyKeys = sqliteTable('daily_keys', {
  /** UTC day, `YYYY-MM-DD`. */
  day: text('day').primaryKey(),
  key: blob('key', { mode: 'buffer' }).notNull(),
  createdAt: integer('created_at').notNull(),
});

/**
 * Every text value of events and visits (page paths, host names, event names, referrers,
 * sources, campaigns, countries, browser and OS families, …), stored once per site. Rows refer
 * to a value by its id: 1–3 bytes instead of the text on every row. Ids are never reused
 * (AUTOINCREMENT), so a report can cache them. Values no row refers to any more are deleted
 * with the rows past retention.
 */
export const strings = sqliteTable('strings', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull(),
  value: text('value').notNull(),
}, (t) => [
  // The writer looks a value up by site and text; reports decode by id.
  uniqueIndex('strings_site_value_uq').on(t.siteId, t.value),
]);

/**
 * What a visit was made with: browser and OS family and version, device type and screen class
 * (string ids), one row per combination seen on a site. A visit refers to its row instead of
 * carrying six columns: ~15 bytes less per visit (migration 0017), while a site sees a few hundred
 * to a few thousand combinations. Nothing here describes one visitor more than the visit did.
 */
export const platforms = sqliteTable('platforms', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull(),
  browserId: integer('browser_id'),
  browserVersionId: integer('browser_version_id'),
  osId: integer('os_id'),
  osVersionId: integer('os_version_id'),
  deviceId: integer('device_id').notNull(),
  screenId: integer('screen_id'),
}, (t) => [
  // The writer finds a visit's combination by its values (`IS`, NULLs included).
  index('platforms_site_values_idx').on(t.siteId, t.browserId, t.browserVersionId, t.osId, t.osVersionId, t.deviceId, t.screenId),
]);

/**
 * How a visit was acquired: source, channel and UTM tags (string ids), one row per combination
 * seen on a site, as `platforms` (~8 bytes less per visit). The referrer stays on the visit: its
 * path makes it nearly as varied as the visits themselves.
 */
export const acquisitions = sqliteTable('acquisitions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull(),
  sourceId: integer('source_id'),
  channelId: integer('channel_id').notNull(),
  utmSourceId: integer('utm_source_id'),
  utmMediumId: integer('utm_medium_id'),
  utmCampaignId: integer('utm_campaign_id'),
  utmContentId: integer('utm_content_id'),
  utmTermId: integer('utm_term_id'),
}, (t) => [
  index('acquisitions_site_values_idx').on(t.siteId, t.sourceId, t.channelId, t.utmSourceId, t.utmMediumId, t.utmCampaignId, t.utmContentId, t.utmTermId),
]);

/**
 * One row per visit: a visitor id's hits with gaps under 30 minutes. `*_id` columns refer to
 * strings; where it came from and what it was made with are rows of `acquisitions` and
 * `platforms`. What the visit's events already say is not repeated here (its host, its custom
 * event count and engaged time: sums over its events, never read from this table).
 */
export const visits = sqliteTable('visits', {
  id: integer('id').primaryKey(),
  siteId: integer('site_id').notNull(),
  /** HMAC-SHA256(daily key, site ‖ IP prefix ‖ UA) truncated to 64 bits, as a signed integer. */
  visitorId: integer('visitor_id').notNull(),
  startTs: integer('start_ts').notNull(),
  /**
   * Last activity minus first: 0–3 bytes where a time is 6. `end_ts` (a virtual column, stored
   * nowhere) gives the latest hit's time, or a hit's time plus its reported engagement.
   */
  durationMs: integer('duration_ms').notNull(),
  endTs: integer('end_ts').generatedAlwaysAs(sql`start_ts + duration_ms`, { mode: 'virtual' }),
  entryPageId: integer('entry_page_id').notNull(),
  exitPageId: integer('exit_page_id').notNull(),
  pageviews: integer('pageviews').notNull(),
  /** 1 while the visit has at most one pageview and no interactive custom event. */
  bounce: integer('bounce').notNull(),
  /** Referring page: host (www. removed) and path, without query string. */
  referrerId: integer('referrer_id'),
  countryId: integer('country_id'),
  languageId: integer('language_id'),
  platformId: integer('platform_id').notNull(),
  acquisitionId: integer('acquisition_id').notNull(),
});
// No index by (site, start): reports reach visits by id from their events, which are clustered by
// (site, time) already; retention and the string sweep find a site's visits without one (migration
// 0016: the index was 5.1 of 78.4 bytes per event on the 10M-event bench).

/**
 * One row per accepted hit (page view, custom event or engagement report). Who made it (visitor
 * id, country, browser, source, …) is on its visit, once per visit rather than on every row.
 * `*_id` columns refer to strings.
 */
export const events = sqliteTable('events', {
  /** Unique, from the `sequences` counter (several processes may write). */
  id: integer('id').notNull(),
  siteId: integer('site_id').notNull(),
  ts: integer('ts').notNull(),
  /** The visit, or 0 for a log request outside any visit. */
  visitId: integer('visit_id').notNull(),
  /** `pageview`, `engagement`, `request` (log) or the custom event's name. */
  nameId: integer('name_id').notNull(),
  hostId: integer('host_id').notNull(),
  /** Path only (plus `#fragment` in hash mode); the query string is never stored. */
  pageId: integer('page_id').notNull(),
  bytes: integer('bytes'),
  status: integer('status'),
  loadMs: integer('load_ms'),
  engagementMs: integer('engagement_ms'),
  /**
   * Engagement rows only: the deepest point of the page seen so far, percent 0–100 (Plausible's
   * `sd`). NULL on every other row (one byte: its type in the record header, no value).
   */
  scrollDepth: integer('scroll_depth'),
  /** Custom properties as a JSON object of strings. */
  props: text('props'),
  revenueAmount: real('revenue_amount'),
  revenueCurrency: text('revenue_currency'),
  /**
   * Bit 0: not interactive (the event does not end a bounce), bit 1: imported from an access log.
   * One column for two flags: every column costs each row a header byte even when its value does
   * not (0 and 1 are stored in the header alone): 1 byte per event (migration 0018).
   */
  flags: integer('flags').notNull().default(0),
  /** Whether the event counts against bounce (virtual: read from `flags`). */
  interactive: integer('interactive').generatedAlwaysAs(sql`1 - (flags & 1)`, { mode: 'virtual' }),
  /** 1 when imported from an access log, 0 from the script (virtual: read from `flags`). */
  fromLog: integer('from_log').generatedAlwaysAs(sql`(flags >> 1) & 1`, { mode: 'virtual' }),
}, (t) => [
  // Clustered (WITHOUT ROWID, set in migration 0010): a site's events in time order are stored
  // together, so a report scans contiguous pages and needs no separate index (~17 B/event less).
  primaryKey({ columns: [t.siteId, t.ts, t.id] }),
]);

/** Counters handed out inside write transactions, so ids stay unique across writing processes. */
export const sequences = sqliteTable('sequences', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
});

/**
 * Access-log import progress per site, so importing a file twice (or an overlapping rotated
 * one) counts nothing twice: lines more than 5 minutes older than `last_ts` are skipped, and
 * within those 5 minutes lines whose fingerprint is in `boundary`. Fingerprints hash only what
 * events store anyway (the IP prefix, never the address; UA families, never the string).
 */
export const importState = sqliteTable('import_state', {
  siteId: integer('site_id').primaryKey().references(() => sites.id, { onDelete: 'cascade' }),
  lastTs: integer('last_ts').notNull(),
  /** JSON array of [fingerprint, log time, count] for the lines of the last 5 minutes. */
  boundary: text('boundary').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Goals: a custom event name (`kind` event) or a page path pattern (`kind` page, `*` within a
 * segment, `**` across) whose visitors and conversion rate reports show under `event:goal`.
 */
export const goals = sqliteTable('goals', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  /** Display name, unique per site: the event name, or `Visit <pattern>` for a page goal. */
  name: text('name').notNull(),
  kind: text('kind', { enum: ['event', 'page'] }).notNull(),
  /** The event name or the path pattern. */
  value: text('value').notNull(),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('goals_site_name_uq').on(t.siteId, t.name)]);

/**
 * Funnels: 2–8 ordered steps, each a page path pattern (as page goals) or a custom event name;
 * reports count the visits that reached each step in order (src/reports/funnel.ts).
 */
export const funnels = sqliteTable('funnels', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  /** Display name, unique per site. */
  name: text('name').notNull(),
  /** JSON list of {"kind": "page"|"event", "value": pattern or event name}. */
  steps: text('steps').notNull(),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('funnels_site_name_uq').on(t.siteId, t.name)]);

/** The additive base sums of every report metric (see src/reports/metrics.ts), for a rollup row. */
function baseSums() {
  return {
    visitors: integer('visitors').notNull(),
    visits: integer('visits').notNull(),
    pageviews: integer('pageviews').notNull(),
    events: integer('events').notNull(),
    bounces: integer('bounces').notNull(),
    durationMs: integer('duration_ms').notNull(),
    visitPageviews: integer('visit_pageviews').notNull(),
    bytes: integer('bytes').notNull(),
    loadMs: integer('load_ms').notNull(),
    loadN: integer('load_n').notNull(),
    engagedMs: integer('engaged_ms').notNull(),
    engagedVisits: integer('engaged_visits').notNull(),
  };
}

/**
 * Daily rollups: per site, local day (in the site's time zone) and dimension value. Distinct
 * visitors and visits are per day, so days add up exactly (the visitor key rotates daily).
 * `dim` 0 is the whole site; other codes are listed in src/reports/dimensions.ts.
 */
export const dailyStats = sqliteTable('daily_stats', {
  siteId: integer('site_id').notNull(),
  /** Local day: days since 1970-01-01 of the site's calendar date. */
  day: integer('day').notNull(),
  dim: integer('dim').notNull(),
  /** The dimension value; NULL for "(none)". */
  value: text('value'),
  ...baseSums(),
  /**
   * Scroll depth's sums, on page rows (dim 1) only: over the visits with an engagement report that
   * carried a scroll depth on that page that day, the sum of each visit's deepest and their count
   * (src/reports/rollups.ts). NULL where the writer did not compute them (rows of other dims, or
   * written before migration 0015 or by a writer that lacks them): reports then read that day's
   * scroll depth from events.
   */
  scrollSum: integer('scroll_sum'),
  scrollN: integer('scroll_n'),
}, (t) => [
  // Reports read one dimension of one site over a run of days.
  index('daily_stats_site_dim_day_idx').on(t.siteId, t.dim, t.day),
]);

/** Hourly whole-site rollups, for hourly charts. Hourly uniques are never summed into days. */
export const hourlyStats = sqliteTable('hourly_stats', {
  siteId: integer('site_id').notNull(),
  /** Local hour: hours since 1970-01-01T00:00 of the site's wall clock. */
  hour: integer('hour').notNull(),
  ...baseSums(),
}, (t) => [primaryKey({ columns: [t.siteId, t.hour] })]);

/** Local days whose rollups have been built (reports read raw events for days not listed). */
export const rollupDays = sqliteTable('rollup_days', {
  siteId: integer('site_id').notNull(),
  day: integer('day').notNull(),
  builtAt: integer('built_at').notNull(),
}, (t) => [primaryKey({ columns: [t.siteId, t.day] })]);

/**
 * UTC hours with events written since their rollups were last built. The writer bumps `gen`
 * with every batch; the builder clears a row only if `gen` is what it read, so nothing is missed.
 */
export const rollupDirty = sqliteTable('rollup_dirty', {
  siteId: integer('site_id').notNull(),
  /** Hours since 1970-01-01T00:00Z. */
  hour: integer('hour').notNull(),
  gen: integer('gen').notNull(),
}, (t) => [primaryKey({ columns: [t.siteId, t.hour] })]);

/** People who may open the dashboard. The password is stored as an scrypt hash only. */
export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Lower-cased login e-mail. */
  email: text('email').notNull(),
  /** `scrypt$N$r$p$salt$hash` (base64): never the password. */
  passwordHash: text('password_hash').notNull(),
  /** 1: sees and manages every site (the first user, created at setup). */
  admin: integer('admin').notNull().default(0),
  createdAt: integer('created_at').notNull(),
  /** RFC 6238 secret (base32) once two-factor login is on; null while off. */
  totpSecret: text('totp_secret'),
  /** A secret being set up, until the first code confirms it. */
  totpPending: text('totp_pending'),
  /** The last 30-second step a code was accepted for: a code works once. */
  totpLastStep: integer('totp_last_step'),
}, (t) => [uniqueIndex('users_email_uq').on(t.email)]);

/** One-time recovery codes for two-factor login, stored as SHA-256 hashes; used ones are deleted. */
export const recoveryCodes = sqliteTable('recovery_codes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  codeHash: text('code_hash').notNull(),
}, (t) => [index('recovery_codes_user_idx').on(t.userId)]);

/** Which sites a (non-admin) user may see, and as what. */
export const memberships = sqliteTable('memberships', {
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  role: text('role', { enum: ['owner', 'viewer'] }).notNull(),
}, (t) => [primaryKey({ columns: [t.userId, t.siteId] })]);

/**
 * Dashboard sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy of
 * the database cannot log anyone in. Logging out deletes the row.
 */
export const sessions = sqliteTable('sessions', {
  tokenHash: text('token_hash').primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  /** Per-session secret every state-changing form must echo (CSRF). */
  csrf: text('csrf').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Last request; a session idle for 7 days ends. */
  seenAt: integer('seen_at').notNull(),
  /** Hard end, 30 days after login. */
  expiresAt: integer('expires_at').notNull(),
});

/**
 * Read-only links to a site's dashboard. Only a hash of the link's token is stored (the link is
 * shown once); an optional password is an scrypt hash. Deleting the row revokes the link.
 */
export const sharedLinks = sqliteTable('shared_links', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull(),
  label: text('label').notNull(),
  passwordHash: text('password_hash'),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('shared_links_token_uq').on(t.tokenHash)]);

/**
 * Scheduled e-mail reports (src/email): a user's weekly or monthly report of a site. `secret`
 * signs the unsubscribe link in each mail (no login needed); deleting the row unsubscribes.
 */
export const emailSubscriptions = sqliteTable('email_subscriptions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  period: text('period', { enum: ['week', 'month'] }).notNull(),
  /** Random key (hex) the unsubscribe token is an HMAC under. */
  secret: text('secret').notNull(),
  /** First local day (YYYY-MM-DD) of the last period sent, so a restart never sends it again. */
  lastSent: text('last_sent'),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('email_subscriptions_uq').on(t.userId, t.siteId, t.period)]);

/**
 * Aggregates imported from another analytics tool (`hush import-plausible`): one row per import,
 * so `--remove` deletes exactly what it added. Reports add its days only before the site's first
 * native event. Nothing here describes a visitor: the source's export holds daily totals only.
 */
export const imports = sqliteTable('imports', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  siteId: integer('site_id').notNull().references(() => sites.id, { onDelete: 'cascade' }),
  /** Where the aggregates came from: `plausible`. */
  source: text('source').notNull(),
  /** First and last local day with data (days since 1970-01-01 of the calendar date). */
  fromDay: integer('from_day').notNull(),
  toDay: integer('to_day').notNull(),
  /** Rows written to imported_stats. */
  rows: integer('rows').notNull(),
  createdAt: integer('created_at').notNull(),
});

/**
 * Imported daily aggregates, in the shape of `daily_stats`: per site, local day and dimension
 * value (codes of src/reports/dimensions.ts; 0 is the whole site), the same additive base sums.
 */
export const importedStats = sqliteTable('imported_stats', {
  importId: integer('import_id').notNull(),
  siteId: integer('site_id').notNull(),
  day: integer('day').notNull(),
  dim: integer('dim').notNull(),
  /** The dimension value; NULL for "(none)". */
  value: text('value'),
  ...baseSums(),
}, (t) => [
  // Reports read one dimension of one site over a run of days, as from daily_stats.
  index('imported_stats_site_dim_day_idx').on(t.siteId, t.dim, t.day),
]);
