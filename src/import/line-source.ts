// Where log lines come from: a plain or gzipped file (detected by its magic bytes, not its
// name), standard input, or a file followed as it grows — through rotation (a new file at the
// path) and truncation (copytruncate) — until the signal aborts. Memory stays flat: lines are
// streamed, never the whole file, and come a chunk at a time (an array per read, ~1,300 lines
// per 256 KB) so the importer runs one await per chunk instead of two promises per line.
//
// Lines are split from the bytes, not from a decoded chunk: readline decoded each 256 KB chunk
// into one string (twice: its cons with the previous tail was flattened again) and every line
// was a slice of it, so any substring kept longer than the chunk — a user-agent held as a cache
// key, for one — kept the whole 256 KB alive. Each line here is a string of its own.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface SourceProgress {
  /** Bytes read so far from the file (compressed bytes for .gz). */
  bytes: number;
  /** Total size when known (a regular file), else null. */
  total: number | null;
}

/** A longer line is cut here: no log line is 1 MiB, and the cut one is counted as malformed. */
export const MAX_LINE_BYTES = 1024 * 1024;
const LF = 0x0a, CR = 0x0d;

function decode(buf: Buffer, start: number, end: number): string {
  if (end > start && buf[end - 1] === CR) end--;
  return buf.toString('utf8', start, end);
}

/**
 * Splits byte chunks into lines on LF (a CR before it is dropped). A line that spans chunks is
 * kept as bytes until its end, so a UTF-8 character cut by a chunk boundary decodes whole.
 */
export class LineSplitter {
  private tail: Buffer[] = [];
  private tailBytes = 0;

  /** The lines `chunk` completes (with what earlier chunks left unfinished). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let pos = 0;
    let nl = chunk.indexOf(LF);
    if (nl < 0) {
      this.keep(chunk);
      return lines;
    }
    if (this.tailBytes > 0) {
      this.keep(chunk.subarray(0, nl));
      lines.push(this.takeTail());
      pos = nl + 1;
      nl = chunk.indexOf(LF, pos);
    }
    while (nl >= 0) {
      lines.push(decode(chunk, pos, nl));
      pos = nl + 1;
      nl = chunk.indexOf(LF, pos);
    }
    if (pos < chunk.length) this.keep(chunk.subarray(pos));
    return lines;
  }

  /** The last line when the input does not end with a newline. */
  end(): string[] {
    return this.tailBytes > 0 ? [this.takeTail()] : [];
  }

  private takeTail(): string {
    const bytes = Buffer.concat(this.tail, this.tailBytes);
    this.tail = [];
    this.tailBytes = 0;
    return decode(bytes, 0, bytes.length);
  }

  private keep(part: Buffer): void {
    const room = MAX_LINE_BYTES - this.tailBytes;
    if (room <= 0 || part.length === 0) return;
    // A copy: the caller's buffer is reused (--follow) or pooled by the stream.
    const kept = Buffer.from(part.length > room ? part.subarray(0, room) : part);
    this.tail.push(kept);
    this.tailBytes += kept.length;
  }
}

/** Lines of a byte stream, an array per chunk read. */
async function* splitStream(input: AsyncIterable<Buffer>, progress?: SourceProgress): AsyncGenerator<string[]> {
  const split = new LineSplitter();
  for await (const chunk of input) {
    if (progress) progress.bytes += chunk.length;
    const lines = split.push(chunk);
    if (lines.length) yield lines;
  }
  const last = split.end();
  if (last.length) yield last;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Lines of a file or of stdin (`-`), with byte progress for files. The stream is pulled, not
 * flowing: nothing is read ahead of the importer but the stream's one 256 KB buffer.
 */
export async function* readLines(path: string, progress?: SourceProgress): AsyncGenerator<string[]> {
  if (path === '-') {
    yield* splitStream(process.stdin);
    return;
  }
  const size = (await stat(path)).size;
  if (progress) progress.total = size;
  const gz = await isGzip(path);
  const raw: ReadStream = createReadStream(path, { highWaterMark: 256 * 1024 });
  if (!gz) {
    yield* splitStream(raw, progress);
    return;
  }
  // Compressed bytes for the progress bar, counted as they enter the gunzip stream.
  if (progress) raw.on('data', (chunk) => (progress.bytes += chunk.length));
  yield* splitStream(raw.pipe(createGunzip({ chunkSize: 64 * 1024 })) as Readable);
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

/**
 * Follows a growing file like `tail -F`: reads to the end, then polls. When the path names a new
 * file (rotation), the old one is read to its end first; when the file shrinks (truncation),
 * reading restarts at 0. Ends when `signal` aborts, after yielding what was read.
 */
export async function* followLines(path: string, signal: AbortSignal, pollMs = 250): AsyncGenerator<string[]> {
  let fh = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  let pos = 0;
  let split = new LineSplitter();
  const buf = Buffer.alloc(256 * 1024);
  try {
    while (!signal.aborted) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        const lines = split.push(buf.subarray(0, bytesRead));
        if (lines.length) yield lines;
        continue;
      }
      // At the end: has the file been rotated or truncated?
      let now: { ino: number; size: number } | null = null;
      try {
        now = await stat(path);
      } catch {
        now = null; // between rename and create: keep waiting
      }
      if (now && now.ino !== ino) {
        const last = split.end();
        if (last.length) yield last;
        await fh.close();
        fh = await open(path, 'r');
        ino = (await fh.stat()).ino;
        pos = 0;
        continue;
      }
      if (now && now.size < pos) {
        pos = 0;
        split = new LineSplitter();
        continue;
      }
      await sleep(pollMs, signal);
    }
    const last = split.end();
    if (last.length) yield last;
  } finally {
    await fh.close();
  }
}
