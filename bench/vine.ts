// Vine throughput: five `tendril vine` processes on loopback, 64 concurrent
// clients, quorum writes (N = 3, W = 2) and reads (R = 1, and R = 2), with
// p50/p99 latency; beside one MerkleStore on LevelDB taking the same writes
// and reads directly in this process, so the cost of the cluster shows as a
// ratio. Sized for a 2-core machine: a few seconds per phase.
//
// Before the measured phases, the cluster gets one write to every partition
// (its stores open), then one to each of the 10,000 keys the phases use (as
// YCSB loads its records before it runs them: the measured writes update
// keys that exist; the single MerkleStore is loaded alike), and
// VINE_BENCH_WARM_MS (default twice the phase) of writes and reads, not
// counted (the processes' code is compiled).
// VINE_BENCH_THREADS=1 prints the nodes' CPU per operation on their main
// threads and on their other threads (thread pool, LevelDB, V8).
//
// The 64 clients each have their own RemoteVine, routed to a replica of each key;
// VINE_BENCH_REMOTES=k shares k RemoteVines among them (1: one client object
// for the process, whose requests of a turn to a node share a frame),
// VINE_BENCH_ROUTE=0 sends every request to the client's one node, and
// VINE_BENCH_PORT moves the nodes' ports (default 7500), and
// VINE_BENCH_GOSSIP_MS sets the nodes' gossip interval (default: the node's
// own, 1 s; at 250 ms an idle cluster's gossip alone takes 0.15 of a core,
// docs/vine.md, "Seventh round").
//
// Run alone: node dist/bench/vine.js   (VINE_BENCH_MS per phase, default 3000;
// VINE_BENCH_PROFILE=DIR writes a CPU profile of every node, of one phase only
// (VINE_BENCH_PROFILE_PHASE: write, read1 or read2; default write), into DIR)
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MerkleStore, PARTITIONS, RemoteVine } from '../lib/index.js';
import { partitionOf } from '../lib/vine/ring.js';
import { type Row, printTable, ratio } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const tendril = join(here, '..', 'bin', 'tendril.js');
const profileDir = process.env.VINE_BENCH_PROFILE;
const profilePhase = process.env.VINE_BENCH_PROFILE_PHASE ?? 'write';
/** Extra arguments for the node processes' `node` (VINE_BENCH_NODE_ARGS, split on spaces), e.g. V8 flags. */
const nodeArgs = (process.env.VINE_BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg.length > 0);
const NODES = 5;
const CLIENTS = 64;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * CPU time (user + system, ms) the node processes and this process (the
 * clients) have used so far. On a shared machine the throughput says how
 * big a slice the cluster got; CPU per operation says what an operation
 * costs. Linux only (from /proc); elsewhere the nodes count as 0.
 */
function cpuMs(children: ChildProcess[]): { nodes: number; clients: number } {
  let nodes = 0;
  for (const child of children) {
    try {
      // Fields 14 and 15 after the command name: utime and stime in clock ticks (100 per second on Linux).
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      nodes += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // not Linux, or the process is gone
    }
  }
  const own = process.cpuUsage();
  return { nodes, clients: (own.user + own.system) / 1000 };
}

/**
 * CPU time (ms) of the node processes' main threads, and of their other threads: VINE_BENCH_THREADS=1.
 * Measured by their stacks (docs/vine.md, "Throughput, fourth round"), the other threads are nearly all
 * V8's platform workers (garbage collection, and the optimising compiler while code is still being
 * compiled); libuv's thread pool, where LevelDB's reads and writes run, is a few per cent.
 */
