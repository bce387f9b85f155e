import type { FaultWindow, Network } from './network.js';
import { applyPartition } from './faults.js';
import { type PartitionKind, PARTITION_KINDS } from './partitions.js';
import type { SimRandom } from './random.js';

export interface NemesisOptions {
  /** Partition shapes to draw from. Default all four. Empty: no partitions. */
  partitions: readonly PartitionKind[];
  /** Mean quiet time between two partitions, ms (exponential). Default 3,000. */
  partitionEvery: number;
  /** Mean length of a partition, ms (exponential, at least 100). Default 2,000. */
  partitionFor: number;
  /** Mean time between two crashes, ms (exponential); 0 = no crashes. Default 0. */
  crashEvery: number;
  /** Mean time a crashed node stays down, ms (exponential, at least 100). Default 1,500. */
  downFor: number;
  /** Probability a crashed node comes back with its persisted state (otherwise empty). Default 0.5. */
  keepState: number;
  /** Nodes the nemesis may crash. Default every node. */
  crashable?: readonly string[];
  /** At most this many nodes down at once. Default 1. */
  maxDown: number;
}

export const DEFAULT_NEMESIS: Readonly<NemesisOptions> = Object.freeze({
  partitions: PARTITION_KINDS,
  partitionEvery: 3000,
  partitionFor: 2000,
  crashEvery: 0,
  downFor: 1500,
  keepState: 0.5,
  maxDown: 1,
});

/** What the nemesis asks of the system under test when it crashes and restarts nodes. */
export interface CrashHooks {
  crash(node: string): void;
  restart(node: string, keepState: boolean): void;
}

/**
 * Injects faults on a schedule, from its own random stream: partitions of
 * the four shapes (one at a time) and node crashes with restarts, between
 * `start()` and `stop()`. `stop()` heals every cut and restarts every node.
 */
export class Nemesis {
  readonly options: NemesisOptions;
  private running = false;
  /** Crashed nodes and their fault windows. */
  private readonly down = new Map<string, FaultWindow>();
  private readonly crashHooks: CrashHooks | undefined;
  /** Cancels what the current partition still has scheduled. */
  private readonly pending: (() => void)[] = [];

  constructor(
    private readonly network: Network,
    private readonly random: SimRandom,
    options: Partial<NemesisOptions> = {},
    hooks?: CrashHooks,
  ) {
    this.options = { ...DEFAULT_NEMESIS, ...options };
    this.crashHooks = hooks;
  }

  start(): void {
    this.running = true;
    if (this.options.partitions.length > 0) this.later(this.options.partitionEvery, () => this.partition());
    if (this.options.crashEvery > 0 && this.crashHooks) this.later(this.options.crashEvery, () => this.crash());
  }

  /** Ends every fault now: heals the network and restarts the crashed nodes (with their state). */
  stop(): void {
    this.running = false;
    for (const undo of this.pending.splice(0)) undo();
    this.network.heal();
    for (const node of [...this.down.keys()].sort()) this.bringBack(node, true);
    for (const window of this.network.faults) this.network.endFault(window);
  }

  private later(mean: number, run: () => void): void {
    this.network.scheduler.schedule(this.random.exponential(mean), () => this.running && run(), 'nemesis');
  }

  private partition(): void {
    const kind = this.random.pick(this.options.partitions);
    const length = Math.max(100, this.random.exponential(this.options.partitionFor));
    const cancel = applyPartition(this.network, this.random, kind, length);
    this.pending.push(cancel);
    this.network.scheduler.schedule(length, () => {
      if (!this.running) return;
      this.pending.splice(this.pending.indexOf(cancel), 1);
      this.later(this.options.partitionEvery, () => this.partition());
    }, 'nemesis');
  }

  private crash(): void {
    const candidates = (this.options.crashable ?? this.network.nodes).filter((n) => !this.down.has(n));
    if (this.down.size < this.options.maxDown && candidates.length > 0) {
      const node = this.random.pick(candidates);
      const keep = this.random.chance(this.options.keepState);
      const window = this.network.beginFault('crash', `${node}${keep ? '' : ' (state lost)'}`);
      this.down.set(node, window);
      this.crashHooks!.crash(node);
      this.network.scheduler.schedule(Math.max(100, this.random.exponential(this.options.downFor)), () => {
        if (!this.running || !this.down.has(node)) return;
        this.bringBack(node, keep);
      }, 'restart');
    }
    this.later(this.options.crashEvery, () => this.crash());
  }

  private bringBack(node: string, keepState: boolean): void {
    this.network.endFault(this.down.get(node)!);
    this.down.delete(node);
    this.crashHooks!.restart(node, keepState);
  }
}
