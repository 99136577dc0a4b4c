// Writes a batch of hits in one transaction: each hit joins its visit, its event row is
// inserted, and every visit the batch touched is written once (inserted when the batch opened it,
// else upserted); text values go through the per-site dictionary. Prepared statements, not the
// Drizzle builder, on this path: ~15k rows/s through the builder vs 100k+ prepared (PERF-NOTES).
// Rows go several per INSERT (events six, new visits seven): binding and stepping one statement
// per row cost more than the row itself.
import type { SqlConnection, SqlStatement } from './sql.ts';
import { Dictionary } from './dictionary.ts';
import type { Hit, DropReason } from '../collector/hit.ts';
import { VisitTracker, VISIT_KEEP_MS, isBounce, isLogRequest, type Visit } from './visits.ts';
import { BatchDigest } from './batch-digest.ts';
import { RowBatch } from './row-batch.ts';
import { ACQUISITION_COLS, PLATFORM_COLS, VisitProfiles } from './visit-profiles.ts';
import { VISIT_JOINS } from '../reports/dimensions.ts';

export type WriteResult = 'ok' | DropReason;

const HOUR_MS = 3_600_000;

const EVENT_COLS = [
  'id', 'site_id', 'ts', 'visit_id', 'name_id', 'host_id', 'page_id', 'bytes', 'status', 'load_ms', 'engagement_ms', 'scroll_depth', 'props',
  'revenue_amount', 'revenue_currency', 'flags',
];
/** events.flags (migration 0018): bit 0 not interactive, bit 1 from an access log. */
const NOT_INTERACTIVE = 1, FROM_LOG = 2;
/**
 * Event rows per INSERT (row-batch.ts): 16 rows ~1.8 µs a row, six ~2.3, one ~3.6. Six, because a
 * Durable Object's SQLite binds at most 100 parameters.
 */
const EVENTS_PER_INSERT = 6;

/**
 * Visit fields kept as text in memory and as string ids in the table: on the visit row itself, or
 * (PLATFORM_COLS, ACQUISITION_COLS) on its `platforms` and `acquisitions` rows (visit-profiles.ts).
 * The visit's host is not stored: it is its first event's.
 */
const VISIT_TEXT: Array<[keyof Visit, string]> = [
  ['entryPage', 'entry_page_id'], ['exitPage', 'exit_page_id'], ['referrerHost', 'referrer_id'],
  ['source', 'source_id'], ['channel', 'channel_id'], ['utmSource', 'utm_source_id'], ['utmMedium', 'utm_medium_id'],
  ['utmCampaign', 'utm_campaign_id'], ['utmContent', 'utm_content_id'], ['utmTerm', 'utm_term_id'], ['country', 'country_id'],
  ['browser', 'browser_id'], ['browserVersion', 'browser_version_id'], ['os', 'os_id'], ['osVersion', 'os_version_id'],
  ['device', 'device_id'], ['language', 'language_id'], ['screen', 'screen_id'],
];
const EXIT = VISIT_TEXT.findIndex(([f]) => f === 'exitPage');
// textIds reads the fields in this order by name.
if (VISIT_TEXT.map(([f]) => f).join() !== 'entryPage,exitPage,referrerHost,source,channel,utmSource,utmMedium,utmCampaign,utmContent,utmTerm,country,browser,browserVersion,os,osVersion,device,language,screen') {
  throw new Error('VISIT_TEXT changed: update textIds');
}
const textAt = (cols: readonly string[]) => cols.map((c) => VISIT_TEXT.findIndex(([, col]) => col === c));
const PLATFORM_AT = textAt(PLATFORM_COLS), ACQUISITION_AT = textAt(ACQUISITION_COLS);
/** The text ids on the visit row; after the VISIT_TEXT ids a visit's id list holds its platform and acquisition ids. */
const OWN_TEXT = VISIT_TEXT.map(([, c]) => c).filter((c) => !(PLATFORM_COLS as readonly string[]).includes(c) && !(ACQUISITION_COLS as readonly string[]).includes(c));
const OWN_AT = textAt(OWN_TEXT), PLATFORM = VISIT_TEXT.length, ACQUISITION = PLATFORM + 1;
// writeBatch binds the five by hand (no array per visit).
if (OWN_AT.length !== 5) throw new Error(`the visit row has ${OWN_AT.length} text columns, writeBatch binds 5`);
// Read back for the visits still open at a start (end_ts is virtual: start_ts + duration_ms).
const VISIT_NUM = ['id', 'site_id', 'visitor_id', 'start_ts', 'end_ts', 'pageviews', 'bounce'];
const VISIT_COLS = ['id', 'site_id', 'visitor_id', 'start_ts', 'duration_ms', 'pageviews', 'bounce', ...OWN_TEXT, 'platform_id', 'acquisition_id'];
/**
 * New visits per INSERT (14 columns: 98 parameters, under a Durable Object's 100). A visit opened
 * in this batch has a fresh id from the `visits` counter, so it cannot conflict: only visits
 * written before take the upsert (one statement each). Most hits open a visit under load (the
 * ingestion bench: every one), so this was one statement per hit.
 */
