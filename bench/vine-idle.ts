// Vine idle: what a five-node cluster that nobody uses costs, in CPU.
// Five `tendril vine` processes on loopback, started as the throughput bench
// starts them (`--gossip-ms 250`) and with the defaults (gossip every second);
// after a settle, the CPU time (user + system, from /proc, so other load on
// the machine does not count) each uses over a window, as cores. Linux only.
//
// Run alone: node dist/bench/vine-idle.js   (VINE_IDLE_SETTLE_MS, default
// 10,000; VINE_IDLE_MS, the measured window, default 10,000; VINE_BENCH_PORT,
// default 7600)
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Row, printTable } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const tendril = join(here, '..', 'bin', 'tendril.js');
const NODES = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system, ms) a process has used so far: fields 14 and 15 of its stat, in clock ticks (100 a second on Linux). */
function cpuMs(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Starts five nodes with `extra` arguments, waits `settleMs`, and returns each node's cores over `windowMs`. */
async function idleCores(extra: string[], base: number, settleMs: number, windowMs: number): Promise<number[]> {
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-idle-'));
  const children: ChildProcess[] = [];
  try {
    await Promise.all(
      Array.from({ length: NODES }, (_, i) => {
        const args = ['vine', '--port', String(base + 2 * i), '--data', join(root, `node${i}`), ...extra];
        if (i > 0) args.push('--join', `127.0.0.1:${base}`);
        const child = spawn(process.execPath, [tendril, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(child);
        return new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('vine ') && resolve()));
      }),
    );
    await sleep(settleMs);
    const before = children.map(cpuMs);
    const start = performance.now();
    await sleep(windowMs);
    const seconds = (performance.now() - start) / 1000;
    return children.map((child, i) => (cpuMs(child) - before[i]) / 1000 / seconds);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

export async function runVineIdleBench(): Promise<Row[]> {
  const settleMs = Number(process.env.VINE_IDLE_SETTLE_MS ?? 10_000);
  const windowMs = Number(process.env.VINE_IDLE_MS ?? 10_000);
  const base = Number(process.env.VINE_BENCH_PORT ?? 7600);
  const rows: Row[] = [];
  for (const [name, extra] of [['--gossip-ms 250 (the throughput bench)', ['--gossip-ms', '250']], ['defaults (gossip every 1 s)', []]] as const) {
    const cores = await idleCores([...extra], base, settleMs, windowMs);
    rows.push({
      cluster: name,
      'cores (5 nodes)': cores.reduce((sum, c) => sum + c, 0).toFixed(3),
      'per node': cores.map((c) => c.toFixed(3)).join(' '),
      'load avg': loadavg()[0].toFixed(2),
    });
  }
  printTable('vine idle: CPU of a five-node cluster nobody uses (CPU time, not wall)', rows);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runVineIdleBench();
}
