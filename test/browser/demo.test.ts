// The browser demo, end to end in a real browser: headless Chromium (the
// system's `chromium` package) driven by playwright-core opens two pages of
// `npm run demo:browser`, types in one and sees the text in the other; then
// the server is killed and restarted on its data, and a fresh page sees it all.
// Skipped, with the reason printed, only where no Chromium can be found.
import test from 'tape';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium, noChromium } from '../helpers/chromium.js';
import { until } from '../helpers/compliance.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Longest the test waits for anything: the machine may be slow, a browser slower. */
const TIMEOUT_MS = 60_000;

/** Waits until the page's shared text reads `expected`. */
async function textIs(page: { locator(selector: string): { inputValue(): Promise<string> } }, expected: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  let value = '';
  while ((value = await page.locator('#text').inputValue()) !== expected) {
    if (Date.now() > deadline) throw new Error(`the text reads ${JSON.stringify(value)}, not ${JSON.stringify(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const chromium = findChromium();
const skip = noChromium(chromium);
if (skip) console.log(`# skipping the browser end-to-end test: ${skip}`);

/** Starts the demo's server on `dataDir`; resolves with the process and the page's address. */
async function startServer(dataDir: string): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [join(root, 'dist', 'demo', 'browser', 'server.js')], {
    env: { ...process.env, PORT: '0', TENDRIL_DEMO_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  const address = /open (http:\/\/127\.0\.0\.1:\d+\/)/;
  await until(() => address.test(output) || server.exitCode !== null, TIMEOUT_MS);
  if (!address.test(output)) throw new Error(`the demo server did not start: ${output}`);
  return { server, url: address.exec(output)![1]! };
}

test('browser demo: text typed in one tab appears in the other, and so does a list item; a restarted server keeps both', { skip, timeout: 4 * TIMEOUT_MS }, async (t) => {
  const { chromium: driver } = await import('playwright-core');
  const dataDir = mkdtempSync(join(tmpdir(), 'tendril-browser-demo-'));
  let { server, url } = await startServer(dataDir);
  const browser = await driver.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    const [one, two] = [await context.newPage(), await context.newPage()];
    const errors: string[] = [];
    for (const page of [one, two]) {
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(url);
      await page.waitForSelector('#status.synced', { timeout: TIMEOUT_MS });
    }
    t.pass('both pages synced over WebSocket');

    await one.locator('#text').pressSequentially('hello from tab one');
    await textIs(two, 'hello from tab one');
    t.pass('typed in tab one, seen in tab two');

    await two.locator('#text').press('End');
    await two.locator('#text').pressSequentially(', and two');
    await textIs(one, 'hello from tab one, and two');
    t.pass('and back');

    await two.locator('#new-item').fill('milk');
    await two.locator('#add').click();
    await one.waitForSelector('#items li:has-text("milk")', { timeout: TIMEOUT_MS });
    t.pass('a list item added in tab two appears in tab one');
    t.deepEqual(errors, [], 'no errors in the pages');

    if (process.env.TENDRIL_SCREENSHOT) {
      await one.screenshot({ path: process.env.TENDRIL_SCREENSHOT });
      console.log(`# screenshot: ${process.env.TENDRIL_SCREENSHOT}`);
    }

    await context.close();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the last changes reach the disk (written each tick)
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    ({ server, url } = await startServer(dataDir));
    const fresh = await (await browser.newContext()).newPage();
    await fresh.goto(url);
    await fresh.waitForSelector('#status.synced', { timeout: TIMEOUT_MS });
    await textIs(fresh, 'hello from tab one, and two');
    await fresh.waitForSelector('#items li:has-text("milk")', { timeout: TIMEOUT_MS });
    t.pass('after a SIGKILL and a restart, a fresh page gets the text and the list from the server\'s disk');
  } finally {
    await browser.close();
    server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
