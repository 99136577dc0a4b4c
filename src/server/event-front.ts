// The beacon's front door: POST /api/event read straight off the TCP socket, every other request
// (and every request this parser is not sure of) handed to node:http on the same connection.
//
// Why: node:http builds an IncomingMessage, a ServerResponse, their streams and listeners for
// every request; answering a beacon with them cost ~24–28 µs of CPU here (a bare node:http
// server under the ingestion bench's wrk mix) against ~15–16 µs for a socket that parses the
// request and writes a prebuilt answer. A hit is a few hundred bytes with a handful of headers
// that matter, so the parser below is small — and strict: it takes a request only when it is
// complete in the bytes at hand and shaped exactly as expected (one Content-Length of at most
// the body limit, no Transfer-Encoding, Expect or Upgrade, no obs-fold, no control characters,
// no repeated header it reads, a Host). Anything else — another route, a partial request, a
// request it would have to judge — goes to node:http with its bytes put back, and node:http
// serves that connection from then on: its limits, timeouts, 400s, 413s and 431s apply as before.
// Answers are byte-for-byte what node:http writes for the same result (test/event-front).
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { EventRequest } from '../collector/collect.ts';
import { INTERNAL_ERROR, type EventResponse } from './event-response.ts';

/** Turns a complete beacon request into its answer (the Collector behind collectResponse). */
export type EventHandler = (body: string, facts: EventRequest) => EventResponse | Promise<EventResponse>;

export interface FrontOptions {
  /** The largest body taken here; a larger declared one goes to node:http (its 413). */
  maxBodyBytes: number;
  /** Idle keep-alive connections are closed after this long (node:http's keepAliveTimeout). */
  keepAliveMs: number;
  /** Told of a handler that threw (the name only: never visitor input). */
  onError?: (e: unknown) => void;
}

const REQUEST_LINE = Buffer.from('POST /api/event HTTP/1.1\r\n', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** A beacon's head is ~300 bytes; anything near node:http's 16 KiB header limit is its to judge. */
const MAX_HEAD_BYTES = 8192;
/** Pipelined bytes held while a hit commits; past this the socket stops being read until then. */
const MAX_BUFFERED = 64 * 1024;

// Header names this parser reads or must refuse to guess about, matched on their bytes without
// building a string (decoding each name cost ~0.15 µs, a tenth of the parse).
const enum H { ContentLength, TransferEncoding, Connection, Expect, Upgrade, Host, UserAgent, AcceptLanguage, Dnt, SecGpc, ForwardedFor, Count }
const NAMES: Array<[string, H]> = [
  ['content-length', H.ContentLength], ['transfer-encoding', H.TransferEncoding], ['connection', H.Connection],
  ['expect', H.Expect], ['upgrade', H.Upgrade], ['host', H.Host], ['user-agent', H.UserAgent],
  ['accept-language', H.AcceptLanguage], ['dnt', H.Dnt], ['sec-gpc', H.SecGpc], ['x-forwarded-for', H.ForwardedFor],
];
/** By name length: the candidates' lower-case bytes and ids. */
const BY_LENGTH: Array<Array<[Buffer, H]>> = [];
for (const [name, id] of NAMES) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), id]);

/** Which tracked header the name at b[start, end) is, or -1. Case-insensitive: ORing 0x20 lowers a
 * letter and leaves '-' and digits alone; no other token byte ORs into a letter or '-'. */
function nameOf(b: Buffer, start: number, end: number): number {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  next: for (const [name, id] of candidates) {
    for (let k = 0; k < name.length; k++) if ((b[start + k] | 0x20) !== name[k]) continue next;
    return id;
  }
  return -1;
}

// RFC 9110 token characters (header names); a value may hold HTAB, SP, VCHAR and obs-text.
const TCHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  TCHAR[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)) ? 1 : 0;
}

/** Whether b[start, end) is `word` (lower case) in any case. */
function bytesAre(b: Buffer, start: number, end: number, word: Buffer): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) if ((b[start + k] | 0x20) !== word[k]) return false;
  return true;
}
const CLOSE = Buffer.from('close'), KEEP_ALIVE = Buffer.from('keep-alive');

/** A parsed beacon request, or why this parser leaves the connection to node:http. */
interface Parsed { body: string; facts: EventRequest; close: boolean; length: number }

/** Where each tracked header's trimmed value is (start, end; -1 when absent). Reused: parsing is synchronous. */
const at = new Int32Array(H.Count * 2);
const value = (b: Buffer, h: H): string | null => (at[2 * h] < 0 ? null : b.toString('latin1', at[2 * h], at[2 * h + 1]));

/**
 * Parses one request at the start of `b` when it is a complete, plainly shaped POST /api/event;
 * null hands the connection over. Header values are latin1 with surrounding SP/HTAB trimmed, as
 * node:http gives them; the body is UTF-8 as the lean path decoded it.
 */