const VISITS_PER_INSERT = Math.floor(100 / VISIT_COLS.length);
// Columns a later hit of the same visit can change.
const VISIT_MUTABLE = ['duration_ms', 'exit_page_id', 'pageviews', 'bounce'];
/** Where a visit text column is read from in the restore query (the aliases of VISIT_JOINS). */
const aliasOf = (c: string) => ((PLATFORM_COLS as readonly string[]).includes(c) ? 'vp' : (ACQUISITION_COLS as readonly string[]).includes(c) ? 'va' : 'v');

const camel = (c: string) => c.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());

/** The referrer as stored: host and path in one value (the visit:referrer dimension). */
const referrerOf = (v: Visit) => (v.referrerHost === null ? null : v.referrerHost + (v.referrerPath ?? ''));

export class HitWriter {
  /** Event rows not inserted yet, and new visits' rows (row-batch.ts). */
  private readonly events: RowBatch;
  private readonly newVisits: RowBatch;
  private readonly upsertVisit: SqlStatement;
  private readonly maxVisitId: SqlStatement;
  private readonly markDirty: SqlStatement;
  private readonly reserveIds: SqlStatement;
  private nextEventId = 0;
  private readonly recentVisits: SqlStatement;
  private readonly tracker: VisitTracker;
  private readonly dict: Dictionary;
  private readonly profiles: VisitProfiles;
  private readonly tx: (hits: Hit[]) => WriteResult[];
  /** Told of every committed batch (the reports thread's live rollups), when set. */
  private readonly digest: BatchDigest | null;

  constructor(private readonly sqlite: SqlConnection, now = Date.now(), onCommit?: (digest: Float64Array) => void) {
    this.digest = onCommit ? new BatchDigest(onCommit, VISIT_TEXT.map(([, c]) => c)) : null;
    this.events = new RowBatch(sqlite, 'events', EVENT_COLS, EVENTS_PER_INSERT);
    this.newVisits = new RowBatch(sqlite, 'visits', VISIT_COLS, VISITS_PER_INSERT);
    this.upsertVisit = sqlite.prepare(
      `INSERT INTO visits (${VISIT_COLS.join(', ')}) VALUES (${VISIT_COLS.map(() => '?').join(', ')})
       ON CONFLICT(id) DO UPDATE SET ${VISIT_MUTABLE.map((c) => `${c} = excluded.${c}`).join(', ')}`);
    // The UTC hours a batch wrote, so the rollup builder knows which local days to rebuild.
    this.markDirty = sqlite.prepare('INSERT INTO rollup_dirty (site_id, hour, gen) VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET gen = gen + 1');
    // Event and visit ids come from counters bumped inside the batch's transaction: unique even
    // when an import process writes beside the server (SQLite runs one write transaction at a time).
    this.reserveIds = sqlite.prepare('UPDATE sequences SET value = value + ? WHERE name = ? RETURNING value').pluck();
    this.maxVisitId = sqlite.prepare('SELECT coalesce(max(id), 0) AS m FROM visits');
    // safeIntegers: visitor ids are 64-bit and must come back exact to match new hashes.
    this.recentVisits = sqlite.prepare(`SELECT ${VISIT_NUM.map((c) => `v.${c}`).join(', ')},
      ${VISIT_TEXT.map(([f, c]) => `(SELECT value FROM strings WHERE id = ${aliasOf(c)}.${c}) AS ${String(f)}`).join(', ')}
      FROM visits v ${VISIT_JOINS} WHERE v.end_ts > ?`).safeIntegers(true);
    this.dict = new Dictionary(sqlite);
    this.profiles = new VisitProfiles(sqlite);
    this.tracker = new VisitTracker(0);
    this.restore(now);
    this.tx = sqlite.transaction((hits: Hit[]) => this.writeBatch(hits));
  }

