// Masks what a log line shown to the user (the first malformed lines of an import) must not
// show: each IP address becomes its truncated prefix, and the user-agent goes whole. A malformed
// line has no reliable structure, so every quoted field after the first (the request line, kept
// to say what was wrong) is masked — the referrer and the user-agent of combined formats, which
// for scripts are plain "python-requests/2.31.0" that no browser-token list knows — and so is
// whatever follows an unterminated quote (lines cut inside the user-agent), and in tab-separated
// lines (CloudFront) every field holding a product token such as Mozilla/5.0%20(…).
import { truncateIp } from '../pseudonymize/truncate.ts';
import { replaceIps } from '../privacy/personal-data.ts';

const QUOTED = /"(?:[^"\\]|\\.)*("|$)/g;
// A token character, a slash and a digit: constant work per position (no backtracking run).
const PRODUCT_TOKEN = /[\w.+-]\/\d/;
export const MASKED = '[masked]';

/** Masks addresses and user-agent strings in a log line shown to the user. */
export function maskLine(text: string): string {
  const masked = maskIps(text);
  if (masked.includes('\t')) {
    return masked.split('\t').map((f) => (PRODUCT_TOKEN.test(f) ? MASKED : f)).join('\t');
  }
  let first = true;
  return masked.replace(QUOTED, (field, close: string) => {
    if (first) {
      first = false;
      if (close) return field;
    }
    return `"${MASKED}${close}`;
  });
}

export function maskIps(text: string): string {
  return replaceIps(text, (ip) => {
    const p = truncateIp(ip, 'strict');
    return p ? p.text : '[ip]';
  });
}
