// The storage side of a vine replica write, measured alone: one process, one
// LevelDB database (turn-batched, as a node opens it) holding about 150
// partition stores, as a node of a five-node cluster does; many concurrent
// requests through the node's own ReplicaSide (`write` = the replica that
// makes a new version, `merge` = the other replicas of a quorum write);
// beside one MerkleStore taking the same `putRecord` calls on its own
// database. What it prints is CPU per operation (user + system, every thread
// of this process), which a loaded machine changes less than throughput.
// The roots of every store are read every 250 ms, as anti-entropy reads them;
// a merge's figure includes encoding the record it merges (about 2 µs), which
// a node receives as bytes.
//
// Run alone: node dist/bench/vine-replica.js   (each phase: VINE_REPLICA_MS
// of uncounted warm-up, default 1000, then VINE_REPLICA_ROUNDS rounds of as
// long, default 5, the median printed; VINE_REPLICA_CLIENTS concurrent
// requests, default 64)
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MerkleStore } from '../lib/index.js';
import { encode, json } from '../lib/codec/index.js';
import { pathDb } from '../lib/path-db.js';
import { batchByTurn } from '../lib/storage/turn-batching.js';
import { encodeRecord } from '../lib/merkle/record.js';
import { Partitions } from '../lib/vine/partitions.js';
import { ReplicaSide } from '../lib/vine/replica-side.js';
import type { NodeCore } from '../lib/vine/node-core.js';
import type { VineRequest } from '../lib/vine/messages.js';
import { PARTITIONS, partitionOf } from '../lib/vine/ring.js';
import { type Row, mainThreadMs, printTable } from './harness.js';

/** Keys written over and over, as bench/vine.ts does. */
const KEYS = 10_000;
/** A node of five with N = 3 holds 3/5 of the 256 partitions. */
const HELD = (p: number) => p % 5 < 3;
/** How often the partitions' roots are read, as anti-entropy does (more often than its default round of 2 s). */
const ROOT_READS_MS = 250;

export interface ReplicaBenchRow {
  what: string;
  ops: number;
  opsPerSecond: number;
  /** CPU of the whole process (all threads) per operation, µs: the median round. */
  cpuUsPerOp: number;
  /** Of it, the main thread's (the rest is LevelDB's and V8's threads). */
  mainUsPerOp: number;
  /** The lowest and highest round. */
  cpuUsRange: string;
}

interface Phase {
  ops: number;
  ms: number;
  /** CPU µs per operation of each measured round. */
  cpuUs: number[];
  /** Of which the main thread's (Linux; NaN elsewhere). */
  mainUs: number[];
}

/**
 * Runs `op` from `clients` concurrent loops: `ms` uncounted, then `rounds`
 * measured rounds of `ms` each (the median round is reported: a neighbour's
 * burst on a shared machine spoils one round, not the figure).
 */
async function drive(clients: number, ms: number, rounds: number, op: (i: number) => Promise<unknown>): Promise<Phase> {
  let next = 0;
  const run = async (until: number) => {
    let ops = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          await op(next++);
          ops++;
        }
      }),
    );
    return ops;
  };
  await run(performance.now() + ms);
  const phase: Phase = { ops: 0, ms: 0, cpuUs: [], mainUs: [] };
  for (let round = 0; round < rounds; round++) {
    const cpu = process.cpuUsage();
    const main = mainThreadMs();
    const start = performance.now();
    const ops = await run(start + ms);
    const used = process.cpuUsage(cpu);
    phase.ops += ops;
    phase.ms += performance.now() - start;
    phase.cpuUs.push((used.user + used.system) / ops);
    phase.mainUs.push(((mainThreadMs() - main) * 1000) / ops);
  }
  return phase;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function row(what: string, phase: Phase): ReplicaBenchRow {
  const sorted = [...phase.cpuUs].sort((a, b) => a - b);
  return {
    what,
    ops: phase.ops,
    opsPerSecond: Math.round((phase.ops / phase.ms) * 1000),
    cpuUsPerOp: Math.round(median(phase.cpuUs) * 10) / 10,
    mainUsPerOp: Math.round(median(phase.mainUs) * 10) / 10,
    cpuUsRange: `${sorted[0].toFixed(1)} to ${sorted[sorted.length - 1].toFixed(1)}`,
  };
}