export function parseEventRequest(b: Buffer, peer: string, maxBody: number): Parsed | null {
  const n = REQUEST_LINE.length;
  if (b.length < n || b.compare(REQUEST_LINE, 0, n, 0, n) !== 0) return null;
  const end = b.indexOf(HEAD_END, n - 2);
  if (end < 0 || end > MAX_HEAD_BYTES) return null;
  at.fill(-1);
  // One pass over the bytes (~0.35 µs for a beacon's head; a loop over a decoded string or a
  // regexp per block cost 1–3 µs). Every line is a token name, ':' and field characters up to
  // CRLF: obs-fold, a space before the colon, a lone CR or LF, NUL or another control character is
  // node:http's to refuse. The scan stops at the CR at `end` at the latest.
  let i = n;
  while (i < end + 2) {
    const start = i;
    while (TCHAR[b[i]] === 1) i++;
    if (i === start || b[i] !== 0x3a) return null;
    const name = nameOf(b, start, i);
    let vs = ++i;
    for (let c = b[i]; c >= 0x20 ? c !== 0x7f : c === 0x09; c = b[++i]);
    if (b[i] !== 0x0d || b[i + 1] !== 0x0a) return null;
    let ve = i;
    i += 2;
    if (name < 0) continue;
    if (at[2 * name] >= 0) return null; // repeated: node:http joins or keeps the first; not guessed here
    while (vs < ve && (b[vs] === 0x20 || b[vs] === 0x09)) vs++;
    while (ve > vs && (b[ve - 1] === 0x20 || b[ve - 1] === 0x09)) {
      // llhttp reads its own Content-Length and Connection tokens, and a tab after them differs:
      // "5\t" is a 400 there, "close\t" keeps the connection alive. node:http's to judge.
      if (b[ve - 1] === 0x09 && (name === H.ContentLength || name === H.Connection)) return null;
      ve--;
    }
    at[2 * name] = vs;
    at[2 * name + 1] = ve;
  }
  if (at[2 * H.TransferEncoding] >= 0 || at[2 * H.Expect] >= 0 || at[2 * H.Upgrade] >= 0 || at[2 * H.Host] < 0) return null;
  const cs = at[2 * H.ContentLength], ce = at[2 * H.ContentLength + 1];
  if (cs < 0 || ce === cs || ce - cs > 7) return null;
  let length = 0;
  for (let k = cs; k < ce; k++) {
    const d = b[k] - 0x30;
    if (d < 0 || d > 9) return null;
    length = length * 10 + d;
  }
  if (length > maxBody) return null;
  const bodyStart = end + 4;
  if (b.length < bodyStart + length) return null;
  let close = false;
  if (at[2 * H.Connection] >= 0) {
    const s = at[2 * H.Connection], e = at[2 * H.Connection + 1];
    if (bytesAre(b, s, e, CLOSE)) close = true;
    else if (!bytesAre(b, s, e, KEEP_ALIVE)) return null;
  }
  return {
    body: b.toString('utf8', bodyStart, bodyStart + length),
    facts: {
      peer,
      forwardedFor: value(b, H.ForwardedFor),
      userAgent: value(b, H.UserAgent),
      acceptLanguage: value(b, H.AcceptLanguage),
      dnt: value(b, H.Dnt),
      gpc: value(b, H.SecGpc),
    },
    close,
    length: bodyStart + length,
  };
}

/** node:http's Date header value, computed once a second. */
let dateSecond = -1, dateText = '';
function httpDate(): string {
  const now = Date.now(), s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

/**
 * The bytes node:http writes for `res.writeHead(r.status, r.headers); res.end(r.body)`: the status
 * line, the headers in order, Date, then Connection (and Keep-Alive). A body needs its
 * Content-Length among the headers (errorResponse adds it), as node:http would otherwise chunk it.
 */
export function encodeResponse(r: EventResponse, keepAliveS: number, close: boolean): Buffer {
  let head = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\n`;
  for (const k in r.headers) head += `${k}: ${r.headers[k]}\r\n`;
  head += `Date: ${httpDate()}\r\n`;
  head += close ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveS}\r\n\r\n`;
  return r.body === null ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(r.body, 'utf8')]);
}

/** One connection served here until it closes or is handed to node:http. */
class Connection {
  private buf: Buffer | null = null;
  private busy = false;
  private done = false;
  /** The server is closing: the next answer says Connection: close and ends the socket. */
  closing = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.ended();
  private readonly onTimeout = () => this.timedOut();
  private readonly onGone = () => this.gone();
  private readonly onSettled = (r: EventResponse) => this.answer(r);
  private readonly onFailed = (e: unknown) => this.failed(e);
  private readonly onDrain = () => this.drained();
  private close = false;

