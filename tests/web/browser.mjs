// Launch helpers for Debian's Chromium under playwright-core. Playwright's
// own browser download is never used: the binary is /usr/bin/chromium (or
// $WEIR_CHROMIUM), started headless with a fresh profile each time.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(root, 'test-artifacts');
export const chromiumPath = process.env.WEIR_CHROMIUM ?? '/usr/bin/chromium';

const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Launches a persistent context (a fresh --user-data-dir), optionally with an unpacked extension. */
export async function launch({ extension = null, locale = 'en-US' } = {}) {
  mkdirSync(artifacts, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'weir-chromium-'));
  const args = [...chromiumArgs];
  if (extension) args.push(`--disable-extensions-except=${extension}`, `--load-extension=${extension}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args,
    locale,
    viewport: { width: 1280, height: 800 },
    ignoreDefaultArgs: extension ? ['--disable-extensions'] : [],
  });
  context.setDefaultTimeout(20000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name) {
  return join(artifacts, `${name}.png`);
}
