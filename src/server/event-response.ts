// The HTTP answer for a collector result, shared by the Hono route and the lean Node path.
// 202s are preallocated (one per drop reason) and carry Content-Length: 0, so the hot path
// neither builds header objects nor falls back to chunked encoding for an empty body.
import type { CollectResult } from '../collector/collect.ts';
import type { DropReason } from '../collector/hit.ts';
import { LIMITS } from '../collector/payload.ts';
import { RETRY_AFTER_S } from '../store/store-health.ts';

/** CORS for the beacon: any origin, no credentials (the collector never reads cookies). */
export const EVENT_CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'X-Hush-Dropped',
} as const;

export const PREFLIGHT = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
} as const;

export interface EventResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string | null;
}

const ACCEPTED: EventResponse = Object.freeze({ status: 202, headers: Object.freeze({ ...EVENT_CORS, 'Content-Length': '0' }), body: null });
const DROPPED = new Map<DropReason, EventResponse>();

export const JSON_ERROR_HEADERS = Object.freeze({ ...EVENT_CORS, 'Content-Type': 'application/json' });

/**
 * A JSON error. Its Content-Length is a header like the others: node:http would otherwise send
 * the body chunked (writeHead before end), and the socket front (event-front.ts) writes the same
 * bytes as node:http by writing exactly these headers.
 */
export function errorResponse(status: number, error: string, extra?: Record<string, string>): EventResponse {
  const body = JSON.stringify({ error });
  return { status, headers: { ...JSON_ERROR_HEADERS, ...extra, 'Content-Length': String(Buffer.byteLength(body)) }, body };
}

/** The store cannot take hits now (disk full, I/O error): nothing was stored; retry later. */
export const UNAVAILABLE: EventResponse = Object.freeze(errorResponse(503, 'the hit could not be stored; try again later', { 'Retry-After': String(RETRY_AFTER_S) }));

/** A handler that threw: the same answer from the socket front and the lean path. */
export const INTERNAL_ERROR: EventResponse = Object.freeze(errorResponse(500, 'internal error'));

export const TOO_LARGE = errorResponse(413, `the request body is larger than ${LIMITS.bodyBytes} bytes`);

export function collectResponse(r: CollectResult): EventResponse {
  if (r.status === 503) return UNAVAILABLE;
  if (r.status !== 202) return errorResponse(r.status, r.error);
  if (!r.dropped) return ACCEPTED;
  let d = DROPPED.get(r.dropped);
  if (!d) {
    d = Object.freeze({ status: 202, headers: Object.freeze({ ...ACCEPTED.headers, 'X-Hush-Dropped': r.dropped }), body: null });
    DROPPED.set(r.dropped, d);
  }
  return d;
}