  constructor(readonly socket: Socket, private readonly front: EventFront) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onGone);
    socket.on('close', this.onGone);
    socket.on('timeout', this.onTimeout);
    socket.setTimeout(front.opts.keepAliveMs);
  }

  get idle(): boolean {
    return !this.busy && this.buf === null;
  }

  private data(chunk: Buffer): void {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.busy || this.socket.writableNeedDrain) {
      if (this.buf.length > MAX_BUFFERED) this.socket.pause();
      return;
    }
    this.next();
  }

  /** Serves the requests at hand, one at a time: answers go out in request order. */
  private next(): void {
    while (this.buf !== null && !this.busy && !this.done) {
      const b = this.buf;
      const req = parseEventRequest(b, this.socket.remoteAddress ?? '', this.front.opts.maxBodyBytes);
      if (req === null) return this.handOver();
      this.buf = req.length === b.length ? null : b.subarray(req.length);
      this.close = req.close || this.closing;
      this.busy = true;
      let r: EventResponse | Promise<EventResponse>;
      try {
        r = this.front.handle(req.body, req.facts);
      } catch (e) {
        this.failed(e);
        continue;
      }
      if (r instanceof Promise) r.then(this.onSettled, this.onFailed);
      else this.answer(r);
    }
  }

  private answer(r: EventResponse): void {
    this.busy = false;
    if (this.done) return;
    const close = this.close || this.closing;
    const flowing = this.socket.write(this.front.encode(r, close));
    if (close) {
      this.finish();
      this.socket.end();
      return;
    }
    // A client that sends without reading its answers: stop reading (and storing) its requests
    // until the answers drain, as node:http does, instead of queueing answers without bound.
    if (!flowing) {
      this.socket.pause();
      this.socket.once('drain', this.onDrain);
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf !== null) this.next();
  }

  private drained(): void {
    if (this.done) return;
    this.socket.resume();
    if (this.buf !== null && !this.busy) this.next();
  }

  private failed(e: unknown): void {
    this.front.opts.onError?.(e);
    this.answer(INTERNAL_ERROR);
  }

  /** Gives the connection, with the bytes not served here put back, to node:http. */
  private handOver(): void {
    const s = this.socket, rest = this.buf;
    this.finish();
    // Paused first: a flowing socket without a 'data' listener would drop what it reads next.
    s.pause();
    if (rest !== null) s.unshift(rest);
    this.front.toNode(s);
    s.resume();
  }

  private ended(): void {
    // The client sent its last request: answer what is pending, then close our side too. (An
    // incomplete request was handed to node:http as soon as it came, so none is held here.)
    if (this.busy) this.close = true;
    else {
      this.finish();
      this.socket.end();
    }
  }

  private timedOut(): void {
    if (this.idle) this.socket.destroy();
  }

  private gone(): void {
    this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.buf = null;
    const s = this.socket;
    s.setTimeout(0);
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onGone);
    s.removeListener('close', this.onGone);
    s.removeListener('timeout', this.onTimeout);
    s.removeListener('drain', this.onDrain);
    // A late error after we let go must not be unhandled (node:http adds its own when it takes over).
    s.on('error', noop);
    this.front.forget(this);
  }
}

const noop = () => {};

/**
 * Takes over an http.Server's 'connection' event: each new connection is served here until its
 * first request that is not a plain beacon hit, then given to node:http's own listener.
 */
export class EventFront {
  private readonly connections = new Set<Connection>();
  private readonly nodeListener: (socket: Socket) => void;
  private closing = false;
  private readonly keepAliveS: number;
  /** The keep-alive bytes of each shared (frozen) answer — the 202s — for the current second. */
  private readonly encoded = new Map<EventResponse, Buffer>();
  private encodedSecond = -1;

  constructor(private readonly server: Server, readonly handle: EventHandler, readonly opts: FrontOptions) {
    const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
    if (listeners.length !== 1) throw new Error('EventFront expects node:http\'s one connection listener');
    this.nodeListener = listeners[0];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (this.closing) return this.toNode(socket);
      this.connections.add(new Connection(socket, this));
    });
    this.keepAliveS = Math.floor(opts.keepAliveMs / 1000);
  }

  /** An answer's bytes; the shared ones (every 202) are built once a second (their Date header). */
  encode(r: EventResponse, close: boolean): Buffer {
    if (close || !Object.isFrozen(r)) return encodeResponse(r, this.keepAliveS, close);
    const s = Math.floor(Date.now() / 1000);
    if (s !== this.encodedSecond) {
      this.encodedSecond = s;
      this.encoded.clear();
    }
    let b = this.encoded.get(r);
    if (b === undefined) this.encoded.set(r, (b = encodeResponse(r, this.keepAliveS, false)));
    return b;
  }

  toNode(socket: Socket): void {
    this.nodeListener.call(this.server, socket);
  }

  forget(c: Connection): void {
    this.connections.delete(c);
  }

  /** Shutting down: idle connections close now, busy ones after their answer (Connection: close). */
  closeIdle(): void {
    this.closing = true;
    for (const c of this.connections) {
      c.closing = true;
      if (c.idle) c.socket.destroy();
    }
  }

  /** After the grace period: every connection still open is cut. */
  closeAll(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  get open(): number {
    return this.connections.size;
  }
}
