// hush.js — the page script. Bundled and minified by scripts/build-beacon.mjs into
// public/hush.js (budget: 1,536 bytes gzipped, goal 1,024; a test enforces it). It sends the
// metadata a privacy policy names and nothing more: page, referrer, screen width class input,
// language, transferred bytes, HTTP status, load time, visible time on the page and how far down
// the page was seen (scroll depth, as Plausible's tracker sends it). No cookies,
// no storage writes, no identifiers. Written for size: short names, no classes, one closure.
//
// Wire format: the Plausible short keys (n u d r p $ i h sd) plus Hush's (sw sh l b s lt e).

interface HushOptions {
  props?: Record<string, unknown>;
  revenue?: { amount: number | string; currency: string };
  interactive?: boolean;
  callback?: (result?: { status?: number; error?: unknown }) => void;
}
type HushFn = ((name: string, opts?: HushOptions) => void) & { q?: IArguments[] };

((w: Window & { hush?: HushFn }, d: Document, l: Location) => {
  const script = d.currentScript as HTMLScriptElement;
  const attr = (name: string) => script.getAttribute('data-' + name);
  const domain = attr('domain');
  const api = attr('api') || new URL(script.src).origin + '/api/event';
  const hashMode = attr('hash') != null;
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  let ignored = nav.doNotTrack == '1' || nav.globalPrivacyControl == true;
  try {
    ignored ||= localStorage.hush_ignore == 'true';
  } catch {
    // storage blocked: nothing to read
  }
  // `*` within a path segment, `**` across segments, as the server's --exclude.
  const exclude = (attr('exclude') || '').split(',').filter(Boolean).map((p) => new RegExp(
    '^' + p.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '.*') + '$'));
  const downloads = attr('downloads');
  const exts = (downloads || 'pdf,csv,txt,docx,xlsx,pptx,zip,gz,7z,rar,dmg,exe,msi,pkg,iso,mp3,mp4,mov,wav').split(',');

  let lastUrl: string | null = null;
  let visibleSince = 0;
  let visibleMs = 0;
  // The lowest point of the page seen so far (px from the top: scroll offset + viewport height).
  const root = d.documentElement;
  let seenPx = 0;
  const scrolled = () => {
    seenPx = Math.max(seenPx, scrollY + innerHeight);
  };

  const send = (body: Record<string, unknown>, opts?: HushOptions, beacon?: boolean) => {
    const data = JSON.stringify(body);
    if (beacon && nav.sendBeacon && nav.sendBeacon(api, data)) return;
    fetch(api, { method: 'POST', body: data, keepalive: true, headers: { 'Content-Type': 'text/plain' } })
      .then((r) => opts?.callback?.({ status: r.status }), (error) => opts?.callback?.({ error }));
  };

  const url = () => l.href;

  const track = (name: string, opts: HushOptions = {}, extra?: Record<string, unknown>, beacon?: boolean) => {
    if (ignored || !domain || (/^localhost$|^127\.|^\[::1\]$/.test(l.hostname) || l.protocol == 'file:') && attr('local') == null
      || exclude.some((re) => re.test(l.pathname))) {
      opts.callback?.();
      return;
    }
    const body: Record<string, unknown> = { n: name, u: url(), d: domain, r: d.referrer || null, ...extra };
    if (opts.props) body.p = opts.props;
    if (opts.revenue) body.$ = opts.revenue;
    if (opts.interactive === false) body.i = false;
    if (hashMode) body.h = 1;
    send(body, opts, beacon);
  };

  // Visible time on the current page, reported when the page hides or before an SPA navigation.
  const engagement = (beacon?: boolean) => {
    if (visibleSince) visibleMs += Date.now() - visibleSince;
    visibleSince = d.visibilityState == 'visible' ? Date.now() : 0;
    // sd: percent of the page's current height seen (the server clamps a shrunk page's >100).
    if (visibleMs > 99 && lastUrl) track('engagement', {}, { e: visibleMs, u: lastUrl, sd: Math.round(seenPx / root.scrollHeight * 100) }, beacon);
    visibleMs = 0;
  };

  const pageview = () => {
    if (url() == lastUrl) return;
    // Navigation Timing of the document itself, on the first page view only: bytes over the
    // wire, HTTP status, load time (full load if done, else until the DOM was interactive).
    const t = !lastUrl && performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming & { responseStatus?: number } | undefined;
    if (lastUrl) engagement();
    lastUrl = url();
    seenPx = 0;
    scrolled();
    const extra: Record<string, unknown> = { sw: screen.width, sh: screen.height, l: nav.language };
    if (t) {
      extra.b = t.transferSize || t.encodedBodySize;
      extra.s = t.responseStatus;
      extra.lt = Math.round(t.loadEventEnd || t.domInteractive);
    }
    visibleSince = d.visibilityState == 'visible' ? Date.now() : 0;
    visibleMs = 0;
    track('pageview', {}, extra);
  };

  const api2 = ((name, opts) => track(name, opts)) as HushFn;
  const queued = w.hush?.q || [];
  w.hush = api2;
  for (const args of queued) track(args[0], args[1]);

  const hist = history;
  for (const m of ['pushState', 'replaceState'] as const) {
    const orig = hist[m];
    hist[m] = function (this: History, ...args: Parameters<History['pushState']>) {
      orig.apply(this, args);
      pageview();
    };
  }
  w.addEventListener('popstate', pageview);
  d.addEventListener('scroll', scrolled); // scroll events cannot be cancelled: no need for passive
  if (hashMode) w.addEventListener('hashchange', pageview);

  d.addEventListener('visibilitychange', () => {
    if (d.visibilityState == 'hidden') engagement(true);
    else {
      visibleSince = Date.now();
      if (!lastUrl) pageview(); // a prerendered page counts once it is shown
    }
  });
  w.addEventListener('pagehide', () => engagement(true));

  // Outbound links and downloads: an event with the URL as a prop. Never delays navigation:
  // the request is a keepalive fetch that outlives the page.
  d.addEventListener('click', (ev) => {
    const a = (ev.target as Element).closest?.('a');
    if (!a || !a.href) return;
    const href = new URL(a.href, l.href);
    const ext = href.pathname.split('.').pop()!.toLowerCase();
    if (downloads != null && href.pathname.includes('.') && exts.includes(ext)) {
      track('File Download', { props: { url: href.href } });
    } else if (attr('outbound') != null && href.host != l.host && /^https?:$/.test(href.protocol)) {
      track('Outbound Link: Click', { props: { url: href.href } });
    }
  }, true);

  if ((d.visibilityState as string) != 'prerender' && d.visibilityState != 'hidden') pageview();
})(window, document, location);
