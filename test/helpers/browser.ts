// Real headless Chromium for browser tests (playwright-core + Debian's chromium). Where no
// browser is installed the suites say so loudly and count as skipped; .ci/run installs it, so
// CI never skips them.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROME = process.env.CHROME_PATH || '/usr/bin/chromium';
export const HAVE_CHROME = existsSync(CHROME);

/** An ordinary desktop Chrome UA: isbot rightly flags HeadlessChrome, and the filter stays strict. */
export const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export function skipNotice(): void {
  console.log(`SKIPPED LOUDLY: no Chromium at ${CHROME} (set CHROME_PATH or apt-get install -y chromium); browser tests did not run`);
}

/** Launches Chromium with the given host names resolving to 127.0.0.1 (cross-origin, not localhost). */
export function launch(hosts: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROME,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic',
      `--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}, EXCLUDE localhost`,
    ],
  });
}
