// The CRDT benchmark: ORSet and GSet against Model and a Yjs Y.Map, side by
// side in one run, each measurement in a fresh process, median of `runs`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Row, inChild, printTable, ratio } from '../harness.js';
import type { SyncResult } from './contestants.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'child.js');
const names = ['orset', 'gset', 'model', 'yjs'];

async function median<T>(runs: number, measure: () => Promise<T>, key: (r: T) => number): Promise<T> {
  const results: T[] = [];
  for (let i = 0; i < runs; i++) results.push(await measure());
  results.sort((a, b) => key(a) - key(b));
  return results[Math.floor(results.length / 2)];
}

export async function runCrdtBench(options: { elements?: number; runs?: number } = {}): Promise<Row[][]> {
  const { elements: n = 100_000, runs = 3 } = options;
  const count = n.toLocaleString('en-US');
  const measure = (kind: string, name: string) => inChild<{ ms: number }>(child, [kind, name, String(n)]);

  const local = new Map<string, number>();
  for (const name of names) local.set(name, (await median(runs, () => measure('local', name), (r) => r.ms)).ms);
  const modelUs = (local.get('model')! * 1000) / n;
  const localRows: Row[] = names.map((name) => {
    const us = (local.get(name)! * 1000) / n;
    return { replica: name, 'µs/add': us, 'vs Model.set': ratio(us, modelUs), 'vs Y.Map set': ratio(us, (local.get('yjs')! * 1000) / n) };
  });
  printTable(`(a) ${count} local adds, no peers (median of ${runs}; goal: sets within 2x of Model.set)`, localRows);

  const sync = new Map<string, SyncResult>();
  for (const name of names) {
    const results: SyncResult[] = [];
    // The median run by wall time, with the median CPU time of all runs (a loaded machine moves the two apart).
    const wall = await median(runs, async () => (results[results.length] = await inChild<SyncResult>(child, ['full-sync', name, String(n)])), (r) => r.ms);
    const cpu = results.map((r) => r.cpuMs).sort((a, b) => a - b)[Math.floor(results.length / 2)];
    sync.set(name, { ...wall, cpuMs: cpu });
  }
  const rate = (r: SyncResult) => (r.elements / r.ms) * 1000;
  const syncRows: Row[] = names.map((name) => {
    const r = sync.get(name)!;
    return {
      replica: name,
      elements: r.elements,
      'elements/s': rate(r),
      'vs yjs': ratio(rate(r), rate(sync.get('yjs')!)),
      'vs model': ratio(rate(r), rate(sync.get('model')!)),
      'CPU ms': r.cpuMs,
      'CPU vs yjs': ratio(sync.get('yjs')!.cpuMs, r.cpuMs),
      'CPU vs model': ratio(sync.get('model')!.cpuMs, r.cpuMs),
      'wire B/element': r.wireBytes / r.elements,
      'wire vs yjs': ratio(r.wireBytes, sync.get('yjs')!.wireBytes),
      'peak heap B/element': r.heapBytes / r.elements,
    };
  });
  printTable(`(b) full sync of ${count} elements into a fresh replica (median of ${runs}, wall and CPU each; goals: sets >= 2x yjs and >= model; wire <= yjs)`, syncRows);

  const live = new Map<string, number>();
  for (const name of names) live.set(name, (await median(runs, () => measure('live', name), (r) => r.ms)).ms);
  const liveRows: Row[] = names.map((name) => ({
    replica: name,
    'adds/s': (n / live.get(name)!) * 1000,
    'ms for all': live.get(name)!,
    'vs yjs': ratio(live.get('yjs')!, live.get(name)!),
  }));
  printTable(`(c) live: ${count} adds over loopback TCP after sync (median of ${runs}; goal: sets >= 5x yjs)`, liveRows);
  return [localRows, syncRows, liveRows];
}