  /** Reloads the visits that may still be open from the table (at start, and after a failed write). */
  private restore(now: number): void {
    this.tracker.reset((this.maxVisitId.get() as { m: number }).m + 1);
    const rows = this.recentVisits.all(now - VISIT_KEEP_MS) as Array<Record<string, unknown>>;
    this.tracker.restore(rows.map((r) => {
      const v: Record<string, unknown> = {};
      for (const c of VISIT_NUM) {
        const x = r[c];
        v[camel(c)] = c === 'visitor_id' || typeof x !== 'bigint' ? x : Number(x);
      }
      // The referrer comes back as host and path in one value; it is only ever written whole.
      for (const [f] of VISIT_TEXT) v[f] = r[f];
      v.referrerPath = null;
      // The table keeps the bounce verdict, not the count of interactive events behind it.
      v.interactiveEvents = v.bounce === 0 && (v.pageviews as number) <= 1 ? 1 : 0;
      delete v.bounce;
      // Its row exists: later hits update it.
      v.ids = null;
      v.idsGen = -1;
      v.written = true;
      v.batch = -1;
      return v as unknown as Visit;
    }));
  }

  private writeOne(h: Hit): WriteResult {
    const v = this.tracker.assign(h);
    if (!v) {
      if (!isLogRequest(h)) return 'no_visit';
      this.insert(h, 0);
      return 'ok';
    }
    this.insert(h, v.id);
    if (v.batch !== this.batchNo && !isLogRequest(h)) {
      // A stamp instead of a Set: the same order (first touch), no hashing per hit.
      v.batch = this.batchNo;
      this.touched.push(v);
    }
    return 'ok';
  }

  private insert(h: Hit, visitId: number): void {
    // Who made the hit (source, country, browser, …) is stored once, on its visit.
    const d = this.dict, site = h.siteId;
    const id = this.nextEventId++, name = d.id(site, h.name), host = d.id(site, h.hostname), page = d.id(site, h.pathname);
    // Written in place in a fixed array (push of sixteen values grew and copied it per batch).
    const p = this.events.params;
    let k = this.events.offset;
    p[k++] = id; p[k++] = site; p[k++] = h.ts; p[k++] = visitId; p[k++] = name; p[k++] = host; p[k++] = page;
    p[k++] = h.bytes; p[k++] = h.status; p[k++] = h.loadMs; p[k++] = h.engagementMs; p[k++] = h.scrollDepth ?? null;
    p[k++] = h.props; p[k++] = h.revenueAmount; p[k++] = h.revenueCurrency;
    p[k] = (h.interactive ? 0 : NOT_INTERACTIVE) | (h.sourceType === 'log' ? FROM_LOG : 0);
    this.events.added();
    this.digest?.event(id, site, h.ts, visitId, name!, host!, page!, h.status, h.bytes, h.loadMs, h.engagementMs, h.scrollDepth ?? null);
  }

  /** The visits this batch touched, in the order of their first hit (each stamped with batchNo). */
  private readonly touched: Visit[] = [];
  private batchNo = 0;
  /**
   * The generation of cached string ids (Visit.ids): bumped to forget them all. On the visit, not
   * in a WeakMap beside it: every new visit's entry was an ephemeron the collector traced apart.
   */
  private idsGen = 0;

  /** Writes the batch in one transaction; throws (and rolls back, memory included) on failure. */
  write(hits: Hit[]): WriteResult[] {
    this.touched.length = 0;
    this.batchNo++;
    this.events.clear();
    this.newVisits.clear();
    try {
      const results = this.tx(hits);
      this.digest?.send();
      return results;
    } catch (e) {
      this.digest?.discard();
      this.dict.forget();
      this.profiles.forget();
      this.idsGen++;
      this.restore(Date.now());
      throw e;
    }
  }

