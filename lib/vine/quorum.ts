import { type ReplicationError, errors } from '../errors.js';
import type { Target } from './ring.js';

/** What the coordinator does next: send to more replicas, and/or the operation is decided. */
export interface Step<T> {
  /** Replicas to send the request to now. */
  send: Target[];
  /** Set once, when the operation is decided; later answers are still taken in (for read repair) but decide nothing. */
  settled?: { ok: true; answers: Map<string, T> } | { ok: false; error: ReplicationError };
}

export interface CoordinationOptions {
  /** `'write'` or `'read'`, for the error message. */
  operation: string;
  /** Answers needed: W for a write, R for a read. */
  need: number;
  /** The replicas asked first (from `planTargets`). */
  targets: Target[];
  /**
   * Live members past the targets, in preference order. When a write to a
   * replica fails, the next spare takes it as a hint for the owner (sloppy
   * quorum). Reads take no spares: a spare has nothing to answer with.
   */
  spares?: string[];
  /**
   * Targets asked at the start (default all). The rest are held back: one
   * is asked for each asked target that fails, and all of them on `widen()`.
   * Reads ask R of the N owners, so a read costs R replica reads, not N.
   */
  ask?: number;
}

/**
 * The I/O-free state machine of one quorum request: which replicas to ask,
 * when enough have answered, when it has failed. Its owner sends what each
 * step says and feeds back answers, failures and the deadline. It fails as
 * soon as the quorum can no longer be reached, never later than the
 * deadline, and never reports success with fewer than `need` answers.
 */
export class Coordination<T> {
  readonly answers = new Map<string, T>();
  readonly failures = new Map<string, unknown>();
  private readonly pending = new Map<string, Target>();
  private readonly spares: string[];
  /** Targets not asked yet (see `CoordinationOptions.ask`). */
  private readonly held: Target[];
  private asked = 0;
  private decided = false;

  constructor(private readonly options: CoordinationOptions) {
    if (!Number.isInteger(options.need) || options.need < 1) throw errors.invalidArgument('a quorum needs at least one answer');
    this.spares = [...(options.spares ?? [])];
    if (options.ask !== undefined && (!Number.isInteger(options.ask) || options.ask < 1)) throw errors.invalidArgument('a quorum asks at least one target');
    this.held = options.targets.slice(options.ask ?? options.targets.length);
  }

  get settled(): boolean {
    return this.decided;
  }

  /** Replicas still to answer. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Replicas asked that have not answered yet. */
  pendingTargets(): Target[] {
    return [...this.pending.values()];
  }

  /** The first step: every target at once (or the first `ask` of them). */
  start(): Step<T> {
    const first = this.options.targets.slice(0, this.options.targets.length - this.held.length);
    for (const target of first) this.track(target);
    return this.check(first);
  }

  /** Asks every target held back (an asked one is slow to answer). */
  widen(): Step<T> {
    if (this.decided) return { send: [] };
    const send = this.held.splice(0);
    for (const target of send) this.track(target);
    return this.check(send);
  }

  answer(node: string, value: T): Step<T> {
    if (!this.pending.delete(node)) return { send: [] };
    this.answers.set(node, value);
    return this.check([]);
  }

  fail(node: string, error: unknown): Step<T> {
    const target = this.pending.get(node);
    if (!target) return { send: [] };
    this.pending.delete(node);
    this.failures.set(node, error);
    const send: Target[] = [];
    // A target that failed is replaced by one held back; past those, a replica that failed a write is
    // replaced by a spare holding a hint for the owner.
    const heldBack = this.decided ? undefined : this.held.shift();
    const spare = this.decided || heldBack ? undefined : this.nextSpare();
    if (heldBack) {
      this.track(heldBack);
      send.push(heldBack);
    } else if (spare !== undefined) {
      const replacement = { node: spare, hint: target.hint ?? target.node };
      this.track(replacement);
      send.push(replacement);
    }
    return this.check(send);
  }

  /** The deadline passed: decided now, one way or the other. */
  expire(): Step<T> {
    return this.check([], true);
  }

  private nextSpare(): string | undefined {
    while (this.spares.length > 0) {
      const spare = this.spares.shift()!;
      if (!this.answers.has(spare) && !this.pending.has(spare) && !this.failures.has(spare)) return spare;
    }
    return undefined;
  }

  private track(target: Target): void {
    this.pending.set(target.node, target);
    this.asked++;
  }

  private check(send: Target[], expired = false): Step<T> {
    if (this.decided) return { send };
    const { need, operation } = this.options;
    if (this.answers.size >= need) {
      this.decided = true;
      return { send, settled: { ok: true, answers: new Map(this.answers) } };
    }
    const possible = this.answers.size + this.pending.size + this.held.length;
    if (expired || possible < need) {
      this.decided = true;
      return { send, settled: { ok: false, error: errors.unavailable(operation, need, this.answers.size, this.asked) } };
    }
    return { send };
  }
}

/** Checks N, R and W: each at least 1, R and W at most N. */
export function checkQuorum(n: number, r: number, w: number): void {
  for (const [name, value] of [['n', n], ['r', r], ['w', w]] as const) {
    if (!Number.isInteger(value) || value < 1) throw errors.invalidArgument(`${name} must be a positive integer, got ${value}`);
  }
  if (r > n) throw errors.invalidArgument(`r (${r}) cannot exceed n (${n})`);
  if (w > n) throw errors.invalidArgument(`w (${w}) cannot exceed n (${n})`);
}

/** Reads see the latest acknowledged write when read and write quorums must overlap: R + W > N (Gifford). */
export function quorumsOverlap(n: number, r: number, w: number): boolean {
  return r + w > n;
}
