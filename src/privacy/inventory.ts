// The data inventory: every stored column, what it holds, why, where it comes from and how long
// it stays. One declaration serves the audit (a column missing here fails it, so nothing new can
// be stored without being declared), GET /api/privacy and the privacy-policy text.

export interface Field {
  what: string;
  purpose: string;
  source: string;
  retention: string;
}

type Table = Record<string, Field>;

const SITE_RETENTION = "the site's retention (default 760 days, about 25 months)";
const UNTIL_REMOVED = 'until the site is removed';

const f = (what: string, purpose: string, source: string, retention: string): Field => ({ what, purpose, source, retention });

/** Visit-level attributes, stored once per visit as ids of their text in `strings`. */
/** Where a visit came from and what it was made with; `only` picks the columns of one table. */
function visitAttributes(retention: string, only: string[]): Table {
  const all: Table = {
    referrer_id: f('referring site host (www. removed) and page path, without query string; empty for direct and self-referrals', 'traffic sources and referrers reports', 'beacon referrer or log Referer', retention),
    source_id: f('source name (e.g. "Google") or utm_source/ref', 'traffic sources report', 'referrer, campaign parameters', retention),
    channel_id: f('search, social, email, paid, direct or referral', 'channels report', 'referrer, campaign parameters', retention),
    utm_source_id: f('utm_source campaign parameter', 'campaign report', 'page URL', retention),
    utm_medium_id: f('utm_medium campaign parameter', 'campaign report', 'page URL', retention),
    utm_campaign_id: f('utm_campaign campaign parameter', 'campaign report', 'page URL', retention),
    utm_content_id: f('utm_content campaign parameter', 'campaign report', 'page URL', retention),
    utm_term_id: f('utm_term campaign parameter', 'campaign report', 'page URL', retention),
    country_id: f('ISO 3166-1 country code', 'countries report', 'truncated IP prefix (the address itself is never stored)', retention),
    browser_id: f('browser family', 'browsers report', 'user-agent (the string itself is never stored)', retention),
    browser_version_id: f('browser major version', 'browsers report', 'user-agent', retention),
    os_id: f('operating system family', 'operating systems report', 'user-agent', retention),
    os_version_id: f('operating system major version', 'operating systems report', 'user-agent', retention),
    device_id: f('desktop, mobile, tablet or tv', 'devices report', 'user-agent', retention),
    language_id: f('primary language tag and region, e.g. en-US', 'languages report', 'navigator.language or Accept-Language', retention),
    screen_id: f('screen width class: mobile, tablet, laptop or desktop', 'screen sizes report', 'screen.width', retention),
  };
  return Object.fromEntries(only.map((c) => [c, all[c]]));
}

/** The counts a rollup row keeps: totals over a day or hour, never a single visit. */
function rollupSums(): Table {
  const sum = (what: string) => f(what, 'fast reports', 'aggregated events', SITE_RETENTION);
  return {
    visitors: sum('unique visitors (per day)'), visits: sum('visits'), pageviews: sum('page views'), events: sum('events'),
    bounces: sum('bounced visits'), duration_ms: sum('total visit duration, ms'), visit_pageviews: sum('page views of the visits'),
    bytes: sum('bytes transferred'), load_ms: sum('total page load time, ms'), load_n: sum('page loads timed'),
    engaged_ms: sum('total engaged time, ms'), engaged_visits: sum('visits with engaged time'),
  };
}

