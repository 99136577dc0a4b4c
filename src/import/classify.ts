// Which logged requests are page views: GET, status 2xx/3xx/404, and a path that is not a
// static asset — by default judged by its extension. `--pages` and `--assets` override it with
// path patterns (the same `*`/`**` syntax as a site's exclusions).
import type { LogRecord } from './formats.ts';
import type { PathTest } from '../matchers/glob.ts';

const ASSET_EXT = new Set(('css js mjs map json xml txt ico png jpg jpeg gif webp avif svg bmp tif tiff woff woff2 ttf otf eot ' +
  'mp3 mp4 webm ogg wav mov avi pdf zip gz tgz bz2 xz 7z rar dmg exe msi iso deb rpm apk swf wasm rss atom csv').split(' '));

export interface PageRules {
  /** Paths that are pages whatever their extension. */
  pages: PathTest | null;
  /** Paths that are assets whatever their extension. */
  assets: PathTest | null;
}

function extension(path: string): string {
  const q = path.search(/[?#]/);
  const p = q < 0 ? path : path.slice(0, q);
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  return dot > slash ? p.slice(dot + 1).toLowerCase() : '';
}

export function isPage(r: LogRecord, rules: PageRules): boolean {
  return isPageRequest(r.method, r.status) && isPagePath(r.path, rules);
}

/** A GET answered 2xx, 3xx or 404. */
export function isPageRequest(method: string, status: number): boolean {
  return method === 'GET' && ((status >= 200 && status < 400) || status === 404);
}

/** Whether a path (with its query) is a page's, when the method and status are a page view's. */
export function isPagePath(pathAndQuery: string, rules: PageRules): boolean {
  const q = pathAndQuery.indexOf('?');
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  if (rules.pages?.test(path)) return true;
  if (rules.assets?.test(path)) return false;
  return !ASSET_EXT.has(extension(path));
}
