import test from 'tape';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGES, bundlePage } from '../../bench/bundle.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** What a browser bundle of tendril must never contain. */
const NODE_ONLY = [
  /^node:/,
  /(^|\/)node_modules\/(classic-level|duplexify|length-prefixed-stream|pump|readable-stream|ws|node-gyp-build)\//,
  /(^|\/)dist\/lib\/(sim|merkle)\//,
  /(^|\/)dist\/lib\/transport\/(net|stdio|ws)\.js$/,
  /(^|\/)dist\/lib\/stream\/(duplex|replicate)\.js$/,
];

test('package.json sends browsers to the browser entry', (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  t.equal(pkg.exports['.'].browser, './dist/lib/browser.js', 'exports condition');
  t.ok(Object.keys(pkg.exports['.']).indexOf('browser') < Object.keys(pkg.exports['.']).indexOf('default'), 'browser before default');
  t.end();
});

for (const [page, source] of Object.entries(PAGES).filter(([page]) => page.startsWith('tendril'))) {
  test(`the browser bundle of "${page}" has no Node built-ins, TCP, stdio, LevelDB, Node streams or simulator`, async (t) => {
    const size = await bundlePage(page, source);
    const offending = size.inputs.filter((input) => NODE_ONLY.some((pattern) => pattern.test(input)));
    t.deepEqual(offending, [], `${size.inputs.length} files bundled`);
    t.ok(size.inputs.some((input) => input.endsWith('dist/lib/browser.js')), 'through the browser entry');
    t.ok(size.inputs.some((input) => /node_modules\/events\//.test(input)), 'events from the events package');
    t.ok(size.inputs.some((input) => input.endsWith('dist/lib/browser/buffer.js')), 'the global Buffer is the browser build\'s own');
    // The buffer package comes only with IndexedDB (abstract-level uses it), never for the library itself.
    if (!source.includes('persist(')) t.notOk(size.included.some((input) => /node_modules\/buffer\//.test(input.path)), 'no buffer package');
    if (source.includes('persist(')) t.ok(size.inputs.some((input) => /node_modules\/browser-level\//.test(input)), 'persistence on browser-level (IndexedDB)');
    console.log(`# ${page}: ${size.bytes} bytes minified, ${size.gzipBytes} gzipped`);
  });
}

test('a bundle that reaches for Node is caught: the Node entry does not bundle for the browser', async (t) => {
  const error = await bundlePage('node entry', `import { listen } from './dist/lib/index.js'; console.log(listen);`).then(
    () => undefined,
    (err: Error) => err,
  );
  t.ok(error, `esbuild refuses it: ${error?.message.split('\n')[0]}`);
});