export const INVENTORY: Record<string, Table> = {
  sites: {
    id: f('row id', 'internal reference', 'Hush', UNTIL_REMOVED),
    domain: f("the site's domain", 'matching hits to a site', 'site owner', UNTIL_REMOVED),
    timezone: f("the site's time zone", 'reporting days', 'site owner', UNTIL_REMOVED),
    min_visitors: f('k for k-anonymity', 'suppressing small groups in reports', 'site owner', UNTIL_REMOVED),
    retention_days: f('how long events are kept', 'retention enforcement', 'site owner', UNTIL_REMOVED),
    exclude_paths: f('paths not counted', 'excluding private pages', 'site owner', UNTIL_REMOVED),
    created_at: f('when the site was added', 'administration', 'Hush', UNTIL_REMOVED),
    listed: f("whether the site's settings appear at /api/privacy", 'transparency', 'site owner', UNTIL_REMOVED),
  },
  api_keys: {
    id: f('row id', 'internal reference', 'Hush', 'until revoked'),
    site_id: f('site the key grants', 'authorisation', 'Hush', 'until revoked'),
    key_hash: f('SHA-256 of the API key (the key itself is shown once, never stored)', 'authorisation', 'hush key add', 'until revoked'),
    key_prefix: f('first characters of the key', 'telling keys apart', 'hush key add', 'until revoked'),
    created_at: f('when the key was created', 'administration', 'Hush', 'until revoked'),
  },
  daily_keys: {
    day: f('UTC day of the key', 'key rotation', 'Hush', 'deleted within 48 hours after the day ends'),
    key: f('32 random bytes: the HMAC key for visitor ids of that day', 'counting unique visitors within a day without identifying anyone', 'random generator', 'deleted within 48 hours after the day ends'),
    created_at: f('when the key was created', 'key rotation', 'Hush', 'deleted within 48 hours after the day ends'),
  },
  visits: {
    id: f('row id', 'internal reference', 'Hush', SITE_RETENTION),
    site_id: f('site', 'per-site reports', 'Hush', SITE_RETENTION),
    visitor_id: f("64-bit HMAC of site, truncated IP prefix and user-agent under the day's key", 'counting unique visitors and visits; unlinkable once the key is deleted', 'pseudonymisation', SITE_RETENTION),
    start_ts: f('first activity', 'visits over time', 'server clock or log time', SITE_RETENTION),
    duration_ms: f('last activity minus first, ms (end_ts, a virtual column, is their sum)', 'visit duration', 'server clock or log time', SITE_RETENTION),
    entry_page_id: f('first page path', 'entry pages report', 'page URL', SITE_RETENTION),
    exit_page_id: f('last page path', 'exit pages report', 'page URL', SITE_RETENTION),
    pageviews: f('page views in the visit', 'views per visit, bounce rate', 'Hush', SITE_RETENTION),
    bounce: f('1 when the visit had one page view and no interactive event', 'bounce rate', 'Hush', SITE_RETENTION),
    ...visitAttributes(SITE_RETENTION, ['referrer_id', 'country_id', 'language_id']),
    platform_id: f('the visit\'s row of platforms', 'browsers, operating systems, devices and screen sizes reports', 'Hush', SITE_RETENTION),
    acquisition_id: f('the visit\'s row of acquisitions', 'traffic sources, channels and campaign reports', 'Hush', SITE_RETENTION),
  },
  platforms: {
    id: f('row id, referred to by visits.platform_id', 'storing each combination once', 'Hush', SITE_RETENTION),
    site_id: f('site', 'per-site combinations', 'Hush', SITE_RETENTION),
    ...visitAttributes(SITE_RETENTION, ['browser_id', 'browser_version_id', 'os_id', 'os_version_id', 'device_id', 'screen_id']),
  },
  acquisitions: {
    id: f('row id, referred to by visits.acquisition_id', 'storing each combination once', 'Hush', SITE_RETENTION),
    site_id: f('site', 'per-site combinations', 'Hush', SITE_RETENTION),
    ...visitAttributes(SITE_RETENTION, ['source_id', 'channel_id', 'utm_source_id', 'utm_medium_id', 'utm_campaign_id', 'utm_content_id', 'utm_term_id']),
  },
  events: {
    id: f('row id', 'internal reference', 'Hush', SITE_RETENTION),
    site_id: f('site', 'per-site reports', 'Hush', SITE_RETENTION),
    ts: f('date and time of access (ms)', 'reports over time', 'server clock or log time', SITE_RETENTION),
    visit_id: f('the visit this hit belongs to (0 for a log request outside any visit)', 'visit metrics', 'Hush', SITE_RETENTION),
    name_id: f('pageview, engagement, request (log) or a custom event name', 'event reports', 'beacon or log', SITE_RETENTION),
    host_id: f('page host', 'hostname report', 'page URL', SITE_RETENTION),
    page_id: f('page path (query string removed except campaign keys, kept on the visit)', 'pages report', 'page URL', SITE_RETENTION),
    bytes: f('data volume transmitted, bytes', 'bytes-transferred report', 'Navigation Timing or log', SITE_RETENTION),
    status: f('HTTP status of the page', 'status report (e.g. 404s)', 'Navigation Timing or log', SITE_RETENTION),
    load_ms: f('page load time, ms', 'performance report', 'Navigation Timing', SITE_RETENTION),
    engagement_ms: f('visible time on the page, ms', 'time on page', 'beacon', SITE_RETENTION),
    scroll_depth: f('on engagement rows only: the deepest point of the page seen, percent 0–100', 'scroll depth report (pages)', 'beacon (`sd`)', SITE_RETENTION),
    props: f('custom properties the site sends with an event', 'custom event reports', 'site owner via the script', SITE_RETENTION),
    revenue_amount: f('revenue of a conversion', 'revenue reports', 'site owner via the script', SITE_RETENTION),
    revenue_currency: f('ISO 4217 currency', 'revenue reports', 'site owner via the script', SITE_RETENTION),
    flags: f('two flags (also readable as the virtual columns interactive and from_log): whether the event counts against bounce, and whether it was imported from an access log', 'bounce rate; telling beacon and log data apart', 'site owner via the script; Hush', SITE_RETENTION),
  },
  sequences: {
    name: f('which counter (events, visits)', 'unique ids across writing processes', 'Hush', UNTIL_REMOVED),
    value: f('the last id handed out', 'unique ids across writing processes', 'Hush', UNTIL_REMOVED),
  },
  strings: {
    id: f('row id, referred to by the *_id columns of events, visits, platforms and acquisitions', 'storing each text value once', 'Hush', SITE_RETENTION),
    site_id: f('site', 'per-site values', 'Hush', SITE_RETENTION),
    value: f('one text value of the columns that refer to it: a page path, host, event name, referrer, source, campaign, country, browser, OS, device, language or screen class', 'storing each text value once', 'the columns above', `${SITE_RETENTION}: deleted once no row refers to it`),
  },
  goals: {
    id: f('row id', 'internal reference', 'Hush', UNTIL_REMOVED),
    site_id: f('site', 'per-site goals', 'Hush', UNTIL_REMOVED),
    name: f('goal name', 'goal conversions report', 'site owner', UNTIL_REMOVED),
    kind: f('event or page', 'goal conversions report', 'site owner', UNTIL_REMOVED),
    value: f('custom event name or page path pattern', 'goal conversions report', 'site owner', UNTIL_REMOVED),
    created_at: f('when the goal was added', 'administration', 'Hush', UNTIL_REMOVED),
  },
  funnels: {
    id: f('row id', 'internal reference', 'Hush', UNTIL_REMOVED),
    site_id: f('site', 'per-site funnels', 'Hush', UNTIL_REMOVED),
    name: f('funnel name', 'funnel report', 'site owner', UNTIL_REMOVED),
    steps: f('the ordered steps: page path patterns or custom event names', 'funnel report', 'site owner', UNTIL_REMOVED),
    created_at: f('when the funnel was added', 'administration', 'Hush', UNTIL_REMOVED),
  },
  daily_stats: {
    site_id: f('site', 'per-site reports', 'Hush', SITE_RETENTION),
    day: f("local day in the site's time zone", 'reports by day', 'Hush', SITE_RETENTION),
    dim: f('which report the row belongs to (page, source, country, …)', 'fast reports', 'Hush', SITE_RETENTION),
    value: f('the report row: a page path, source, country, browser family, …', 'fast reports', 'aggregated events', SITE_RETENTION),
    ...rollupSums(),
    scroll_sum: f("page rows: the sum over the day's visits of each one's deepest scroll depth on the page", 'scroll depth report (pages)', 'aggregated events', SITE_RETENTION),
    scroll_n: f('page rows: how many visits reported a scroll depth on the page', 'scroll depth report (pages)', 'aggregated events', SITE_RETENTION),
  },
  imports: {
    id: f('row id', 'removing an import whole', 'Hush', UNTIL_REMOVED),
    site_id: f('site', 'per-site imports', 'Hush', UNTIL_REMOVED),
    source: f('the tool the aggregates came from (plausible)', 'showing imported data as imported', 'the site owner (hush import-plausible)', UNTIL_REMOVED),
    from_day: f('first imported local day', 'showing imported data as imported', 'the imported export', UNTIL_REMOVED),
    to_day: f('last imported local day', 'showing imported data as imported', 'the imported export', UNTIL_REMOVED),
    rows: f('how many aggregate rows the import wrote', 'administration', 'Hush', UNTIL_REMOVED),
    created_at: f('when the import ran', 'administration', 'Hush', UNTIL_REMOVED),
  },
  imported_stats: {
    import_id: f('the import that wrote the row', 'removing an import whole', 'Hush', SITE_RETENTION),
    site_id: f('site', 'per-site reports', 'Hush', SITE_RETENTION),
    day: f('local day of the aggregate', 'reports by day', 'the imported export', SITE_RETENTION),
    dim: f('which report the row belongs to (page, source, country, …)', 'reports of the days before Hush counted', 'Hush', SITE_RETENTION),
    value: f('the report row: a page path, source, country, browser family, … (rows that look like an IP or e-mail address are not imported)', 'reports of the days before Hush counted', "another tool's aggregate export (Plausible CSV)", SITE_RETENTION),
    ...rollupSums(),
  },
  hourly_stats: {
    site_id: f('site', 'per-site reports', 'Hush', SITE_RETENTION),
    hour: f("local hour in the site's time zone", 'hourly charts', 'Hush', SITE_RETENTION),
    ...rollupSums(),
  },
  rollup_days: {
    site_id: f('site', 'rollup bookkeeping', 'Hush', SITE_RETENTION),
    day: f('a local day whose rollups are built', 'rollup bookkeeping', 'Hush', SITE_RETENTION),
    built_at: f('when they were built', 'rollup bookkeeping', 'Hush', SITE_RETENTION),
  },
  rollup_dirty: {
    site_id: f('site', 'rollup bookkeeping', 'Hush', 'until the rollups are rebuilt (seconds)'),
    hour: f('a UTC hour with new events', 'rollup bookkeeping', 'Hush', 'until the rollups are rebuilt (seconds)'),
    gen: f('write counter', 'rollup bookkeeping', 'Hush', 'until the rollups are rebuilt (seconds)'),
  },
  users: {
    id: f('row id', 'internal reference', 'Hush', 'until the account is removed'),
    email: f("the dashboard user's login e-mail (not a visitor's)", 'logging in', 'the user or an administrator', 'until the account is removed'),
    password_hash: f('scrypt hash of the password (the password itself is never stored)', 'logging in', 'the user', 'until the account is removed'),
    admin: f('1 for an administrator', 'authorisation', 'Hush', 'until the account is removed'),
    created_at: f('when the account was created', 'administration', 'Hush', 'until the account is removed'),
    totp_secret: f('two-factor login secret (RFC 6238), when the user turned it on', 'logging in', 'Hush', 'until turned off'),
    totp_pending: f('a two-factor secret being set up', 'logging in', 'Hush', 'until confirmed'),
    totp_last_step: f('the last 30-second step a code was accepted for', 'a code works once', 'Hush', 'until turned off'),
  },
  recovery_codes: {
    id: f('row id', 'internal reference', 'Hush', 'until used'),
    user_id: f('dashboard user', 'logging in without the authenticator', 'Hush', 'until used'),
    code_hash: f('SHA-256 of a one-time recovery code (the code is shown once)', 'logging in without the authenticator', 'Hush', 'until used'),
  },
  memberships: {
    user_id: f('dashboard user', 'authorisation', 'an administrator', 'until revoked'),
    site_id: f('site the user may see', 'authorisation', 'an administrator', 'until revoked'),
    role: f('owner or viewer', 'authorisation', 'an administrator', 'until revoked'),
  },
  sessions: {
    token_hash: f('SHA-256 of the session cookie (the cookie itself is never stored)', 'staying logged in', 'Hush', '7 days idle or 30 days, or until logout'),
    user_id: f('dashboard user', 'staying logged in', 'Hush', '7 days idle or 30 days, or until logout'),
    csrf: f('random secret forms must echo', 'protection against cross-site requests', 'Hush', '7 days idle or 30 days, or until logout'),
    created_at: f('login time', 'session expiry', 'Hush', '7 days idle or 30 days, or until logout'),
    seen_at: f('last request (to the minute)', 'idle expiry', 'Hush', '7 days idle or 30 days, or until logout'),
    expires_at: f('hard end of the session', 'session expiry', 'Hush', '7 days idle or 30 days, or until logout'),
  },
  shared_links: {
    id: f('row id', 'internal reference', 'Hush', 'until revoked'),
    site_id: f('site the link shows', 'read-only sharing', 'an owner', 'until revoked'),
    token_hash: f('SHA-256 of the link token (the link is shown once, never stored)', 'read-only sharing', 'Hush', 'until revoked'),
    label: f("the owner's name for the link", 'telling links apart', 'an owner', 'until revoked'),
    password_hash: f('scrypt hash of the optional password', 'protecting the link', 'an owner', 'until revoked'),
    created_at: f('when the link was created', 'administration', 'Hush', 'until revoked'),
  },
  email_subscriptions: {
    id: f('row id', 'internal reference', 'Hush', 'until unsubscribed'),
    user_id: f('dashboard user who gets the report', 'scheduled e-mail reports', 'the user', 'until unsubscribed'),
    site_id: f('site the report is about', 'scheduled e-mail reports', 'the user', 'until unsubscribed'),
    period: f('week or month', 'scheduled e-mail reports', 'the user', 'until unsubscribed'),
    secret: f('random key the unsubscribe link in each mail is signed with', 'unsubscribing without logging in', 'random generator', 'until unsubscribed'),
    last_sent: f('first day of the last period mailed', 'never sending a report twice', 'Hush', 'until unsubscribed'),
    created_at: f('when the user subscribed', 'administration', 'Hush', 'until unsubscribed'),
  },
  import_state: {
    site_id: f('site', 'import bookkeeping', 'Hush', UNTIL_REMOVED),
    last_ts: f('newest imported log time', 'not importing a line twice', 'access log', UNTIL_REMOVED),
    boundary: f('fingerprints of the last 5 minutes of imported lines (hashes of the IP prefix and UA families, never of the address)', 'not importing a line twice', 'access log', UNTIL_REMOVED),
    updated_at: f('when the import last ran', 'administration', 'Hush', UNTIL_REMOVED),
  },
};

/** Tables SQLite and Drizzle keep for themselves; they hold no personal data. */
export const SYSTEM_TABLES = new Set(['__drizzle_migrations', 'sqlite_sequence', 'sqlite_stat1']);
