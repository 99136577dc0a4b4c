// What Hush stores and why, as the public JSON at GET /api/privacy and as ready-to-paste
// privacy-policy text (`hush privacy --markdown`). Both come from the data inventory, so the
// words cannot drift from what is stored.
import { INVENTORY } from './inventory.ts';
import { PREFIX_BITS, type Precision } from '../pseudonymize/truncate.ts';

export interface ListedSite {
  domain: string;
  timezone: string;
  retentionDays: number;
  minVisitors: number;
}

/**
 * What the host adds to the facts: at the edge, Cloudflare can restore a Durable Object's storage
 * to any point of the last 30 days (no opt-out), a deleted daily key included.
 */
export interface HostFacts {
  keyBackups?: string;
}

export function privacyDocument(precision: Precision, kFloor: number, sites: ListedSite[], host: HostFacts = {}): Record<string, unknown> {
  const bits = PREFIX_BITS[precision];
  return {
    software: 'Hush — cookieless web analytics',
    ip_addresses: {
      stored: false,
      precision,
      truncated_to: { ipv4: `/${bits.v4}`, ipv6: `/${bits.v6}` },
      used_for: 'the country and the daily visitor hash, then discarded',
    },
    visitor_hash: {
      scheme: 'HMAC-SHA256(daily key, site ‖ truncated IP prefix ‖ user-agent), first 64 bits; fields length-prefixed',
      key: '32 random bytes per UTC day, never logged',
      key_lifetime: "the current and the previous day's key are kept; older keys are deleted within 48 hours after their day ends",
      ...(host.keyBackups ? { key_backups: host.keyBackups } : {}),
      cross_site: 'none: the site is part of every hash input',
    },
    user_agent: { stored: false, kept: 'browser and OS family with major version, device class' },
    cookies: false,
    opt_out: ['DNT: 1', 'Sec-GPC: 1', "localStorage.hush_ignore = 'true'"],
    k_anonymity: { minimum_k: kFloor, rule: 'report rows describing fewer than k visitors fold into "(other)"' },
    retention: 'per site, enforced by the server hourly (default 760 days, about 25 months)',
    sites: sites.map((s) => ({ domain: s.domain, time_zone: s.timezone, retention_days: s.retentionDays, min_visitors: s.minVisitors })),
    inventory: INVENTORY,
  };
}

/** A "what our analytics collects" section and a record-of-processing entry, in Markdown. */
export function privacyMarkdown(precision: Precision, site: ListedSite): string {
  const bits = PREFIX_BITS[precision];
  const years = (site.retentionDays / 365).toFixed(site.retentionDays % 365 === 0 ? 0 : 1);
  return `## Website analytics

We measure how ${site.domain} is used with Hush, self-hosted analytics that sets no cookies and
stores nothing on your device. For each page you view we record: the page address (without
its query string, except campaign tags such as utm_source), the referring page, the date and
time, the amount of data transferred and the HTTP status of the page, your browser and
operating system families with their major versions, the kind of device, your language, your
screen size class, the page's load time and how long the page was visible.

Your IP address is never stored. It is shortened at once (to the first ${bits.v4} bits for IPv4,
${bits.v6} for IPv6), used to derive your country and, together with your browser's user-agent and
a random key that changes every day, an anonymous visitor number that lets us count unique
visitors within one day. The daily key is deleted within 48 hours, after which nobody — not us
either — can connect that number to you. Visitor numbers differ between websites.

Reports only ever show groups: any line describing fewer than ${site.minVisitors} visitors is merged into
"(other)". The data is kept for ${site.retentionDays} days (about ${years} years) and then deleted
automatically. If your browser sends "Do Not Track" or "Global Privacy Control", nothing is
recorded at all.

## Record of processing activities (GDPR art. 30)

| | |
|---|---|
| Processing | Audience measurement of ${site.domain} |
| Purpose | Understanding which content is read and how visitors arrive, to improve the site |
| Legal basis | Legitimate interest (art. 6(1)(f)); no cookies or device storage (ePrivacy consent not required) |
| Data subjects | Visitors of ${site.domain} |
| Data | Page, referrer, time, bytes, HTTP status, browser/OS family and major version, device class, language, screen class, load time, visible time, country; a daily-keyed pseudonymous visitor number |
| Not collected | IP addresses (truncated to /${bits.v4} and /${bits.v6} before use, never stored), full user-agent strings, cookies, cross-site identifiers |
| Recipients | None; self-hosted |
| Retention | ${site.retentionDays} days, enforced automatically; daily hash keys deleted within 48 hours |
| Safeguards | k-anonymity (k = ${site.minVisitors}) in all reports; \`hush audit\` verifies the stored data |
`;
}
