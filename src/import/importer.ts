// Access-log import: each line becomes the same normalised hit as a beacon hit and runs through
// the same pipeline (truncation first, country, daily-keyed visitor id, bot and spam filters,
// visits), with the log's own time. Pages become page views; every other request is stored as a
// `request` event for the status and bytes reports. Writes go in large transactions together
// with the import watermark, so a crash or a second run never counts a line twice.
import type { Hit } from '../collector/hit.ts';
import type { EventInput } from '../collector/payload.ts';
import { runPipeline, type HitContext, type PipelineDeps } from '../collector/pipeline.ts';
import type { Agent } from '../collector/user-agent.ts';
import type { IpPrefix } from '../pseudonymize/truncate.ts';
import { detectFormat, parserFor, type FormatName, type LineParser, type LogRecord } from './formats.ts';
import { isPagePath, isPageRequest, type PageRules } from './classify.ts';
import { fingerprint, WatermarkStore, type ImportStateRow, type Watermark } from './watermark.ts';
import { maskLine } from './mask.ts';
import { PrefixCache } from './memo.ts';
import { Lru, ownCopy } from '../collector/lru.ts';

export type SkipReason = 'past_retention' | 'bot' | 'malformed' | 'duplicate' | 'excluded' | 'referrer_spam' | 'unknown_site' | 'opt_out' | 'no_visit';

export interface ImportSummary {
  lines: number;
  pageviews: number;
  requests: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** The first malformed lines, numbered, with addresses and user-agents masked. */
  malformed: string[];
  formats: string[];
}

export interface ImporterOptions {
  siteId: number;
  domain: string;
  format: FormatName | 'auto';
  timezone: string;
  rules: PageRules;
  dryRun: boolean;
  /** Lines before this instant are past the site's retention: never stored. */
  retainFrom: number;
  /** Hits per transaction (5,000: ~25 ms of writing, short enough not to stall a live server). */
  batchSize?: number;
}

const AUTO_SAMPLE = 20;
const SHOW_MALFORMED = 5;

/** Where import batches go: committed with the watermark row in one transaction. */
export type ImportSink = (hits: Hit[], state: ImportStateRow, pruneTs: number) => Promise<string[]>;

export class Importer {
  readonly summary: ImportSummary = { lines: 0, pageviews: 0, requests: 0, skipped: {}, malformed: [], formats: [] };
  private batch: Hit[] = [];
  /** The batch being committed, if any: at most one, so parsing overlaps one commit. */
  private inflight: Promise<void> | null = null;
  private lastTs = 0;
  /** Lines imported by earlier runs or files: skipped. Taken from `next` at each source's start. */
  private seen: Watermark;
  /** Everything imported so far, saved with each batch. */
  private next: Watermark;
  private readonly batchSize: number;
  private readonly ev: EventInput;
  private readonly ctx: HitContext;
  private readonly agentKeys = new WeakMap<Agent, string>();
  private readonly prefixes: PrefixCache;
  /** Per path of the site's own host: its page URL and whether it is a page (logs repeat paths). */
  private readonly paths = new Lru<string, PathInfo>(4000);

  /**
   * @param sink where batches are committed; null for a dry run
   * @param start what earlier imports of this site left (WatermarkStore.load)
   */
  constructor(
    private readonly deps: PipelineDeps,
    private readonly opts: ImporterOptions,
    private readonly sink: ImportSink | null,
    start: Watermark,
  ) {
    this.seen = start;
    this.next = this.seen.clone();
    this.prefixes = new PrefixCache(deps.precision);
    this.batchSize = opts.batchSize ?? 5000;
    this.ev = {
      name: '', url: '', domains: [opts.domain], referrer: null, props: null, revenue: null, interactive: true, hashMode: false,
      screenWidth: null, screenHeight: null, language: null, bytes: null, status: null, loadMs: null, engagementMs: null,
    };
    this.ctx = { ip: '', userAgent: '', acceptLanguage: null, optOut: false, now: 0, sourceType: 'log', prefix: undefined };
  }

  private skip(reason: SkipReason): void {
    this.summary.skipped[reason] = (this.summary.skipped[reason] ?? 0) + 1;
  }

  private malformed(lineNo: number, line: string): void {
    this.skip('malformed');
    if (this.summary.malformed.length < SHOW_MALFORMED) {
      this.summary.malformed.push(`line ${lineNo}: ${maskLine(line).slice(0, 300)}`);
    }
  }

  /** Imports every line of one source (a file, stdin or a followed file), read an array at a time. */
  async importLines(chunks: AsyncIterable<string[]>, sourceName: string): Promise<void> {
    this.seen = this.next.clone();
    let parse: LineParser | null = this.opts.format === 'auto' ? null : parserFor(this.opts.format, this.opts.timezone);
    if (parse) this.summary.formats.push(`${sourceName}: ${this.opts.format}`);
    const pending: Array<[number, string]> = [];
    let lineNo = 0;
    for await (const lines of chunks) {
      for (const line of lines) {
        lineNo++;
        if (!parse) {
          pending.push([lineNo, line]);
          if (pending.length < AUTO_SAMPLE) continue;
          parse = this.detect(pending, sourceName);
          for (const [n, l] of pending) this.line(parse, n, l);
          pending.length = 0;
          continue;
        }
        this.line(parse, lineNo, line);
        if (this.batch.length >= this.batchSize) await this.flush();
      }
    }
    if (pending.length) {
      parse = this.detect(pending, sourceName);
      for (const [n, l] of pending) this.line(parse, n, l);
    }
    await this.flush();
    await this.inflight;
  }

