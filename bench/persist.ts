// Reopening a persisted replica from disk, beside a full sync of the same
// state from a peer, side by side in one run (issue goal: reopening takes at
// most the time of a full sync). A 100,000-element ORSet and a Seq of at
// least 100,000 characters typed as a human-like editing session
// (bench/editing-trace.ts, so it holds deleted stretches too), each stored
// with persist() on LevelDB, flushed and closed; then, alternated so both see
// the same machine load: a fresh replica opened on that database, and a
// fresh replica caught up from the full one over a byte stream. Opening the
// LevelDB database is timed apart: it is the same whatever the database
// holds (mostly LevelDB writing and syncing a new manifest), and a server
// pays it once for all the structures it keeps there.
// Usage: node --expose-gc dist/bench/persist.js
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { ORSet, Seq, persist } from '../lib/index.js';
import { editingTrace } from './editing-trace.js';
import { gc, median, printTable, ratio } from './harness.js';

interface Replica {
  createStream(options?: { live?: boolean }): any;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

interface Subject {
  name: string;
  /** A fresh, empty replica; `id` names it (a reopened replica is the stored one: the same id). */
  fresh(id: number): Replica;
  /** The full replica's state, as something comparable. */
  stateOf(replica: Replica): string;
  /** How big the state is, for the table. */
  size: string;
}

interface Timing {
  ms: number;
  cpuMs: number;
}

async function timed(run: () => Promise<void>): Promise<Timing> {
  gc();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** Catches `to` up from `from` through a byte stream: non-live sessions, as the CRDT bench's full sync. */
async function syncInto(from: Replica, to: Replica): Promise<void> {
  const a = from.createStream({ live: false });
  const b = to.createStream({ live: false });
  a.pipe(b).pipe(a);
  await Promise.all([once(a, 'synced'), once(b, 'synced')]);
}

export interface PersistRow {
  structure: string;
  size: string;
  /** Opening the LevelDB database itself: the same for any state, and paid once for every structure it holds. */
  open: Timing;
  /** The structure loaded from the open database (`persist()` resolving). */
  reopen: Timing;
  sync: Timing;
}

async function measure(subject: Subject, fill: (replica: Replica) => void, repeats: number): Promise<PersistRow> {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-persist-bench-'));
  try {
    const full = subject.fresh(1);
    fill(full);
    const stored = subject.fresh(2);
    const persistence = await persist(stored as never, dir);
    // The state goes to disk as the application's would: caught up from the full replica while persisted.
    await syncInto(full, stored);
    await persistence.close();
    const expected = subject.stateOf(full);
    const opens: Timing[] = [];
    const reopens: Timing[] = [];
    const syncs: Timing[] = [];
    // One of each first, uncounted (compiling), then alternated.
    for (let r = -1; r < repeats; r++) {
      const db = new ClassicLevel(dir);
      const open = await timed(() => db.open());
      let reopened!: Replica;
      let closeAgain!: () => Promise<void>;
      const reopen = await timed(async () => {
        reopened = subject.fresh(2);
        const again = await persist(reopened as never, db);
        closeAgain = () => again.close();
      });
      if (subject.stateOf(reopened) !== expected) throw new Error(`${subject.name}: the reopened replica differs from the full one`);
      await closeAgain();
      await db.close();
      let synced!: Replica;
      const sync = await timed(async () => {
        synced = subject.fresh(3);
        await syncInto(full, synced);
      });
      if (subject.stateOf(synced) !== expected) throw new Error(`${subject.name}: the synced replica differs from the full one`);
      if (r >= 0) {
        opens.push(open);
        reopens.push(reopen);
        syncs.push(sync);
      }
    }
    const med = (timings: Timing[]): Timing => ({ ms: median(timings.map((t) => t.ms)), cpuMs: median(timings.map((t) => t.cpuMs)) });
    return { structure: subject.name, size: subject.size, open: med(opens), reopen: med(reopens), sync: med(syncs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A human-like editing session long enough to leave at least `chars` characters. */
function typedDocument(chars: number): (replica: Replica) => void {
  return (replica) => {
    const seq = replica as Seq;
    // Each trace is a session of its own from an empty document, typed here at its place in the text so far.
    for (let seed = 1; seq.length < chars; seed++) {
      const base = seq.length;
      for (const edit of editingTrace(50_000, seed)) {
        if ('text' in edit) seq.insert(base + edit.index, edit.text);
        else seq.delete(base + edit.index, edit.length);
        if (seq.length >= chars) return;
      }
    }
  };
}

export async function runPersistBench(options: { elements?: number; chars?: number; repeats?: number } = {}): Promise<PersistRow[]> {
  const elements = options.elements ?? 100_000;
  const chars = options.chars ?? 100_000;
  const repeats = options.repeats ?? 5;
  const orset: Subject = {
    name: 'ORSet',
    size: `${elements.toLocaleString('en-US')} elements`,
    fresh: (id) => new ORSet({ id: `r${id}` }),
    stateOf: (r) => JSON.stringify([...(r as ORSet).values()].sort()),
  };
  const seq: Subject = {
    name: 'Seq',
    size: `${chars.toLocaleString('en-US')} characters, typed with deletes`,
    fresh: (id) => new Seq({ clientId: id }),
    stateOf: (r) => (r as Seq).toString(),
  };
  return [
    await measure(orset, (r) => {
      for (let i = 0; i < elements; i++) (r as ORSet).add(`k${i}`);
    }, repeats),
    await measure(seq, typedDocument(chars), repeats),
  ];
}

export function printPersistBench(rows: PersistRow[]): void {
  printTable(
    'persistence: a replica reopened from LevelDB beside a full sync from a peer (medians, alternated; goal: reopen at most the full sync; opening the database itself, shown apart, costs the same whatever it holds)',
    rows.map((r) => ({
      structure: r.structure,
      state: r.size,
      'LevelDB open ms': r.open.ms.toFixed(1),
      'reopen ms (CPU)': `${r.reopen.ms.toFixed(1)} (${r.reopen.cpuMs.toFixed(1)})`,
      'full sync ms (CPU)': `${r.sync.ms.toFixed(1)} (${r.sync.cpuMs.toFixed(1)})`,
      'reopen / full sync, wall (CPU)': `${ratio(r.reopen.ms, r.sync.ms)} (${ratio(r.reopen.cpuMs, r.sync.cpuMs)})`,
      'open + reopen / full sync, wall': ratio(r.open.ms + r.reopen.ms, r.sync.ms),
      goal: r.reopen.ms <= r.sync.ms ? 'met' : 'missed',
    })),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) printPersistBench(await runPersistBench());
