// The page script as served: its bytes, a content-hash ETag, and the 43-byte pixel GIF. Loaded
// once at start (never read from disk per request).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: string;
  etag: string;
}

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../public');

/** public/hush.js, or null when it has not been built (`npm run build`). */
export async function loadBeacon(): Promise<Asset | null> {
  try {
    const body = await readFile(path.join(PUBLIC_DIR, 'hush.js'), 'utf8');
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  } catch {
    return null;
  }
}