  private detect(sample: Array<[number, string]>, sourceName: string): LineParser {
    const f = detectFormat(sample.map(([, l]) => l));
    if (!f) throw new ImportError(`${sourceName}: cannot tell the log format from its first lines; name it with --format`);
    this.summary.formats.push(`${sourceName}: ${f} (detected)`);
    return parserFor(f, this.opts.timezone);
  }

  private line(parse: LineParser, lineNo: number, line: string): void {
    if (line.length === 0 || line.startsWith('#')) {
      parse(line); // W3C headers (#Fields) configure the parser
      return;
    }
    this.summary.lines++;
    const r = parse(line);
    if (!r) return this.malformed(lineNo, line);
    if (r.ts < this.opts.retainFrom) return this.skip('past_retention');
    // The address is truncated here, as in the collector; the fingerprint sees only the prefix.
    const prefix = this.prefixes.truncate(r.ip);
    if (!prefix) return this.malformed(lineNo, line);
    if (this.seen.consults(r.ts)) {
      // Inside the window an earlier import ended with: a duplicate only if its fingerprint is there.
      const fp = fingerprint(r, prefix.text, this.agentKey(r.userAgent));
      if (this.seen.seen(r.ts, fp)) return this.skip('duplicate');
      this.next.add(r.ts, fp);
    } else {
      if (this.seen.seen(r.ts, '')) return this.skip('duplicate'); // older than that window
      if (this.next.inWindow(r.ts)) this.next.addLine(r, prefix.text, this.agentKey(r.userAgent));
    }
    this.hit(r, prefix, lineNo, line);
  }

  /** The browser/OS families of a user-agent as the fingerprint hashes them, once per cached agent. */
  private agentKey(userAgent: string): string {
    const a = this.deps.agents.get(userAgent);
    let key = this.agentKeys.get(a);
    if (key === undefined) this.agentKeys.set(a, (key = `${a.browser}/${a.browserVersion}/${a.os}/${a.osVersion}/${a.device}`));
    return key;
  }

  private path(r: LogRecord): PathInfo {
    if (r.host !== null || r.path.length > 1024) return { url: `https://${r.host ?? this.opts.domain}${r.path}`, page: isPagePath(r.path, this.opts.rules) };
    let p = this.paths.get(r.path);
    if (p === undefined) {
      const path = ownCopy(r.path);
      this.paths.set(path, (p = { url: `https://${this.opts.domain}${path}`, page: isPagePath(path, this.opts.rules) }));
    }
    return p;
  }

  private hit(r: LogRecord, prefix: IpPrefix, lineNo: number, line: string): void {
    const path = this.path(r);
    const page = isPageRequest(r.method, r.status) && path.page; // classify.ts: isPage
    // One event and one context object for the whole import, refilled per line: the pipeline
    // reads them synchronously and keeps nothing of them (its hits copy what they need). Two
    // fresh objects per line were ~8 % of the bytes an import allocates.
    const ev = this.ev, ctx = this.ctx;
    ev.name = page ? 'pageview' : 'request';
    ev.url = path.url;
    ev.referrer = r.referrer;
    ev.bytes = r.bytes;
    ev.status = r.status;
    ctx.ip = r.ip;
    ctx.userAgent = r.userAgent;
    ctx.now = r.ts;
    ctx.prefix = prefix; // truncated above: the pipeline need not do it again
    const result = runPipeline(ev, ctx, this.deps);
    ctx.ip = ctx.userAgent = ''; // the raw address and user-agent are not kept past their line
    ctx.prefix = undefined;
    if (result.kind === 'invalid') return this.malformed(lineNo, line);
    if (result.kind === 'drop') return this.skip(result.reason);
    if (page) this.summary.pageviews++;
    else this.summary.requests++;
    if (!this.sink) return;
    for (const h of result.hits) this.batch.push(h);
    this.lastTs = r.ts;
  }

  /**
   * Sends the pending hits with the watermark to the sink, once the previous batch has
   * committed; resolves when this batch is on its way (await `inflight` for its commit).
   */
  async flush(): Promise<void> {
    if (!this.sink) return;
    await this.inflight;
    const state = WatermarkStore.row(this.opts.siteId, this.next);
    if (!state) return;
    const batch = this.batch;
    this.batch = [];
    // Visits end 30 minutes after their last hit in log time, not wall-clock time.
    this.inflight = this.sink(batch, state, this.lastTs).then((results) => {
      for (const res of results) if (res !== 'ok') this.skip(res as SkipReason);
    });
  }

  /** Waits until everything sent has committed. */
  async drain(): Promise<void> {
    await this.flush();
    await this.inflight;
  }
}

export class ImportError extends Error {}

interface PathInfo { url: string; page: boolean }
