// The layers of DESIGN.md, enforced: each layer imports only the layers below it.
import test from 'tape';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImportGraph, cycles, importGraph } from './import-graph.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const graph = importGraph(root, 'lib');

/** The sync cores: plain protocol classes that never touch a stream, a socket or a timer. */
const ENGINES = ['lib/scuttlebutt/', 'lib/crdt/', 'lib/seq/', 'lib/merkle/', 'lib/reconcile/'];
/** Above the cores: the stream shell and everything that moves bytes. */
const SHELL = ['lib/stream/', 'lib/transport/', 'lib/mux/'];
/**
 * The one sanctioned arrow up: a structure's public class gets
 * `createStream()` from the `Replica` base, which builds the stream shell
 * around the structure's session (see docs/architecture.md).
 */
const SANCTIONED = new Set(['lib/session/replica.ts']);

function violations(graph: ImportGraph, from: string[], to: string[]): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    if (SANCTIONED.has(file) || !from.some((dir) => file.startsWith(dir))) continue;
    for (const target of targets) if (to.some((dir) => target.startsWith(dir))) found.push(`${file} -> ${target}`);
  }
  return found;
}

test('the import graph was read', (t) => {
  t.ok(graph.size > 50, `${graph.size} files under lib/`);
  t.ok(graph.get('lib/stream/duplex.ts')?.includes('lib/session/contract.ts'), 'imports are resolved to files');
  t.end();
});

test('no engine imports the stream shell or a transport', (t) => {
  t.deepEqual(violations(graph, ENGINES, SHELL), []);
  t.end();
});

test('the session skeleton and the primitives import nothing above them', (t) => {
  t.deepEqual(violations(graph, ['lib/session/', 'lib/codec/', 'lib/clock/', 'lib/errors.ts'], [...SHELL, ...ENGINES, 'lib/sim/']), []);
  t.end();
});

test('no engine imports the simulator', (t) => {
  t.deepEqual(violations(graph, [...ENGINES, 'lib/session/', ...SHELL], ['lib/sim/']), []);
  t.end();
});

test('no two files import each other, directly or around a circle', (t) => {
  t.deepEqual(cycles(graph), []);
  t.end();
});

test('the checker finds a circle and an arrow up when there is one', (t) => {
  const made: ImportGraph = new Map([
    ['lib/crdt/a.ts', ['lib/crdt/b.ts', 'lib/stream/duplex.ts']],
    ['lib/crdt/b.ts', ['lib/crdt/c.ts']],
    ['lib/crdt/c.ts', ['lib/crdt/a.ts']],
    ['lib/stream/duplex.ts', []],
  ]);
  t.deepEqual(cycles(made), [['lib/crdt/a.ts', 'lib/crdt/b.ts', 'lib/crdt/c.ts']]);
  t.deepEqual(violations(made, ENGINES, SHELL), ['lib/crdt/a.ts -> lib/stream/duplex.ts']);
  t.end();
});
