// Vine throughput: five `tendril vine` processes on loopback, 64 concurrent
// clients, quorum writes (N = 3, W = 2) and reads (R = 1, and R = 2), with
// p50/p99 latency; beside one MerkleStore on LevelDB taking the same writes
// and reads directly in this process, so the cost of the cluster shows as a
// ratio. Sized for a 2-core machine: a few seconds per phase.
//
// Run alone: node dist/bench/vine.js   (VINE_BENCH_MS per phase, default 3000;
// VINE_BENCH_PROFILE=DIR writes a CPU profile of the first node into DIR)
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MerkleStore, RemoteVine } from '../lib/index.js';
import { type Row, printTable, ratio } from './harness.js';

const tendril = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tendril.js');
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

export async function runVineBench(options: { phaseMs?: number; basePort?: number } = {}): Promise<VineBenchResult> {
  const phaseMs = options.phaseMs ?? 3000;
  const base = options.basePort ?? 7500;
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-bench-'));
  const children: ChildProcess[] = [];
  const remotes: RemoteVine<number>[] = [];
  try {
    await Promise.all(
      Array.from({ length: NODES }, (_, i) => {
        const args = ['vine', '--port', String(base + 2 * i), '--data', join(root, `node${i}`), '--gossip-ms', '250'];
        if (i > 0) args.push('--join', `127.0.0.1:${base}`);
        const profile = i === 0 && process.env.VINE_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VINE_BENCH_PROFILE}`] : [];
        const child = spawn(process.execPath, [...profile, tendril, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        return new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('vine ') && resolve()));
      }),
    );
    for (let c = 0; c < CLIENTS; c++) remotes.push(new RemoteVine<number>({ host: '127.0.0.1', port: base + 2 * (c % NODES) }, { timeout: 5000 }));
    for (let i = 0; i < NODES; i++) while (!(await remotes[i].put(`warm-${i}`, i, { w: 3 }).then(() => true, () => false))) await sleep(200);
    await sleep(1000);
    const keys = 10_000;
    const measured = async (op: (client: number, i: number) => Promise<unknown>): Promise<Phase> => {
      const before = cpuMs(children);
      const phase = await drive(CLIENTS, phaseMs, op);
      const after = cpuMs(children);
      return { ...phase, nodeCpu: (after.nodes - before.nodes) / phase.ops, clientCpu: (after.clients - before.clients) / phase.ops };
    };
    const writes = await measured((c, i) => remotes[c].put(`key-${i % keys}`, i, { w: 2 }));
    const reads1 = await measured((c, i) => remotes[c].get(`key-${i % Math.min(keys, writes.ops)}`, { r: 1 }));
    const reads2 = await measured((c, i) => remotes[c].get(`key-${i % Math.min(keys, writes.ops)}`, { r: 2 }));

    const store = new MerkleStore<number>({ path: join(root, 'single') });
    await store.open();
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
    printTable(`vine: ${NODES} processes, ${CLIENTS} clients, ${phaseMs / 1000} s per phase; ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`, rows);
    return { rows };
  } finally {
    for (const r of remotes) r.close();
    // A profiled node must stop by itself to write its profile; the rest are killed.
    if (process.env.VINE_BENCH_PROFILE && children[0]) {
      children[0].kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 5000).unref() && children[0].once('exit', resolve));
    }
    for (const child of children) child.kill('SIGKILL');
    await sleep(200);
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runVineBench({ phaseMs: Number(process.env.VINE_BENCH_MS ?? 3000) });
}
