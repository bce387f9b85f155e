// The browser demo's server: serves a page where every tab edits one shared
// text (Seq) and one shared list (ORSet), both in one Doc, over one
// WebSocket per tab with the multiplexer.
//   npm run demo:browser            (then open the printed address in several tabs)
//   PORT=8080 npm run demo:browser
// The server keeps the text and the list on LevelDB (in .tendril-demo/browser,
// or under TENDRIL_DEMO_DIR), so a restarted server resumes where it was.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Doc, ORSet, Seq, persist, serveWebSocket } from '../../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const source = join(root, 'demo', 'browser');

/** The page's script, bundled as any application would bundle it: `tendril` by name, for the browser. */
async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [join(source, 'client.js')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

const dataDir = resolve(process.env.TENDRIL_DEMO_DIR ?? '.tendril-demo', 'browser');
mkdirSync(dataDir, { recursive: true });
const doc = new Doc({ name: 'demo' });
// A restarted Seq takes a fresh client id and loads its stored elements; the
// list keeps its replica id, so its own event numbers carry on from disk.
const stores = await Promise.all([
  persist(doc.get('text', Seq), join(dataDir, 'text')),
  persist(doc.get('list', ORSet, { id: 'demo-server' }), join(dataDir, 'list')),
]);
process.once('SIGINT', () => {
  void Promise.all(stores.map((store) => store.close())).finally(() => process.exit(0));
});

const page = readFileSync(join(source, 'index.html'));
const client = await bundleClient();
const http = createServer((request, response) => {
  if (request.url === '/' || request.url === '/index.html') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  } else if (request.url === '/client.js') {
    response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(client);
  } else {
    response.writeHead(404).end('not found');
  }
});
const port = Number(process.env.PORT ?? 8080);
await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
const hub = await serveWebSocket({ server: http, documents: new Map([['demo', doc]]) });
hub.on('connection', () => console.log(`a tab connected (${hub.connections} open)`));
console.log(`tendril browser demo: open http://127.0.0.1:${(http.address() as AddressInfo).port}/ in two or more tabs`);