function cpuByThread(children: ChildProcess[]): Map<string, number> {
  const byName = new Map<string, number>();
  for (const child of children) {
    try {
      for (const task of readdirSync(`/proc/${child.pid}/task`)) {
        // Every thread is called `node`: the main thread is the one whose id is the process's.
        const name = task === String(child.pid) ? 'main' : 'other threads';
        const fields = readFileSync(`/proc/${child.pid}/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
        byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
      }
    } catch {
      // not Linux, or the process or thread is gone
    }
  }
  return byName;
}

interface Phase {
  ops: number;
  /** CPU ms per operation: the node processes', and the clients' (this process). */
  nodeCpu?: number;
  clientCpu?: number;
  failed: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `op` from `clients` concurrent loops for `ms`; counts successes and latency percentiles. */
async function drive(clients: number, ms: number, op: (client: number, i: number) => Promise<unknown>): Promise<Phase> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const end = Date.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (Date.now() < end) {
        const i = next++;
        const t0 = performance.now();
        try {
          await op(client, i);
          latencies.push(performance.now() - t0);
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { ops: latencies.length, failed, perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
}

export interface VineBenchResult {
  rows: Row[];
}

export async function runVineBench(options: { phaseMs?: number; warmMs?: number; basePort?: number; remotes?: number; route?: boolean; gossipMs?: number } = {}): Promise<VineBenchResult> {
  const phaseMs = options.phaseMs ?? 3000;
  const remoteCount = Math.max(1, Math.min(CLIENTS, options.remotes ?? CLIENTS));
  const route = options.route ?? true;
  const warmMs = options.warmMs ?? 2 * phaseMs;
  const base = options.basePort ?? 7500;
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-bench-'));
  const children: ChildProcess[] = [];
  const remotes: RemoteVine<number>[] = [];
  try {
    await Promise.all(
      Array.from({ length: NODES }, (_, i) => {
        const args = ['vine', '--port', String(base + 2 * i), '--data', join(root, `node${i}`)];
        if (options.gossipMs !== undefined) args.push('--gossip-ms', String(options.gossipMs));
        if (i > 0) args.push('--join', `127.0.0.1:${base}`);
        const profile = profileDir ? ['--import', pathToFileURL(join(here, 'profile-hook.js')).href] : [];
        const env = profileDir ? { ...process.env, PROFILE_HOOK_DIR: profileDir } : process.env;
        const child = spawn(process.execPath, [...profile, ...nodeArgs, tendril, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
        children.push(child);
        return new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('vine ') && resolve()));
      }),
    );
    // Every node up and in the cluster: each one coordinates a W = 3 write.
    for (let i = 0; i < NODES; i++) {
      const probe = new RemoteVine<number>({ host: '127.0.0.1', port: base + 2 * i }, { timeout: 5000, route: false });
      while (!(await probe.put(`warm-${i}`, i, { w: 3 }).then(() => true, () => false))) await sleep(200);
      probe.close();
    }
    for (let c = 0; c < remoteCount; c++) remotes.push(new RemoteVine<number>({ host: '127.0.0.1', port: base + 2 * (c % NODES) }, { timeout: 5000, route }));
    const remoteOf = (client: number) => remotes[client % remoteCount];
    const keys = 10_000;
    // A running cluster has its partition stores open: one write (W = 3) to every partition first, so
    // opening 768 stores (256 partitions on 3 replicas) is not counted as the cost of the measured writes.
    const firstKeyOf = new Map<number, string>();
    for (let i = 0; firstKeyOf.size < PARTITIONS && i < keys; i++) if (!firstKeyOf.has(partitionOf(`key-${i}`))) firstKeyOf.set(partitionOf(`key-${i}`), `key-${i}`);
    const warmKeys = [...firstKeyOf.values()];
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      for (let k = c; k < warmKeys.length; k += CLIENTS) await remoteOf(c).put(warmKeys[k], -1, { w: 3 }).catch(() => undefined);
    }));
    // Then every key once, as YCSB loads its records before it runs: the measured writes update keys that
    // exist, whatever the warm-up reached (a new key's write also reads the key first, to find it has none).
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      for (let k = c; k < keys; k += CLIENTS) await remoteOf(c).put(`key-${k}`, -1, { w: 2 }).catch(() => undefined);
    }));
    await sleep(1000);
    // The profile hook in each node starts a profile on the first SIGUSR2 and writes it on the second.
    const signalNodes = () => {
      for (const child of children) child.kill('SIGUSR2');
    };
    const measured = async (name: string, op: (client: number, i: number) => Promise<unknown>): Promise<Phase> => {
      const profiled = profileDir !== undefined && name === profilePhase;
      if (profiled) signalNodes();
      if (process.env.VINE_BENCH_THREADS) console.log(`${name}: starts; node pids ${children.map((c) => c.pid).join(' ')}`);
      const before = cpuMs(children);
      const threadsBefore = cpuByThread(children);
      const phase = await drive(CLIENTS, phaseMs, op);
      const after = cpuMs(children);
      if (process.env.VINE_BENCH_THREADS) {
        const parts = [...cpuByThread(children)].map(([thread, ms]) => `${thread} ${((ms - (threadsBefore.get(thread) ?? 0)) / phase.ops).toFixed(3)}`);
        console.log(`${name}: node CPU ms/op by thread: ${parts.join(', ')}`);
      }
      if (profiled) {
        signalNodes();
        await sleep(1000);
      }
      return { ...phase, nodeCpu: (after.nodes - before.nodes) / phase.ops, clientCpu: (after.clients - before.clients) / phase.ops };
    };
    // Fresh processes spend their first seconds compiling (a fifth of the nodes' CPU went to the optimising compiler
    // in a first phase of 3 s): writes and reads for `warmMs` first, not counted, so the cluster is measured as it runs.
    if (warmMs > 0) {
      await drive(CLIENTS, warmMs / 2, (c, i) => remoteOf(c).put(`key-${i % keys}`, i, { w: 2 }));
      await drive(CLIENTS, warmMs / 2, (c, i) => remoteOf(c).get(`key-${i % keys}`, { r: 1 }));
    }
    const writes = await measured('write', (c, i) => remoteOf(c).put(`key-${i % keys}`, i, { w: 2 }));
    const reads1 = await measured('read1', (c, i) => remoteOf(c).get(`key-${i % Math.min(keys, writes.ops)}`, { r: 1 }));
    const reads2 = await measured('read2', (c, i) => remoteOf(c).get(`key-${i % Math.min(keys, writes.ops)}`, { r: 2 }));

    const store = new MerkleStore<number>({ path: join(root, 'single') });
    await store.open();
    // Loaded as the cluster was: its measured writes update keys that exist too.
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      for (let k = c; k < keys; k += CLIENTS) await store.put(`key-${k}`, -1);
    }));
    const inProcess = async (op: (client: number, i: number) => Promise<unknown>): Promise<Phase> => {
      const before = cpuMs([]).clients;
      const phase = await drive(CLIENTS, phaseMs, op);
      return { ...phase, clientCpu: (cpuMs([]).clients - before) / phase.ops };
    };
    const single = await inProcess((_, i) => store.put(`key-${i % keys}`, i));
    const singleReads = await inProcess((_, i) => store.get(`key-${i % keys}`));
    await store.close();

    const row = (what: string, p: Phase, anchor: Phase): Row => ({
      operation: what,
      'ops/s': p.perSecond,
      'p50 ms': p.p50,
      'p99 ms': p.p99,
      failed: p.failed,
      'node CPU ms/op': p.nodeCpu ?? NaN,
      'client CPU ms/op': p.clientCpu ?? NaN,
      'one MerkleStore ops/s': anchor.perSecond,
      'its CPU ms/op': anchor.clientCpu ?? NaN,
      'cluster / store': ratio(p.perSecond, anchor.perSecond),
    });
    const rows = [row('write N3 W2', writes, single), row('read R1', reads1, singleReads), row('read R2', reads2, singleReads)];
    const over = remoteCount === CLIENTS ? 'each its own RemoteVine' : `over ${remoteCount} RemoteVine${remoteCount > 1 ? 's' : ''}`;
    printTable(`vine: ${NODES} processes, ${CLIENTS} clients ${over}${route ? ' (routed to a replica of the key)' : ' (not routed)'}, ${phaseMs / 1000} s per phase after ${warmMs / 1000} s of warm-up; ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`, rows);
    return { rows };
  } finally {
    for (const r of remotes) r.close();
    for (const child of children) child.kill('SIGKILL');
    await sleep(200);
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runVineBench({
    phaseMs: Number(process.env.VINE_BENCH_MS ?? 3000),
    warmMs: process.env.VINE_BENCH_WARM_MS === undefined ? undefined : Number(process.env.VINE_BENCH_WARM_MS),
    remotes: process.env.VINE_BENCH_REMOTES === undefined ? undefined : Number(process.env.VINE_BENCH_REMOTES),
    route: process.env.VINE_BENCH_ROUTE !== '0',
    basePort: process.env.VINE_BENCH_PORT === undefined ? undefined : Number(process.env.VINE_BENCH_PORT),
    gossipMs: process.env.VINE_BENCH_GOSSIP_MS === undefined ? undefined : Number(process.env.VINE_BENCH_GOSSIP_MS),
  });
}
