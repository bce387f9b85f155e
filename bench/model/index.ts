// The Model benchmark: tendril against scuttlebutt, yjs and automerge, side
// by side in one run, each measurement in a fresh process, best of `runs`
// rounds.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Row, inChild, printTable, ratio } from '../harness.js';
import type { SyncResult } from './contestants.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'child.js');

/**
 * The best of `runs` measurements of each contestant, taken in rounds (one
 * of each per round), so that a change in the machine's load during the run
 * falls on every contestant alike instead of on whichever ran then.
 */
async function bestOfRounds<T>(runs: number, names: string[], measure: (name: string) => Promise<T>, key: (r: T) => number): Promise<Map<string, T>> {
  const winners = new Map<string, T>();
  for (let i = 0; i < runs; i++) {
    for (const name of names) {
      const result = await measure(name);
      const winner = winners.get(name);
      if (winner === undefined || key(result) < key(winner)) winners.set(name, result);
    }
  }
  return winners;
}

export async function runModelBench(options: { keys?: number; stallKeys?: number; runs?: number } = {}): Promise<Row[][]> {
  const { keys = 100_000, stallKeys = 1_000_000, runs = 3 } = options;
  const names = ['tendril', 'scuttlebutt', 'yjs', 'automerge'];

  const sync = await bestOfRounds(runs, names, (name) => inChild<SyncResult>(child, ['full-sync', name, String(keys)]), (r) => r.ms);
  const ours = sync.get('tendril')!;
  const keysPerSecond = (r: SyncResult) => (r.keys / r.ms) * 1000;
  const syncRows: Row[] = names.map((name) => {
    const r = sync.get(name)!;
    return {
      replica: name,
      'keys synced': r.keys,
      'keys/s': keysPerSecond(r),
      'tendril speed-up': ratio(keysPerSecond(ours), keysPerSecond(r)),
      'CPU ms': r.cpuMs,
      'CPU speed-up': ratio(r.cpuMs, ours.cpuMs),
      'wire B/key': r.wireBytes / r.keys,
      'peak heap B/key': r.heapBytes / r.keys,
      'tendril heap ratio': ratio(ours.heapBytes, r.heapBytes),
      'peak heap+buffers B/key': r.totalBytes / r.keys,
      'tendril heap+buffers ratio': ratio(ours.totalBytes, r.totalBytes),
    };
  });
  printTable(`(a) full sync of ${keys.toLocaleString('en-US')} keys into a fresh replica (best of ${runs} rounds)`, syncRows);

  const liveNames = ['tendril', 'scuttlebutt', 'yjs'];
  const live = await bestOfRounds(runs, liveNames, (name) => inChild<{ ms: number; cpuMs: number }>(child, ['live', name, String(keys)]), (r) => r.ms);
  const oursLive = live.get('tendril')!;
  const liveRows: Row[] = [...live].map(([name, { ms, cpuMs }]) => ({
    replica: name,
    'updates/s': (keys / ms) * 1000,
    'ms for all': ms,
    'tendril speed-up': ratio(ms, oursLive.ms),
    'CPU ms': cpuMs,
    'CPU speed-up': ratio(cpuMs, oursLive.cpuMs),
  }));
  printTable(`(b) live: ${keys.toLocaleString('en-US')} sets over loopback TCP after sync (best of ${runs} rounds)`, liveRows);

  const stallRows: Row[] = [];
  for (const name of ['tendril', 'scuttlebutt']) {
    const r = await inChild<SyncResult & { maxStallMs: number; loopTurns: number }>(child, ['stall', name, String(stallKeys)]);
    stallRows.push({ replica: name, keys: r.keys, 'longest stall ms': r.maxStallMs, 'loop samples': r.loopTurns, 'sync s': r.ms / 1000 });
  }
  printTable(`(c) longest event-loop stall during a ${stallKeys.toLocaleString('en-US')}-key full sync`, stallRows);
  return [syncRows, liveRows, stallRows];
}
