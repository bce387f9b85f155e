// Shared plumbing for benchmarks: run one measurement in a fresh child
// process (so heaps and JIT state never leak between contestants), sample
// the heap, and print tables with ratios.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs `node --expose-gc <script> ...args` and returns the JSON it printed last. */
export async function inChild<T>(script: string, args: string[], timeoutMs = 600_000): Promise<T> {
  const { stdout } = await exec(process.execPath, ['--expose-gc', '--max-old-space-size=8192', script, ...args], {
    timeout: timeoutMs,
    maxBuffer: 16 << 20,
  });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Tracks the highest heap use seen, sampling every millisecond and on demand. */
export class HeapPeak {
  private readonly baseline: number;
  private peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    (globalThis as { gc?: () => void }).gc?.();
    this.baseline = process.memoryUsage().heapUsed;
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), 1);
  }

  sample(): void {
    const used = process.memoryUsage().heapUsed;
    if (used > this.peak) this.peak = used;
  }

  /** Bytes above the baseline at the peak. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peak - this.baseline;
  }
}

/** Wall time and the process's CPU time (user and system, every thread) since it was made, in ms. */
export class Stopwatch {
  private readonly wall = performance.now();
  private readonly cpu = process.cpuUsage();

  stop(): { ms: number; cpuMs: number } {
    const cpu = process.cpuUsage(this.cpu);
    return { ms: performance.now() - this.wall, cpuMs: (cpu.user + cpu.system) / 1000 };
  }
}

export type Row = Record<string, string | number>;

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: Row[]): void {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (v: string | number | undefined) => (v === undefined ? '' : typeof v === 'number' ? format(v) : v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => '| ' + values.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\n${title}\n`);
  console.log(line(columns));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c]))));
}

function format(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) || Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** `ours / theirs`, formatted as a ratio. */
export function ratio(ours: number, theirs: number): string {
  return theirs > 0 ? `${(ours / theirs).toFixed(2)}x` : 'n/a';
}

/** A pass-through stream that counts the bytes going through it. */
export function byteCounter(): Transform & { bytes: number } {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  counter.bytes = 0;
  return counter;
}

/** CPU ms of this process's main thread so far, from /proc (10 ms ticks); NaN where there is no /proc. */
export function mainThreadMs(): number {
  try {
    // Fields 14 and 15 after the command name: utime and stime in clock ticks (100 per second on Linux).
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Collects garbage now, when the process runs with --expose-gc (so one measurement does not pay for the last one's garbage). */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The middle value (the upper middle of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
