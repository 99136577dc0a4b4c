// Masks IP addresses in text shown to the user (the first malformed lines of an import): each
// address is replaced by its truncated prefix, so not even a terminal sees a full address.
import { truncateIp } from '../pseudonymize/truncate.ts';

const V4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
const V6 = /(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:%\w+)?(?![\w:])/g;

// A quoted field holding a browser token, or everything after the last quote that opens one
// (malformed lines are often cut inside the user-agent).
const QUOTED_UA = /"[^"]*(?:Mozilla|WebKit|Gecko|Chrome|Safari|Firefox|Opera|bot|crawl|spider|curl|Wget)[^"]*("|$)/gi;

/** Masks addresses and user-agent strings in a log line shown to the user. */
export function maskLine(text: string): string {
  return maskIps(text).replace(QUOTED_UA, '"[user-agent]"');
}

export function maskIps(text: string): string {
  const mask = (ip: string) => {
    const p = truncateIp(ip, 'strict');
    return p ? p.text : ip; // not an address after all (a time such as 10:05:03)
  };
  return text.replace(V4, mask).replace(V6, (m) => (m.length >= 3 && m.includes(':') ? mask(m) : m));
}
