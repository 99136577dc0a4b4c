// Access-log formats with hand-written lines, odd ones included, and format detection.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parserFor, detectFormat, customParser, parseClf } from '../src/import/formats.ts';
import { isPage } from '../src/import/classify.ts';
import { maskIps, maskLine, MASKED } from '../src/import/mask.ts';
import { pathMatcher } from '../src/store/sites.ts';

const T = Date.UTC(2026, 2, 1, 10, 0, 0);
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

const clf = suite('formats: Apache and nginx family');

clf('combined, with offset time zones', () => {
  const r = parserFor('combined')(`203.0.113.9 - alice [01/Mar/2026:12:00:00 +0200] "GET /blog/?q=1 HTTP/1.1" 200 5120 "https://www.google.com/" "${UA}"`)!;
  assert.equal(r, { ts: T, ip: '203.0.113.9', method: 'GET', path: '/blog/?q=1', status: 200, bytes: 5120, referrer: 'https://www.google.com/', userAgent: UA, host: null });
  assert.is(parseClf('01/Mar/2026:05:00:00 -0500'), T);
});

clf('odd lines: IPv6 client, "-" bytes and referrer, escaped quotes in the UA', () => {
  const r = parserFor('nginx')('2001:db8::1 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/2.0" 304 - "-" "Mozilla/5.0 \\"quoted\\" agent"')!;
  assert.equal([r.ip, r.bytes, r.referrer, r.userAgent, r.status], ['2001:db8::1', null, null, 'Mozilla/5.0 "quoted" agent', 304]);
});

clf('garbage request lines and broken lines are rejected, not thrown', () => {
  const p = parserFor('combined');
  for (const line of [
    '203.0.113.9 - - [01/Mar/2026:10:00:00 +0000] "\\x16\\x03\\x01\\x00" 400 0 "-" "-"',
    '203.0.113.9 - - [01/Mar/2026:10:00:00 +0000] "-" 408 0 "-" "-"',
    '203.0.113.9 - - [99/Foo/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "unterminated',
    'complete nonsense', '',
  ]) assert.is(p(line), null, line);
});

clf('common and the vhost variants', () => {
  const c = parserFor('common')('198.51.100.4 - - [01/Mar/2026:10:00:00 +0000] "GET /a HTTP/1.0" 404 12')!;
  assert.equal([c.path, c.status, c.bytes, c.userAgent, c.referrer], ['/a', 404, 12, '', null]);
  const v = parserFor('combined-vhost')(`www.example.com:443 198.51.100.4 - - [01/Mar/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 99 "-" "${UA}"`)!;
  assert.equal([v.host, v.ip, v.path], ['www.example.com', '198.51.100.4', '/x']);
  const cv = parserFor('common-vhost')('example.com 198.51.100.4 - - [01/Mar/2026:10:00:00 +0000] "GET /y HTTP/1.1" 200 7')!;
  assert.equal([cv.host, cv.path, cv.bytes], ['example.com', '/y', 7]);
});

clf.run();

const other = suite('formats: Caddy, CloudFront, custom');

other('Caddy JSON', () => {
  const line = JSON.stringify({
    level: 'info', ts: T / 1000, logger: 'http.log.access', msg: 'handled request',
    request: { remote_ip: '198.51.100.4', remote_port: '5000', client_ip: '203.0.113.7', proto: 'HTTP/2.0', method: 'GET', host: 'example.com', uri: '/docs?x=1', headers: { 'User-Agent': [UA], Referer: ['https://duckduckgo.com/'] } },
    bytes_read: 0, duration: 0.001, size: 4242, status: 200,
  });
  const r = parserFor('caddy')(line)!;
  assert.equal([r.ts, r.ip, r.path, r.status, r.bytes, r.referrer, r.userAgent, r.host], [T, '203.0.113.7', '/docs?x=1', 200, 4242, 'https://duckduckgo.com/', UA, 'example.com']);
  assert.is(parserFor('caddy')('{"not":"caddy"}'), null);
  assert.is(parserFor('caddy')('{broken'), null);
});

other('CloudFront / W3C extended, columns from #Fields', () => {
  const p = parserFor('cloudfront');
  assert.is(p('#Version: 1.0'), null);
  assert.is(p('#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query'), null);
  const r = p(['2026-03-01', '10:00:00', 'HEL50-C1', '2048', '2001:db8::9', 'GET', 'd111.cloudfront.net', '/index.html', '200', 'https://t.co/x', 'Mozilla/5.0%20(X11;%20Linux%20x86_64)', 'utm_source=x'].join('\t'))!;
  assert.equal([r.ts, r.ip, r.path, r.bytes, r.referrer, r.userAgent], [T, '2001:db8::9', '/index.html?utm_source=x', 2048, 'https://t.co/x', 'Mozilla/5.0 (X11; Linux x86_64)']);
});

other('custom patterns with named fields; naive times read in the given zone', () => {
  const p = customParser('$host $remote_addr [$date $time] "$method $path" $status $size "$user_agent"', 'Europe/Helsinki');
  const r = p(`example.com 203.0.113.5 [2026-03-01 12:00:00] "GET /shop" 201 77 "${UA}"`)!;
  assert.equal([r.ts, r.host, r.ip, r.method, r.path, r.status, r.bytes, r.userAgent], [T, 'example.com', '203.0.113.5', 'GET', '/shop', 201, 77, UA]);
  assert.throws(() => customParser('$nope', 'UTC'), /unknown field \$nope/);
});

