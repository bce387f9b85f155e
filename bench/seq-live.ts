// Live Seq updates applied by a remote replica, with and without a 'change'
// listener, side by side in one run: the cost of telling listeners what
// changed (the Quill-style delta) next to the cost of applying the update.
//
// A writer types a human-like editing session (bench/editing-trace.ts) and
// keeps each update; a fresh receiver then applies them one by one. The
// document grows to tens of thousands of elements, so a change event that
// walked the whole document would show here. Times are medians of five
// alternated repetitions; the goal is on wall time, and the CPU time beside
// it (the process's, garbage collection included) shows how much of a
// difference is the machine's load.
// Usage: node --expose-gc dist/bench/seq-live.js [edits]
import { pathToFileURL } from 'node:url';
import { Seq } from '../lib/index.js';
import { editingTrace } from './editing-trace.js';
import { gc, median } from './harness.js';

export interface SeqLiveRow {
  receiver: string;
  updates: number;
  /** Median of the repetitions, wall time. */
  ms: number;
  /** Median of the repetitions, CPU time of the process (garbage collection included). */
  cpuMs: number;
  updatesPerSecond: number;
  finalLength: number;
}

/** The updates of one editing session, in the order the writer made them. */
function writerUpdates(edits: number, seed: number): { updates: Buffer[]; text: string } {
  const writer = new Seq({ clientId: 0x9e3779b9 });
  const updates: Buffer[] = [];
  writer.on('update', (update: Buffer) => updates.push(update));
  for (const edit of editingTrace(edits, seed)) {
    if ('text' in edit) writer.insert(edit.index, edit.text);
    else writer.delete(edit.index, edit.length);
  }
  return { updates, text: writer.toString() };
}

export function runSeqLiveBench(options: { edits?: number; seed?: number; repeats?: number } = {}): SeqLiveRow[] {
  const edits = options.edits ?? 100_000;
  const { updates, text } = writerUpdates(edits, options.seed ?? 1);
  const receivers: Array<{ name: string; listen: (seq: Seq) => void }> = [
    { name: 'no listener', listen: () => {} },
    {
      name: "with a 'change' listener",
      listen: (seq) =>
        seq.on('change', (change: { delta: unknown[] }) => {
          if (change.delta.length === 0) throw new Error('an empty change');
        }),
    },
  ];
  const times = new Map<string, number[]>(receivers.map((r) => [r.name, []]));
  const cpuTimes = new Map<string, number[]>(receivers.map((r) => [r.name, []]));
  // Alternated, so both see the same machine load; five times, so the medians hold under a loaded machine.
  for (let r = 0; r < (options.repeats ?? 5); r++) {
    for (const receiver of receivers) {
      gc();
      const seq = new Seq({ clientId: 7 });
      receiver.listen(seq);
      const cpuStarted = process.cpuUsage();
      const started = performance.now();
      for (const update of updates) seq.applyUpdate(update);
      times.get(receiver.name)!.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.get(receiver.name)!.push((cpu.user + cpu.system) / 1000);
      if (seq.toString() !== text) throw new Error(`${receiver.name}: the receiver disagrees with the writer`);
    }
  }
  return receivers.map(({ name }) => {
    const ms = median(times.get(name)!);
    return { receiver: name, updates: updates.length, ms, cpuMs: median(cpuTimes.get(name)!), updatesPerSecond: (updates.length / ms) * 1000, finalLength: text.length };
  });
}

export function formatSeqLive(rows: SeqLiveRow[]): string {
  const lines = ['| receiver | updates | document length at the end | time (ms) | CPU time (ms) | updates/s |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.receiver} | ${r.updates} | ${r.finalLength} | ${r.ms.toFixed(1)} | ${r.cpuMs.toFixed(1)} | ${Math.round(r.updatesPerSecond).toLocaleString('en-US')} |`);
  const [without, withListener] = rows;
  lines.push(`| ratio without / with listener | | | | ${(withListener.cpuMs / without.cpuMs).toFixed(2)}x by CPU time | ${(without.updatesPerSecond / withListener.updatesPerSecond).toFixed(2)}x (goal: at most 1.5x) |`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const edits = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(formatSeqLive(runSeqLiveBench({ edits })));
}
