// The entry points sit on top (docs/architecture.md): nothing in lib/ imports
// one, the demos use only `tendril`, and the four entry points do not overlap.
import test from 'tape';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importGraph } from './import-graph.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ENTRY_POINTS = ['lib/index.ts', 'lib/core.ts', 'lib/codec/index.ts', 'lib/sim/index.ts'];
/** Entry points that are also their folder's own index, imported by the files beside them. */
const FOLDER_INDEXES = new Set(['lib/codec/index.ts', 'lib/sim/index.ts']);

test('nothing in lib/ imports tendril or tendril/core', (t) => {
  const found: string[] = [];
  for (const [file, targets] of importGraph(root, 'lib')) {
    for (const target of targets) if (ENTRY_POINTS.includes(target) && !FOLDER_INDEXES.has(target)) found.push(`${file} -> ${target}`);
  }
  t.deepEqual(found, []);
  t.end();
});

test('the demos import the library only through tendril', (t) => {
  const found: string[] = [];
  for (const [file, targets] of importGraph(root, 'demo')) {
    for (const target of targets) if (target.startsWith('lib/') && target !== 'lib/index.ts') found.push(`${file} -> ${target}`);
  }
  t.deepEqual(found, []);
  t.end();
});

test('each public name is exported by one entry point only', async (t) => {
  const owners = new Map<string, string[]>();
  for (const entry of ENTRY_POINTS) {
    const module = await import(join(root, 'dist', entry.replace(/\.ts$/, '.js')));
    for (const name of Object.keys(module)) owners.set(name, [...(owners.get(name) ?? []), entry]);
  }
  const shared = [...owners].filter(([, entries]) => entries.length > 1).map(([name, entries]) => `${name}: ${entries.join(', ')}`);
  t.deepEqual(shared, [], `${owners.size} runtime names, none in two entry points`);
});
