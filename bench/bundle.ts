// The size of a browser page that edits a shared text over WebSocket:
// tendril (Seq, reconnecting WebSocket client) beside Yjs with y-websocket,
// both bundled by esbuild for the browser, minified, and gzipped.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The same page twice: a shared text bound to the server at ws://.../text. */
export const PAGES: Record<string, string> = {
  'tendril (Seq + connectWebSocket)': `
    import { Seq, connectWebSocket } from 'tendril';
    const text = new Seq({ name: 'text' });
    const connection = connectWebSocket(text, 'ws://127.0.0.1:8080/text');
    connection.on('synced', () => text.insert(0, 'hello'));
    text.on('change', () => console.log(text.toString()));
  `,
  'tendril (Doc: Seq + ORSet, one WebSocket)': `
    import { Doc, ORSet, Seq, connectWebSocket } from 'tendril';
    const doc = new Doc({ name: 'demo' });
    const text = doc.get('text', Seq);
    const list = doc.get('list', ORSet);
    connectWebSocket(doc, 'ws://127.0.0.1:8080/demo').on('synced', () => { text.insert(0, 'hello'); list.add('milk'); });
    text.on('change', () => console.log(text.toString(), list.values()));
  `,
  'tendril (Model kept in IndexedDB, over WebSocket)': `
    import { Model, connectWebSocket, persist } from 'tendril';
    const model = new Model({ id: 'tab-1', name: 'settings' });
    const stored = await persist(model, 'tendril-settings');
    connectWebSocket(model, 'ws://127.0.0.1:8080/settings');
    model.on('update', (key, value) => console.log(key, value));
    window.addEventListener('pagehide', () => stored.close());
  `,
  'yjs + y-websocket': `
    import * as Y from 'yjs';
    import { WebsocketProvider } from 'y-websocket';
    const doc = new Y.Doc();
    const text = doc.getText('text');
    const provider = new WebsocketProvider('ws://127.0.0.1:8080', 'text', doc);
    provider.on('sync', () => text.insert(0, 'hello'));
    text.observe(() => console.log(text.toString()));
  `,
};

export interface BundleSize {
  page: string;
  bytes: number;
  gzipBytes: number;
  /** Files esbuild read for the bundle, for checking what went in. */
  inputs: string[];
  /** Of those, the files with code left in the bundle after tree shaking, and the bytes each left (minified), largest first. */
  included: { path: string; bytes: number }[];
}

/** Bundles one page's source for the browser, minified, as an application would. */
export async function bundlePage(page: string, source: string): Promise<BundleSize> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const output = Object.values(result.metafile.outputs)[0]!;
  const included = Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
    .filter((input) => input.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return { page, bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength, inputs: Object.keys(result.metafile.inputs), included };
}

export async function runBundleBench(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const [page, source] of Object.entries(PAGES)) sizes.push(await bundlePage(page, source));
  return sizes;
}

export function formatBundleSizes(sizes: BundleSize[]): string {
  const anchor = sizes.find((s) => s.page.startsWith('yjs'))!;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  return [
    '',
    'browser page editing a shared text over WebSocket (esbuild, minified; gzip -9)',
    '',
    '| page | minified | gzipped | gzipped vs yjs |',
    '|---|---|---|---|',
    ...sizes.map((s) => `| ${s.page} | ${kb(s.bytes)} | ${kb(s.gzipBytes)} | ${(s.gzipBytes / anchor.gzipBytes).toFixed(2)}x |`),
    // Where a page's bytes go, for whoever shrinks it next.
    ...sizes
      .filter((s) => s.page.startsWith('tendril'))
      .flatMap((s) => ['', `largest parts of "${s.page}" (minified)`, ...s.included.slice(0, 8).map((input) => `  ${kb(input.bytes).padStart(8)}  ${input.path}`)]),
  ].join('\n');
}
