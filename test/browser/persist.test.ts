// Persistence in a real browser: a page (bundled for the browser, tendril by
// name) keeps a Model, an ORSet and a Seq in IndexedDB with persist(),
// writes, closes, is reloaded, and finds its state again; its Model then
// reconnects to a server over WebSocket and is sent only the updates it
// lacks (the catch-up's announced total says how many). Headless Chromium
// (the system's `chromium`) through playwright-core; skipped, with the
// reason printed, only where no Chromium can be found.
import test from 'tape';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Model, serveWebSocket } from '../../lib/index.js';
import { findChromium, noChromium } from '../helpers/chromium.js';
import { until } from '../helpers/compliance.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Longest the test waits for anything: the machine may be slow, a browser slower. */
const TIMEOUT_MS = 60_000;

/** The page's code, as an application writes it; the test calls `window.harness` through the driver. */
const PAGE_SCRIPT = `
import { Model, ORSet, Seq, connectWebSocket, persist } from 'tendril';

let open;
window.harness = {
  async open() {
    const model = new Model({ id: 'tab', name: 'settings' });
    // A CRDT keeps its replica id across restarts: its own event numbers carry on from IndexedDB.
    const list = new ORSet({ id: 'tab', name: 'list' });
    const text = new Seq({ name: 'text' });
    const stores = await Promise.all([persist(model, 'tendril-settings'), persist(list, 'tendril-list'), persist(text, 'tendril-text')]);
    open = { model, list, text, stores };
    return window.harness.read();
  },
  read() {
    const { model, list, text } = open;
    return { theme: model.get('theme') ?? null, keys: model.size, list: list.values().sort(), text: text.toString() };
  },
  write() {
    const { model, list, text } = open;
    model.set('theme', 'dark');
    list.add('milk');
    list.add('eggs');
    list.add('bread');
    list.remove('eggs');
    text.insert(0, 'hello world');
    text.delete(5, 6);
    text.insert(5, ', IndexedDB');
  },
  /** Connects the Model to the server; resolves with the last progress before 'synced'. */
  sync(url) {
    return new Promise((resolve, reject) => {
      const connector = connectWebSocket(open.model, url, { reconnect: false });
      let last = null;
      connector.on('progress', (progress) => (last = progress.updates ?? last));
      connector.once('synced', () => {
        connector.once('close', () => resolve(last));
        connector.close();
      });
      connector.once('error', reject);
    });
  },
  async close() {
    await Promise.all(open.stores.map((store) => store.close()));
    open = undefined;
  },
};
`;

const chromium = findChromium();
const skip = noChromium(chromium);
if (skip) console.log(`# skipping the browser persistence test: ${skip}`);

async function bundle(): Promise<string> {
  const result = await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

test('browser: a Model, an ORSet and a Seq kept in IndexedDB survive a reload; a reconnect is sent only what is missing', { skip, timeout: 4 * TIMEOUT_MS }, async (t) => {
  const { chromium: driver } = await import('playwright-core');
  const script = await bundle();
  const http = createServer((request, response) => {
    if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
    else if (request.url === '/page.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const server = new Model({ id: 'server', name: 'settings' });
  for (let i = 0; i < 500; i++) server.set(`server-${i}`, i);
  const hub = await serveWebSocket({ server: http, documents: new Map([['settings', server]]) });
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  const wsUrl = `ws://127.0.0.1:${port}/settings`;
  const browser = await driver.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.setDefaultTimeout(TIMEOUT_MS);
    const load = async () => {
      await page.goto(url);
      await page.waitForFunction(() => 'harness' in globalThis);
    };
    type State = { theme: string | null; keys: number; list: string[]; text: string };
    type Counts = { done: number; total: number } | null;
    const harness = {
      open: () => page.evaluate(() => (globalThis as any).harness.open() as Promise<State>),
      write: () => page.evaluate(() => (globalThis as any).harness.write()),
      sync: (to: string) => page.evaluate((to) => (globalThis as any).harness.sync(to) as Promise<Counts>, to),
      close: () => page.evaluate(() => (globalThis as any).harness.close()),
    };

    await load();
    t.deepEqual(await harness.open(), { theme: null, keys: 0, list: [], text: '' }, 'a fresh page starts empty');
    await harness.write();
    t.deepEqual(await harness.sync(wsUrl), { done: 500, total: 500 }, 'first sync: the server\'s 500 updates, counted to the announced total');
    await until(() => server.get('theme') === 'dark', TIMEOUT_MS);
    await harness.close();

    await page.reload();
    await page.waitForFunction(() => 'harness' in globalThis);
    const reopened = await harness.open();
    t.deepEqual(reopened, { theme: 'dark', keys: 501, list: ['bread', 'milk'], text: 'hello, IndexedDB' }, 'after a reload the page finds its Model, ORSet and Seq in IndexedDB');

    for (let i = 0; i < 20; i++) server.set(`later-${i}`, i);
    t.deepEqual(await harness.sync(wsUrl), { done: 20, total: 20 }, 'the reconnect is sent only the 20 updates written while the page was away');
    await harness.close();

    // The tab is closed; a new one of the same origin (same profile) reads the same databases.
    await page.close();
    const other = await context.newPage();
    other.on('pageerror', (err) => errors.push(err.message));
    await other.goto(url);
    await other.waitForFunction(() => 'harness' in globalThis);
    t.deepEqual(
      await other.evaluate(() => (globalThis as any).harness.open()),
      { theme: 'dark', keys: 521, list: ['bread', 'milk'], text: 'hello, IndexedDB' },
      'a new tab finds it all, and the 20 updates of the reconnect too',
    );
    await other.evaluate(() => (globalThis as any).harness.close());
    t.deepEqual(errors, [], 'no errors in the pages');
  } finally {
    await browser.close();
    await hub.close();
    await new Promise((resolve) => http.close(resolve));
  }
});