other('a custom format with adjacent fields stays linear on a hostile line (RegExp took 276 s)', () => {
  const p = customParser('$remote_addr $ignore$ignore$ignore x', 'UTC');
  const q = customParser('$remote_addr [$time_local] "$method $path?$query" $status', 'UTC');
  const t = performance.now();
  assert.is(p(`203.0.113.7 ${'?'.repeat(8000)}`), null);
  assert.is(q(`203.0.113.7 [10/Oct/2025:13:55:36 +0000] "GET /${'?'.repeat(8000)}`), null);
  assert.ok(performance.now() - t < 500, `${(performance.now() - t).toFixed(0)} ms`);
  const ok = q('203.0.113.7 [10/Oct/2025:13:55:36 +0000] "GET /a?b=1" 200');
  assert.is(ok?.path, '/a?b=1');
  assert.is(ok?.status, 200);
  assert.throws(() => customParser('$path', 'UTC'), /needs \$remote_addr/);
});

other('detection picks the format that reads the lines', () => {
  const combined = `203.0.113.9 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "${UA}"`;
  assert.is(detectFormat([combined, combined]), 'combined');
  assert.is(detectFormat(['203.0.113.9 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1']), 'common');
  assert.is(detectFormat([`example.com:80 ${combined}`]), 'combined-vhost');
  assert.is(detectFormat([JSON.stringify({ ts: 1, status: 200, request: { uri: '/', remote_ip: '1.2.3.4' } })]), 'caddy');
  assert.is(detectFormat(['#Version: 1.0', '#Fields: date time c-ip']), 'cloudfront');
  assert.is(detectFormat(['what is this', 'no idea']), null);
});

other.run();

const pages = suite('page or asset, and masking');
const rec = (method: string, path: string, status: number) => ({ ts: 0, ip: '', method, path, status, bytes: 0, referrer: null, userAgent: '', host: null });
const none = { pages: null, assets: null };

pages('GET pages with 2xx/3xx/404; assets, other methods and errors are not pages', () => {
  assert.ok(isPage(rec('GET', '/blog/post', 200), none));
  assert.ok(isPage(rec('GET', '/about.html', 301), none));
  assert.ok(isPage(rec('GET', '/missing', 404), none));
  assert.not.ok(isPage(rec('GET', '/style.css?v=2', 200), none));
  assert.not.ok(isPage(rec('GET', '/img/logo.PNG', 200), none));
  assert.not.ok(isPage(rec('POST', '/form', 200), none));
  assert.not.ok(isPage(rec('GET', '/broken', 500), none));
  assert.not.ok(isPage(rec('GET', '/forbidden', 403), none));
});

pages('--pages and --assets override the extension rule', () => {
  const rules = { pages: pathMatcher('/feeds/*.xml'), assets: pathMatcher('/api/**') };
  assert.ok(isPage(rec('GET', '/feeds/news.xml', 200), rules));
  assert.not.ok(isPage(rec('GET', '/api/v1/items', 200), rules));
});

pages('masking replaces every address by its prefix and leaves times alone', () => {
  const m = maskIps('203.0.113.77 - - [01/Mar/2026:10:05:03 +0000] from 2001:db8:abcd:12::1 and ::ffff:198.51.100.23');
  assert.not.ok(m.includes('203.0.113.77'));
  assert.not.ok(m.includes('2001:db8:abcd:12::1'));
  assert.not.ok(m.includes('198.51.100.23'));
  assert.ok(m.includes('10:05:03'));
  assert.ok(m.includes('203.0.0.0/16'));
});

pages('shown log lines hide user-agents too, even cut-off ones', () => {
  const m = maskLine('203.0.113.77 - - [01/Mar/2026:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firef');
  assert.not.ok(m.includes('Mozilla'));
  assert.ok(m.includes(`"${MASKED}`));
  assert.ok(m.includes('"GET / HTTP/1.1"'));
});

pages('shown log lines hide non-browser user-agents whole (scripts, libraries, CloudFront)', () => {
  for (const ua of ['python-requests/2.31.0', 'Go-http-client/1.1', 'curl/8.4.0', 'okhttp/4.12.0', 'my private crawler (ops@example.com)']) {
    const m = maskLine(`203.0.113.77 - - [01/Mar/2026:10:05:03 +0000] "GET /x HTTP/1.1" 200 1 "https://ref.example/" "${ua}" extra`);
    assert.not.ok(m.includes(ua), ua);
    assert.not.ok(m.includes('203.0.113.77'));
    assert.ok(m.includes('"GET /x HTTP/1.1"'));
  }
  const tsv = maskLine('2026-03-01\t10:05:03\tFRA56\t1024\t203.0.113.77\tGET\td1.cloudfront.net\t/x\t200\t-\tpython-requests/2.31.0\t-');
  assert.not.ok(tsv.includes('python-requests'));
  assert.not.ok(tsv.includes('203.0.113.77'));
  assert.ok(tsv.includes('/x'));
});

pages('masking stays linear on hostile lines', () => {
  for (const line of ['a'.repeat(200_000), '"' + '\\'.repeat(100_000), '\t' + 'a-'.repeat(100_000), '1:'.repeat(100_000), '1.'.repeat(100_000)]) {
    const t = performance.now();
    maskLine(line);
    assert.ok(performance.now() - t < 200, `${line.slice(0, 8)}… took ${performance.now() - t} ms`);
  }
});

pages.run();
