// The cost of one routed quorum write (N = 3, W = 2), counted rather than
// timed: five VineNodes and 64 RemoteVine clients (each routed to a replica
// of its key, as bench/vine.ts runs them) in ONE process, on real loopback
// sockets and LevelDB, with a membership the bench controls and anti-entropy
// paused, so what is measured is the write path alone and the figures
// depend little on what else the machine runs. Per write, for the whole
// path (client, coordinator, replicas; all five nodes and the clients):
//
// - CPU (user + system) of the process, and of its main thread;
// - bytes V8 allocated, and bytes that survived into the old generation
//   (read from V8's own GC trace, `--trace-gc-nvp`, so the measured part
//   runs in a child process started with that flag);
// - garbage collections and their pause;
// - async resources made: promises, timers, immediates, socket writes...
//   (an async_hooks count over a separate, shorter window, since the hooks
//   themselves slow the process).
//
// Run alone: node dist/bench/vine-write-path.js   (VINE_PATH_MS measured,
// default 3000, after VINE_PATH_WARM_MS of uncounted writes, default 4000)
import { createHook } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PARTITIONS, RemoteVine, VineNode } from '../lib/index.js';
import { LocalCluster, partitionOf } from '../lib/core.js';
import { type Row, mainThreadMs, printTable } from './harness.js';

