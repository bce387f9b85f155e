import type { Replicable } from '../session/contract.js';
import type { SimRandom } from './random.js';

/** What a replica is given when the simulator creates it. */
export interface ReplicaContext {
  /** The simulated node it lives on, e.g. `n3`. */
  node: string;
  /** Runs `callback` later in virtual time: give it to structures that pace their work (`defer` options). */
  defer: (callback: () => void) => void;
  /** A replica id unique to this life of the node's state, e.g. `n3` or `n3.2` after a restart without state. */
  id: string;
  /** Virtual wall-clock time in ms (a fixed epoch plus virtual time): inject it into HybridClock (`new HybridClock({ now })`). */
  now: () => number;
  /** A random source of this replica's own, for structures that take one. */
  random: SimRandom;
}

/** One write, as the checkers track it. */
export interface Write {
  /** What to look for on a replica, unique per write (e.g. the element or `key=value`). */
  key: string;
  /** For counters: what the write added. */
  delta?: number;
  /** Anything else the structure's `holds` needs (a timestamp, a source). */
  data?: unknown;
}

/**
 * How the simulator drives one kind of structure: a factory, a workload and
 * the views the checkers need. Each structure plugs in with a few lines
 * (see `lib/sim/structures/`).
 */
export interface StructureUnderTest<R extends Replicable = Replicable> {
  name: string;
  /**
   * Its replicas finish work on promises (a database): the cluster must be
   * run with `runUntilAsync`, which lets pending promise work settle after
   * every event, so virtual time stands still while it does. Default false.
   */
  async?: boolean;
  /** A fresh, empty replica. */
  create(context: ReplicaContext): R;
  /**
   * Makes local change number `i` (0, 1, 2, ...) and says what was written.
   * `run` is a scratch object shared by every call of one run (fresh per
   * cluster), for workloads that remember what they did (what was removed).
   */
  mutate(replica: R, i: number, random: SimRandom, run: Record<string, unknown>): Write | Promise<Write>;
  /** Plain data to compare for convergence. */
  state(replica: R): unknown;
  /**
   * Whether the replica holds write `w`; drives the lost-write and latency
   * checks. Without it (counters cannot tell one increment from another),
   * those checks are skipped, and a write made on a node that later
   * restarts without its state counts as indeterminate (maybe lost).
   */
  holds?(replica: R, write: Write): boolean;
  /** Set-like structures: every element, duplicates included. */
  elements?(replica: R): string[];
  /** Counters: the current value. */
  counter?(replica: R): number;
  /** Releases what a replica holds when its node loses it. */
  dispose?(replica: R): void;
  /**
   * A crash that keeps the node's storage: a new replica opened on what the
   * crashed one persisted (same id), as a restarted process would. Without
   * it, the replica object itself lives on as the persisted state.
   */
  reopen?(crashed: R, context: ReplicaContext): R;
}