  /** One transaction: every hit's event row, then each visit the batch touched, once. */
  private writeBatch(hits: Hit[]): WriteResult[] {
    this.dict.startBatch();
    this.profiles.startBatch();
    // A batch opens at most one visit per hit: reserve that many visit ids too (gaps are harmless).
    this.nextEventId = (this.reserveIds.get(hits.length, 'events') as number) - hits.length + 1;
    this.digest?.begin(this.nextEventId - 1, this.nextEventId + hits.length - 1, hits.length);
    this.tracker.idsFrom((this.reserveIds.get(hits.length, 'visits') as number) - hits.length + 1);
    const results = new Array<WriteResult>(hits.length);
    for (let i = 0; i < hits.length; i++) results[i] = this.writeOne(hits[i]);
    this.events.flush();
    let lastSite = -1, lastHour = -1;
    let marked: Set<string> | null = null;
    for (let i = 0; i < hits.length; i++) {
      if (results[i] !== 'ok') continue;
      const h = hits[i], hour = Math.floor(h.ts / HOUR_MS);
      // A batch is nearly always one site and one hour: skip the set for repeats.
      if (h.siteId === lastSite && hour === lastHour) continue;
      lastSite = h.siteId; lastHour = hour;
      const key = `${h.siteId}:${hour}`;
      if ((marked ??= new Set()).has(key)) continue;
      marked.add(key);
      this.markDirty.run(h.siteId, hour);
    }
    const d = this.dict, gen = this.idsGen, pv = this.newVisits.params;
    for (const v of this.touched) {
      const site = v.siteId;
      // A visit's text never changes but for its exit page: look the rest up once per visit.
      let ids = v.ids;
      if (ids === null || v.idsGen !== gen) {
        v.ids = ids = this.textIds(v);
        v.idsGen = gen;
      } else ids[EXIT] = d.id(site, v.exitPage);
      const bounce = isBounce(v) ? 1 : 0;
      if (v.written) {
        this.upsertVisit.run(v.id, site, v.visitorId, v.startTs, v.endTs - v.startTs, v.pageviews, bounce,
          ids[OWN_AT[0]], ids[OWN_AT[1]], ids[OWN_AT[2]], ids[OWN_AT[3]], ids[OWN_AT[4]], ids[PLATFORM], ids[ACQUISITION]);
      } else {
        // Opened in this batch: a plain row, several per INSERT (see VISITS_PER_INSERT).
        let k = this.newVisits.offset;
        pv[k++] = v.id; pv[k++] = site; pv[k++] = v.visitorId; pv[k++] = v.startTs; pv[k++] = v.endTs - v.startTs; pv[k++] = v.pageviews; pv[k++] = bounce;
        pv[k++] = ids[OWN_AT[0]]; pv[k++] = ids[OWN_AT[1]]; pv[k++] = ids[OWN_AT[2]]; pv[k++] = ids[OWN_AT[3]]; pv[k++] = ids[OWN_AT[4]];
        pv[k++] = ids[PLATFORM]; pv[k] = ids[ACQUISITION];
        // Later batches update it (a failed batch reloads every visit from the table: restore()).
        v.written = true;
        this.newVisits.added();
      }
      this.digest?.visit(v.id, v.visitorId, v.startTs, v.endTs, bounce, v.pageviews, ids);
    }
    this.newVisits.flush();
    return results;
  }

  /**
   * A visit's text as string ids (VISIT_TEXT order), then its platform and acquisition ids. New
   * strings get ids in this order, so it must not change (the rows would).
   */
  private textIds(v: Visit): Array<number | null> {
    const d = this.dict, site = v.siteId;
    // Field by field in VISIT_TEXT order (checked where it is declared): v[f] with f from the
    // list was a megamorphic keyed load per field.
    const ids: Array<number | null> = [
      d.id(site, v.entryPage), d.id(site, v.exitPage), d.id(site, referrerOf(v)), d.id(site, v.source), d.id(site, v.channel),
      d.id(site, v.utmSource), d.id(site, v.utmMedium), d.id(site, v.utmCampaign), d.id(site, v.utmContent), d.id(site, v.utmTerm),
      d.id(site, v.country), d.id(site, v.browser), d.id(site, v.browserVersion), d.id(site, v.os), d.id(site, v.osVersion),
      d.id(site, v.device), d.id(site, v.language), d.id(site, v.screen), null, null,
    ];
    const plat = this.platformIds, acq = this.acquisitionIds;
    for (let i = 0; i < plat.length; i++) plat[i] = ids[PLATFORM_AT[i]];
    for (let i = 0; i < acq.length; i++) acq[i] = ids[ACQUISITION_AT[i]];
    ids[PLATFORM] = this.profiles.platforms.id(site, plat);
    ids[ACQUISITION] = this.profiles.acquisitions.id(site, acq);
    return ids;
  }
  /** Scratch for textIds (Combinations.id only reads them). */
  private readonly platformIds: Array<number | null> = new Array(PLATFORM_AT.length);
  private readonly acquisitionIds: Array<number | null> = new Array(ACQUISITION_AT.length);

  /** Forgets cached string ids (after values no row uses were deleted). */
  forgetStrings(): void {
    this.dict.forget();
    this.profiles.forget();
    this.idsGen++;
  }

  /** Forgets visits that can no longer be extended (called on a timer). */
  prune(now: number): number {
    return this.tracker.prune(now);
  }
}