const NODES = 5;
const CLIENTS = 64;
const KEYS = 10_000;
const MARK = 'vine-write-path:';

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function drive(ms: number, op: (client: number, i: number) => Promise<unknown>): Promise<{ ops: number; failed: number; p99: number }> {
  let next = 0;
  let failed = 0;
  const latencies: number[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      while (Date.now() < end) {
        const t0 = performance.now();
        try {
          await op(client, next++);
          latencies.push(performance.now() - t0);
        } catch {
          failed++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { ops: latencies.length, failed, p99: latencies[Math.floor(0.99 * latencies.length)] ?? NaN };
}

/**
 * VINE_PATH_PROFILE=FILE writes a CPU profile of the measured window (the
 * figures are then of a profiled process), VINE_PATH_HEAP=FILE a sampling
 * heap profile (with objects the GC collected, where V8 supports it).
 */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const cpuFile = process.env.VINE_PATH_PROFILE;
  const heapFile = process.env.VINE_PATH_HEAP;
  if (!cpuFile && !heapFile) return undefined;
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  if (cpuFile) {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
  }
  if (heapFile) {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  return async () => {
    if (cpuFile) writeFileSync(cpuFile, JSON.stringify((await post('Profiler.stop')).profile));
    if (heapFile) writeFileSync(heapFile, JSON.stringify((await post('HeapProfiler.stopSampling')).profile));
    session.disconnect();
  };
}

/** Switches `perf stat` counting on or off (VINE_PATH_PERF=1: the parent starts the child under `perf stat --control`). */
function perfControl(command: 'enable' | 'disable'): void {
  const fifo = process.env.VINE_PATH_PERF_CTL;
  if (fifo) writeFileSync(fifo, `${command}\n`);
}

/** The measured part, in the child started with --trace-gc-nvp: prints marker lines around the window whose GC lines count. */
async function child(measureMs: number, warmMs: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-path-'));
  const local = new LocalCluster();
  const nodes: VineNode<number>[] = [];
  const remotes: RemoteVine<number>[] = [];
  try {
    for (let i = 0; i < NODES; i++) {
      const node = new VineNode<number>({ dataDir: join(root, `n${i}`), antiEntropyMs: 3_600_000, membership: (self) => local.join(self) });
      await node.start();
      nodes.push(node);
    }
    for (let c = 0; c < CLIENTS; c++) remotes.push(new RemoteVine<number>(nodes[c % NODES].address!, { timeout: 5000 }));
    // Every partition's stores open first (one W = 3 write each), and the clients have the ring.
    const firstKeyOf = new Map<number, string>();
    for (let i = 0; firstKeyOf.size < PARTITIONS && i < KEYS; i++) if (!firstKeyOf.has(partitionOf(`key-${i}`))) firstKeyOf.set(partitionOf(`key-${i}`), `key-${i}`);
    const warmKeys = [...firstKeyOf.values()];
    await Promise.all(remotes.map(async (remote, c) => {
      for (let k = c; k < warmKeys.length; k += CLIENTS) await remote.put(warmKeys[k], -1, { w: 3 });
    }));
    const write = (c: number, i: number) => remotes[c].put(`key-${i % KEYS}`, i, { w: 2 });
    await drive(warmMs, write);

    // Async resources per write, by type (the hooks slow everything: a window of its own, not timed).
    const made = new Map<string, number>();
    const hook = createHook({ init: (_id, type) => made.set(type, (made.get(type) ?? 0) + 1) });
    hook.enable();
    const counted = await drive(Math.min(1000, measureMs), write);
    hook.disable();
    const resources = Object.fromEntries([...made].sort((a, b) => b[1] - a[1]).map(([type, n]) => [type, n / counted.ops]));

    const profiler = await startProfile();
    console.log(`${MARK}start`);
    perfControl('enable');
    const cpu0 = cpuMs();
    const main0 = mainThreadMs();
    const t0 = performance.now();
    const phase = await drive(measureMs, write);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs() - cpu0;
    const main = mainThreadMs() - main0;
    perfControl('disable');
    console.log(`${MARK}end`);
    await profiler?.();
    console.log(`${MARK}${JSON.stringify({ ops: phase.ops, failed: phase.failed, perSecond: phase.ops / seconds, p99: phase.p99, cpuMsPerOp: cpu / phase.ops, mainMsPerOp: main / phase.ops, resources })}`);
  } finally {
    for (const remote of remotes) remote.close();
    for (const node of nodes) await node.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

export interface WritePathResult {
  ops: number;
  perSecond: number;
  p99: number;
  cpuMsPerOp: number;
  mainMsPerOp: number;
  allocatedKbPerOp: number;
  promotedKbPerOp: number;
  gcPerKop: number;
  gcPauseMsPerOp: number;
  resources: Record<string, number>;
  /** Per write, from `perf stat` (VINE_PATH_PERF=1): instructions, cycles, task-clock (ms), context-switches. */
  counters: Record<string, number>;
}

export async function runWritePathBench(measureMs = 3000, warmMs = 4000): Promise<WritePathResult> {
  const script = fileURLToPath(import.meta.url);
  const args = ['--trace-gc-nvp', script, '--child', String(measureMs), String(warmMs)];
  // VINE_PATH_PERF=1: instructions and cycles of the measured window too (Linux `perf stat`, counted only between the
  // child's marks), which depend far less than CPU time on what else the machine runs.
  // VINE_PATH_PERF_EVENTS: more events to count, e.g. `syscalls:sys_enter_write,syscalls:sys_enter_futex` (as root).
  const extraEvents = (process.env.VINE_PATH_PERF_EVENTS ?? '').split(',').filter((event) => event.length > 0);
  const perfDir = process.env.VINE_PATH_PERF === '1' ? mkdtempSync(join(tmpdir(), 'tendril-vine-perf-')) : undefined;
  let proc;
  if (perfDir) {
    const fifo = join(perfDir, 'ctl');
    execFileSync('mkfifo', [fifo]);
    const perfArgs = ['stat', '-x', ',', '-o', join(perfDir, 'stat'), '-e', ['instructions,cycles,task-clock,context-switches', ...extraEvents].join(','), '-D', '-1', '--control', `fifo:${fifo}`, '--', process.execPath, ...args];
    proc = spawn('perf', perfArgs, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, VINE_PATH_PERF_CTL: fifo } });
  } else proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let inWindow = false;
  let allocated = 0;
  let promoted = 0;
  let gcs = 0;
  let pause = 0;
  let result: Omit<WritePathResult, 'counters' | 'allocatedKbPerOp' | 'promotedKbPerOp' | 'gcPerKop' | 'gcPauseMsPerOp'> | undefined;
  const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([0-9.]+)`).exec(line)?.[1] ?? 0);
  for await (const line of createInterface({ input: proc.stdout! })) {
    if (line === `${MARK}start`) inWindow = true;
    else if (line === `${MARK}end`) inWindow = false;
    else if (line.startsWith(MARK)) result = JSON.parse(line.slice(MARK.length));
    else if (inWindow && line.includes(' gc=')) {
      gcs++;
      pause += field(line, 'pause');
      allocated += field(line, 'allocated');
      promoted += field(line, 'promoted');
    }
  }
  if (!result) throw new Error('the measured child printed no result');
  let counters: Record<string, number> = {};
  if (perfDir) {
    await new Promise((resolve) => (proc.exitCode !== null ? resolve(undefined) : proc.once('exit', resolve)));
    // perf stat -x, lines: value,unit,event,...
    for (const line of readFileSync(join(perfDir, 'stat'), 'utf8').split('\n')) {
      const [value, , event] = line.split(',');
      if (event && Number.isFinite(Number(value))) counters[event.replace(/:u$/, '')] = Number(value) / result.ops;
    }
    rmSync(perfDir, { recursive: true, force: true });
  }
  return {
    counters, ...result, allocatedKbPerOp: allocated / 1024 / result.ops, promotedKbPerOp: promoted / 1024 / result.ops, gcPerKop: (1000 * gcs) / result.ops, gcPauseMsPerOp: pause / result.ops };
}

if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]), Number(process.argv[4]));
} else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runWritePathBench(Number(process.env.VINE_PATH_MS ?? 3000), Number(process.env.VINE_PATH_WARM_MS ?? 4000));
  const rows: Row[] = [
    {
      'writes/s': r.perSecond,
      'p99 ms': r.p99,
      'CPU ms/write': r.cpuMsPerOp,
      'main thread': r.mainMsPerOp,
      'allocated KiB/write': r.allocatedKbPerOp,
      'promoted KiB/write': r.promotedKbPerOp,
      'GCs per 1,000 writes': r.gcPerKop,
      'GC pause ms/write': r.gcPauseMsPerOp,
    },
  ];
  printTable(`one routed quorum write (N3 W2), whole path: ${NODES} nodes and ${CLIENTS} clients in one process; ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`, rows);
  if (Object.keys(r.counters).length > 0) console.log(`perf stat per write: ${Object.entries(r.counters).map(([event, n]) => `${event} ${n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3)}`).join(', ')}`);
  console.log(`async resources per write: ${Object.entries(r.resources).map(([type, n]) => `${type} ${n.toFixed(2)}`).join(', ')}`);
}
