// Where log lines come from: a plain or gzipped file (detected by its magic bytes, not its
// name), standard input, or a file followed as it grows — through rotation (a new file at the
// path) and truncation (copytruncate) — until the signal aborts. Memory stays flat: lines are
// streamed, never the whole file.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface SourceProgress {
  /** Bytes read so far from the file (compressed bytes for .gz). */
  bytes: number;
  /** Total size when known (a regular file), else null. */
  total: number | null;
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

/** Lines of a file or of stdin (`-`), with byte progress for files. */
export async function* readLines(path: string, progress?: SourceProgress): AsyncGenerator<string> {
  let input: Readable;
  if (path === '-') {
    input = process.stdin;
  } else {
    const size = (await stat(path)).size;
    if (progress) progress.total = size;
    const gz = await isGzip(path);
    // Everything synchronous from here to the readline: a 'data' listener starts the flow, and
    // chunks emitted before readline listens would be lost.
    const raw: ReadStream = createReadStream(path, { highWaterMark: 256 * 1024 });
    if (progress) raw.on('data', (chunk) => (progress.bytes += chunk.length));
    input = gz ? raw.pipe(createGunzip()) : raw;
  }
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) yield line;
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
export async function* followLines(path: string, signal: AbortSignal, pollMs = 250): AsyncGenerator<string> {
  let fh = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  let pos = 0;
  let tail = '';
  const buf = Buffer.alloc(256 * 1024);
  try {
    while (!signal.aborted) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        const text = tail + buf.toString('utf8', 0, bytesRead);
        const parts = text.split('\n');
        tail = parts.pop()!;
        for (const p of parts) yield p.endsWith('\r') ? p.slice(0, -1) : p;
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
        if (tail) yield tail;
        tail = '';
        await fh.close();
        fh = await open(path, 'r');
        ino = (await fh.stat()).ino;
        pos = 0;
        continue;
      }
      if (now && now.size < pos) {
        pos = 0;
        tail = '';
        continue;
      }
      await sleep(pollMs, signal);
    }
    if (tail) yield tail;
  } finally {
    await fh.close();
  }
}
