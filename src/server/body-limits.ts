// One body limit for every route, chosen by path, answered 413 before the body is buffered:
// a declared Content-Length over the limit is refused at once, a chunked body as soon as it
// passes the limit. Without it, a 150 MB form post to /login (no account needed) took the
// server from 170 MB to 873 MB of RSS, and it stayed at 726 MB.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { LIMITS } from '../collector/payload.ts';
import { TOO_LARGE } from './event-response.ts';

/** Beacon bodies are a few hundred bytes; 8 KiB leaves room for 30 props. */
export const EVENT_BODY_BYTES = LIMITS.bodyBytes;
/** A Stats API query with every filter cap used is well under 64 KiB; 256 KiB is generous. */
export const API_BODY_BYTES = 256 * 1024;
/** The biggest form (settings with exclusions and goals) is a few KiB. */
export const FORM_BODY_BYTES = 64 * 1024;

const tooLarge = (limit: number) => () => new Response(JSON.stringify({ error: `the request body is larger than ${limit} bytes` }), {
  status: 413,
  // The rest of the body is never read: the connection cannot carry another request.
  headers: { 'Content-Type': 'application/json', Connection: 'close' },
});

const EVENT = { bytes: EVENT_BODY_BYTES, check: bodyLimit({
  maxSize: EVENT_BODY_BYTES,
  onError: () => new Response(TOO_LARGE.body, { status: 413, headers: { ...TOO_LARGE.headers, Connection: 'close' } }),
}) };
const API = { bytes: API_BODY_BYTES, check: bodyLimit({ maxSize: API_BODY_BYTES, onError: tooLarge(API_BODY_BYTES) }) };
const FORM = { bytes: FORM_BODY_BYTES, check: bodyLimit({ maxSize: FORM_BODY_BYTES, onError: tooLarge(FORM_BODY_BYTES) }) };

/** The limit of a path: the beacon, the Stats API, or everything else (forms and pages). */
function limitOf(path: string): typeof FORM {
  if (path === '/api/event') return EVENT;
  return path.startsWith('/api/') ? API : FORM;
}

/** The body limit in bytes of a path. */
export const bodyLimitFor = (path: string): number => limitOf(path).bytes;

/** Middleware for `app.use('*', …)`: every request with a body passes one of the three limits. */
export const limitBodies: MiddlewareHandler = (c, next) => limitOf(c.req.path).check(c, next);
