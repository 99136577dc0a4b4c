// The no-script pixel: GET /api/event.gif?d=…&u=…&r=… records a hit from query parameters and
// answers with a transparent 1×1 GIF (43 bytes, the smallest valid GIF; a PNG needs ~68).
import type { Context } from 'hono';
import type { Collector, EventRequest } from '../collector/collect.ts';
import { fromRecord } from '../collector/payload.ts';
import { RETRY_AFTER_S } from '../store/store-health.ts';

export const GIF = Uint8Array.from(Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'));

const HEADERS = {
  'Content-Type': 'image/gif',
  'Cache-Control': 'no-store',
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/**
 * Handles the pixel. The page URL defaults to the Referer header (the page embedding the <img>);
 * the event name to "pageview". 200 with the GIF when stored or dropped on purpose (dropped:
 * X-Hush-Dropped), 400 with the GIF and X-Hush-Error naming the invalid parameter. The header
 * names the field only: the message may quote a props key, and a visitor's CR/LF or non-Latin-1
 * character in a header made Node refuse the whole answer (a 500 and a stack trace).
 */
export async function pixel(c: Context, collector: Collector, facts: EventRequest): Promise<Response> {
  const q = c.req.query();
  const record: Record<string, unknown> = { n: 'pageview', ...q };
  if (!record.u && !record.url) record.u = c.req.header('referer') ?? undefined;
  const r = await collector.collectParsed(fromRecord(record), facts);
  if (r.status === 202) {
    return new Response(GIF, { status: 200, headers: r.dropped ? { ...HEADERS, 'X-Hush-Dropped': r.dropped } : HEADERS });
  }
  const error = r.status === 400 ? `invalid "${r.field ?? 'request'}"` : 'the hit could not be stored; try again later';
  const retry: Record<string, string> = r.status === 503 ? { 'Retry-After': String(RETRY_AFTER_S) } : {};
  return new Response(GIF, { status: r.status, headers: { ...HEADERS, ...retry, 'X-Hush-Error': error } });
}