export async function runVineReplicaBench(options: { ms?: number; rounds?: number; clients?: number } = {}): Promise<ReplicaBenchRow[]> {
  const ms = options.ms ?? Number(process.env.VINE_REPLICA_MS ?? 1000);
  const rounds = options.rounds ?? Number(process.env.VINE_REPLICA_ROUNDS ?? 5);
  const clients = options.clients ?? Number(process.env.VINE_REPLICA_CLIENTS ?? 64);
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-replica-'));
  const rows: ReplicaBenchRow[] = [];
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`).filter((key) => HELD(partitionOf(key)));
    const partitionOfKey = keys.map(partitionOf);

    // A node's storage, as VineNode.start opens it, and its replica side.
    const db = batchByTurn(await pathDb(join(root, 'node'), { keyEncoding: 'view', valueEncoding: 'view' }));
    await db.open();
    const meta = db.sublevel<string, string>('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    const watched = new Set<string>();
    const partitions = new Partitions<unknown>({ db, meta, id: 'node-a', depth: 10, valueEncoding: json, onChange: (event) => void (watched.has(event.key) && event.values) });
    await partitions.load();
    let held = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      if (!HELD(p)) continue;
      await partitions.store(p);
      held++;
    }
    const core = { isClosed: false, partitions, maxValueBytes: 1 << 20, valueEncoding: json, id: 'node-a', membership: undefined };
    const side = new ReplicaSide<unknown>(core as unknown as NodeCore<unknown>, undefined as never, undefined as never, undefined);
    const value = (i: number) => encode(json, i);
    // Anti-entropy reads every partition's root now and then (each peer every 2 s by default): read them all every 250 ms, so the tree's work is counted as a node pays it.
    const rootReader = setInterval(() => {
      for (let p = 0; p < PARTITIONS; p++) if (HELD(p)) void partitions.rootBytes(p);
    }, ROOT_READS_MS);

    const writes = await drive(clients, ms, rounds, (i) => {
      const k = i % keys.length;
      const request: VineRequest = { type: 'write', id: i, partition: partitionOfKey[k], key: keys[k], value: value(i), context: undefined };
      return side.handle(request, 'node-a');
    });
    rows.push(row(`replica write (${held} partition stores, one db)`, writes));

    // Merges of another replica's writes: each key's record as its writer holds it, one write further every time.
    const counters = new Uint32Array(keys.length);
    const merges = await drive(clients, ms, rounds, (i) => {
      const k = i % keys.length;
      const n = ++counters[k];
      const record = encodeRecord({ context: [{ id: 'node-b', n }], siblings: [{ id: 'node-b', n, ts: 1_000_000 + i, value: value(i) }] });
      const request: VineRequest = { type: 'merge', id: i, partition: partitionOfKey[k], key: keys[k], record, hint: undefined };
      return side.handle(request, 'node-b');
    });
    rows.push(row(`replica merge (${held} partition stores, one db)`, merges));
    clearInterval(rootReader);
    await partitions.close();
    await db.close();

    // The anchor: one store on its own database, the same keys and values.
    const store = new MerkleStore<unknown>({ path: join(root, 'single'), id: 'single' });
    await store.open();
    const singleRoot = setInterval(() => store.rootHash, ROOT_READS_MS);
    const single = await drive(clients, ms, rounds, (i) => store.putRecord(keys[i % keys.length], i));
    clearInterval(singleRoot);
    rows.push(row('one MerkleStore putRecord', single));
    await store.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

export function formatReplicaRows(rows: ReplicaBenchRow[]): Row[] {
  const anchor = rows[rows.length - 1].cpuUsPerOp;
  return rows.map((r) => ({ operation: r.what, ops: r.ops, 'ops/s': r.opsPerSecond, 'CPU µs/op': r.cpuUsPerOp, 'of it main thread': r.mainUsPerOp, 'rounds µs/op': r.cpuUsRange, 'vs one store': `${(r.cpuUsPerOp / anchor).toFixed(2)}x` }));
}

/** Runs the bench and prints its table with the machine's load. */
export async function printVineReplicaBench(): Promise<void> {
  const load = loadavg().map((l) => l.toFixed(2)).join(', ');
  const rows = await runVineReplicaBench();
  printTable(`vine replica storage, ${availableParallelism()} cores, load average ${load} at the start`, formatReplicaRows(rows));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await printVineReplicaBench();
