/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: DOM types for them
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Browser, chromium as playwright, Page } from 'playwright-core';

/** Screenshots of every run (git-ignored); docs/console/ holds the few committed for the README. */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', '.artifacts', 'screenshots');

/**
 * Where @sparticuz/chromium unpacks its binary (once, under /tmp) and the
 * flags it needs. The package is ESM only, which jest's CommonJS runtime
 * cannot load, so a plain node process asks it.
 */
async function chromiumBinary(): Promise<{ executablePath: string; args: string[] }> {
  const script = `import('@sparticuz/chromium').then(async ({ default: c }) => console.log(JSON.stringify({ executablePath: await c.executablePath(), args: c.args })))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..') });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { executablePath: string; args: string[] };
}

/** Headless Chromium from the @sparticuz/chromium package (the binary ships inside it: no download, no apt), driven by playwright-core. */
export async function launchBrowser(): Promise<Browser> {
  const { executablePath, args } = await chromiumBinary();
  // not the Lambda-specific flags: --single-process ends the whole browser with its first closed context, and the
  // console is tested with web security (same-origin policy, CSP) on, as a user's browser has it
  const dropped = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content']);
  return playwright.launch({
    executablePath,
    args: args.filter((a) => !dropped.has(a)),
    headless: true,
    env: { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' },
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Signs in through the login form and waits for the signed-in shell. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').filter({ hasText: username }).waitFor();
}

/**
 * Pixels of `rgb` (±12 per channel) on the canvases inside `selector`: a chart
 * with data has its series' colour on it, an empty one only axes and grid.
 */
export async function colouredPixels(page: Page, selector: string, rgb: [number, number, number]): Promise<number> {
  return page.locator(selector).evaluate((el, [r, g, b]) => {
    let n = 0;
    for (const canvas of Array.from(el.querySelectorAll('canvas'))) {
      const ctx = canvas.getContext('2d');
      if (!ctx || !canvas.width || !canvas.height) continue;
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) <= 12 && Math.abs(data[i + 1] - g) <= 12 && Math.abs(data[i + 2] - b) <= 12) n++;
      }
    }
    return n;
  }, rgb);
}
