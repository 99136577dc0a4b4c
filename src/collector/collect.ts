// The collector's one entry point, shared by the Hono route, the Node fast path and the pixel:
// request facts in, an HTTP answer out. 202 only once every stored hit has committed.
import type { DropReason, Hit } from './hit.ts';
import { parseEvent, type EventInput, type Parsed } from './payload.ts';
import { runPipeline, type HitContext, type PipelineDeps } from './pipeline.ts';
import type { ClientIpResolver } from './client-ip.ts';
import { isStoreError } from '../store/store-health.ts';

/** Why a hit was not stored: a deliberate drop, an invalid request, or the store being unable to. */
export type RefuseReason = DropReason | 'invalid' | 'too_large' | 'unavailable';

/** Counts outcomes for /metrics. Called once per request: implementations only bump a counter. */
export interface HitCounters {
  accepted(): void;
  refused(reason: RefuseReason): void;
}

/** The request-side facts, as any HTTP layer can gather them. */
export interface EventRequest {
  /** The socket's peer address. */
  peer: string;
  forwardedFor: string | null;
  userAgent: string | null;
  acceptLanguage: string | null;
  dnt: string | null;
  gpc: string | null;
}

export type CollectResult =
  | { status: 202; dropped?: DropReason }
  | { status: 400 | 503; error: string; /** The field at fault: ours, never visitor input. */ field?: string };

/** The store side: accepts a hit, settles after commit with 'ok' or a drop reason. */
export interface HitSink {
  submit(hit: Hit): Promise<'ok' | DropReason>;
}

export interface CollectorDeps extends PipelineDeps {
  resolver: ClientIpResolver;
  sink: HitSink;
  clock?: () => number;
  counters?: HitCounters;
  /**
   * Asynchronous preparation the synchronous pipeline needs first, or undefined when nothing is
   * missing. Node has none; the edge fetches the named sites' daily keys from their Durable
   * Objects on the first hit of a day. Not called for opted-out hits; a rejection is a 503.
   */
  warm?: (event: EventInput, now: number) => Promise<void> | undefined;
}

const ACCEPTED: CollectResult = Object.freeze({ status: 202 });
const UNAVAILABLE: CollectResult = Object.freeze({ status: 503, error: 'the hit could not be stored; try again later' });

export class Collector {
  private readonly clock: () => number;
  constructor(private readonly deps: CollectorDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Handles a POST /api/event body. */
  collectBody(body: string, req: EventRequest): Promise<CollectResult> | CollectResult {
    return this.collectParsed(parseEvent(body), req);
  }

  /** Handles an already-validated event (body or pixel query). */
  collectParsed(parsed: Parsed, req: EventRequest): Promise<CollectResult> | CollectResult {
    const counters = this.deps.counters;
    if (!parsed.ok) {
      counters?.refused('invalid');
      return { status: 400, error: parsed.error, field: parsed.field };
    }
    const ctx: HitContext = {
      ip: this.deps.resolver.resolve(req.peer, req.forwardedFor),
      userAgent: req.userAgent ?? '',
      acceptLanguage: req.acceptLanguage,
      optOut: req.dnt === '1' || req.gpc === '1',
      now: this.clock(),
      sourceType: 'script',
    };
    const warming = ctx.optOut ? undefined : this.deps.warm?.(parsed.event, ctx.now);
    if (warming) {
      return warming.then(() => this.run(parsed.event, ctx), () => {
        counters?.refused('unavailable');
        return UNAVAILABLE;
      });
    }
    return this.run(parsed.event, ctx);
  }

  private run(event: EventInput, ctx: HitContext): Promise<CollectResult> | CollectResult {
    const counters = this.deps.counters;
    let result;
    try {
      result = runPipeline(event, ctx, this.deps);
    } catch (e) {
      // The day's first hit stores its key: on a full disk that fails like a batch would.
      if (!isStoreError(e)) throw e;
      counters?.refused('unavailable');
      return UNAVAILABLE;
    }
    if (result.kind === 'invalid') {
      counters?.refused('invalid');
      return { status: 400, error: result.error, field: 'url' };
    }
    if (result.kind === 'drop') {
      counters?.refused(result.reason);
      return { status: 202, dropped: result.reason };
    }
    return this.store(result.hits);
  }

  /**
   * One hit (nearly always) is settled with one .then: an async function here cost a promise, an
   * await and an outcomes array more per hit. Several hits wait for all, as before.
   */
  private store(hits: Hit[]): Promise<CollectResult> {
    let pending: Promise<'ok' | DropReason | Array<'ok' | DropReason>>;
    try {
      pending = hits.length === 1 ? this.deps.sink.submit(hits[0]) : Promise.all(hits.map((h) => this.deps.sink.submit(h)));
    } catch {
      return Promise.resolve(this.unavailable());
    }
    return pending.then(this.settled, this.failed);
  }

  private readonly settled = (outcome: 'ok' | DropReason | Array<'ok' | DropReason>): CollectResult => {
    const stored = typeof outcome === 'string' ? outcome === 'ok' : outcome.some((o) => o === 'ok');
    const first = typeof outcome === 'string' ? outcome : outcome[0];
    if (stored) this.deps.counters?.accepted();
    else this.deps.counters?.refused(first as DropReason);
    return stored ? ACCEPTED : { status: 202, dropped: first as DropReason };
  };

  // The store failed (disk full, I/O error): not the client's fault, and nothing was acknowledged.
  private readonly failed = (): CollectResult => this.unavailable();

  private unavailable(): CollectResult {
    this.deps.counters?.refused('unavailable');
    return UNAVAILABLE;
  }
}
