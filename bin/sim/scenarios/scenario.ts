import type { Chart } from '../svg.js';

/** The options every scenario understands (`tendril sim <scenario> --nodes ...`); each has its own defaults. */
export interface ScenarioOptions {
  /** Seed of the whole run. Default 1. */
  seed: number;
  nodes?: number;
  /** Mean one-way link latency, ms. */
  latency?: number;
  /** Message loss probability (datagram links) or connection-break probability per frame (stream links). */
  loss?: number;
  /** Number of partitions to inject (0 = none). */
  partitions?: number;
  /** Simulated run length, ms. */
  duration?: number;
  /** Scenario-specific options (`--topology star`, `--mode push-pull`, ...), as given. */
  extra: Record<string, string>;
  /** Called now and then with the fraction done, for progress on a terminal. */
  progress?: (fraction: number) => void;
}

/** A goal a scenario prints and checks. */
export interface Goal {
  text: string;
  met: boolean;
}

export interface ScenarioResult {
  /** Plain data: what `--json` prints. Same seed and options, same report. */
  report: { scenario: string; seed: number; goals: Goal[] } & Record<string, unknown>;
  /** The readable report. */
  text: string;
  /** What `--svg` draws. */
  chart: Chart;
}

export interface Scenario {
  name: string;
  summary: string;
  /** One line per scenario-specific option, for `--help`. */
  extraHelp: string[];
  /** Runs it; a scenario over structures that work on promises returns a promise. */
  run(options: ScenarioOptions): ScenarioResult | Promise<ScenarioResult>;
}

/** Reads a scenario-specific numeric option. */
export function extraNumber(options: ScenarioOptions, name: string, fallback: number): number {
  const raw = options.extra[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RangeError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

export function extraString<T extends string>(options: ScenarioOptions, name: string, allowed: readonly T[], fallback: T): T {
  const raw = options.extra[name];
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new RangeError(`--${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** Formats "key: value" lines with aligned values. */
export function lines(title: string, rows: [string, unknown][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

export function goalLines(goals: Goal[]): string {
  return goals.map((g) => `  [${g.met ? 'MET' : 'MISSED'}] ${g.text}`).join('\n');
}
