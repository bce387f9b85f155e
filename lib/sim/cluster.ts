import { ReplicationError } from '../errors.js';
import { DEFAULT_LIMITS } from '../codec/index.js';
import { WireProtocol } from '../stream/wire-protocol.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../stream/index.js';
import type { Replicable } from '../session/contract.js';
import type { LinkProfile } from './link.js';
import { Network, type StreamEnd } from './network.js';
import { SimRandom } from './random.js';
import { Scheduler } from './scheduler.js';
import type { ReplicaContext, StructureUnderTest, Write } from './structure.js';
import { type TopologyKind, topology } from './topology.js';

/** Virtual time 0 as wall-clock time handed to replicas: 2026-01-01T00:00:00Z, so timestamps look like real ones. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface ClusterOptions {
  /** Number of nodes, named n0, n1, ... Default 5. */
  nodes: number;
  /** Who connects to whom. Default `full`. */
  topology: TopologyKind;
  /** Fan-out of the `tree` topology. Default 4. */
  fanout: number;
  /** Default link profile (stream links: loss breaks the connection). */
  link: Partial<LinkProfile>;
  /**
   * How long a connection waits after it has something to send before it
   * sends a frame, ms; everything ready by then goes in that frame. 0 sends
   * at the end of the current instant. Default 0.
   */
  batch: number;
  /** Largest frame, bytes. Default the stream shell's. */
  maxFrameBytes: number;
  /**
   * Probability that a dial also opens a second, parallel connection between
   * the same pair (one-shot, not redialled), so updates arrive twice through
   * two streams. Default 0.
   */
  parallel: number;
  /** First reconnect delay after a break, ms; doubles per failure up to `reconnectMax`. Default 100. */
  reconnectBase: number;
  /** Default 2,000. */
  reconnectMax: number;
}

export const DEFAULT_CLUSTER: Readonly<ClusterOptions> = Object.freeze({
  nodes: 5,
  topology: 'full',
  fanout: 4,
  link: {},
  batch: 0,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  parallel: 0,
  reconnectBase: 100,
  reconnectMax: 2000,
});

/** The checkers' record of one write. */
export interface WriteRecord {
  write: Write;
  /** Index in the workload. */
  index: number;
  origin: string;
  /** Virtual time it was applied (acknowledged) at its origin. */
  at: number;
  /** Nodes holding it now. */
  holders: Set<string>;
  /** Nodes that have held it at some point, with the first time. */
  firstHeld: Map<string, number>;
  /** Held by two nodes or more at some point: acknowledged in the W2 sense. */
  replicated: boolean;
  /** Every copy was lost to nodes restarting without their state: no structure could bring it back. */
  wiped: boolean;
  /** When every node had held it; undefined until then. */
  everywhereAt: number | undefined;
}

interface SimNode<R> {
  name: string;
  replica: R;
  up: boolean;
  /** Bumped on every crash; stale timers check it. */
  life: number;
  /** Bumped on every restart without state; names the replica id. */
  generation: number;
  /** Writes it does not hold (yet). */
  missing: Set<WriteRecord>;
  pipes: Set<Pipe>;
}

/**
 * Many replicas of one structure on a simulated network, each pair of
 * neighbours joined by a stream link carrying two `WireProtocol`s: the same
 * handshake, sessions and framing `createStream()` uses, driven by virtual
 * time instead of sockets. Links that break (loss, cut, crash) reconnect
 * with backoff, from the side that dialled.
 */
export class ReplicaCluster<R extends Replicable> {
  readonly scheduler: Scheduler;
  readonly network: Network;
  readonly options: ClusterOptions;
  readonly names: string[];
  readonly edges: [string, string][];
  readonly writes: WriteRecord[] = [];
  /** Exceptions thrown by protocol code, and errors that failed a connection: must stay empty. */
  readonly failures: { at: number; node: string; error: string }[] = [];
  /** Frames sent by connections (handshakes included). */
  frames = 0;
  /** Bytes of those frames. */
  frameBytes = 0;
  /** Connections that broke after they had synced (each is redialled). */
  reconnects = 0;

  private readonly nodes = new Map<string, SimNode<R>>();
  private readonly random: SimRandom;
  private readonly workloadRandom: SimRandom;
  /** Writes handed to the structure and not yet recorded (async structures). */
  private pendingWrites = 0;
  /** The workload's scratch space for this run (see `StructureUnderTest.mutate`). */
  private readonly run: Record<string, unknown> = {};

  constructor(
    readonly structure: StructureUnderTest<R>,
    readonly seed: number,
    options: Partial<ClusterOptions> = {},
    scheduler = new Scheduler(),
  ) {
    this.options = { ...DEFAULT_CLUSTER, ...options };
    this.scheduler = scheduler;
    const root = new SimRandom(seed);
    this.network = new Network(scheduler, root.fork(), this.options.link);
    this.random = root.fork();
    this.workloadRandom = root.fork();
    this.names = Array.from({ length: this.options.nodes }, (_, i) => `n${i}`);
    this.edges = topology(this.options.topology, this.names, this.options.fanout);
    for (const name of this.names) {
      this.network.addNode(name);
      this.nodes.set(name, { name, replica: this.create(name, 0), up: true, life: 0, generation: 0, missing: new Set(), pipes: new Set() });
      this.network.accept(name, (end) => this.accept(end));
    }
    for (const [a, b] of this.edges) this.dial(a, b, 0);
  }

  get now(): number {
    return this.scheduler.now;
  }

  replica(node: string): R {
    return this.nodes.get(node)!.replica;
  }

  isUp(node: string): boolean {
    return this.nodes.get(node)!.up;
  }

  upNodes(): string[] {
    return this.names.filter((n) => this.nodes.get(n)!.up);
  }

  /** Makes write number `writes.length` on `node`, if it is up; returns its record. */
  write(node: string): WriteRecord | undefined {
    const n = this.nodes.get(node)!;
    if (!n.up) return undefined;
    const index = this.writes.length + this.pendingWrites++;
    const result = this.guard(node, () => this.structure.mutate(n.replica, index, this.workloadRandom, this.run));
    if (result instanceof Promise) {
      // Recorded once the structure has taken it; virtual time stands still meanwhile (runUntilAsync).
      result.then(
        (write) => {
          this.pendingWrites--;
          this.record(n, write, index);
        },
        (err) => {
          this.pendingWrites--;
          this.failures.push({ at: this.now, node, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        },
      );
      return undefined;
    }
    this.pendingWrites--;
    if (!result) return undefined;
    return this.record(n, result, index);
  }

  private record(n: SimNode<R>, write: Write, index: number): WriteRecord {
    const record: WriteRecord = {
      write,
      index,
      origin: n.name,
      at: this.now,
      holders: new Set(),
      firstHeld: new Map(),
      replicated: false,
      wiped: false,
      everywhereAt: undefined,
    };
    this.writes.push(record);
    if (this.structure.holds) for (const other of this.nodes.values()) other.missing.add(record);
    this.check(n);
    return record;
  }

  /** Crashes `node`: connections break, in-flight frames to it are lost. */
  crash(node: string): void {
    const n = this.nodes.get(node)!;
    if (!n.up) return;
    n.up = false;
    n.life++;
    this.network.crash(node);
    for (const pipe of n.pipes) pipe.shut();
    n.pipes.clear();
  }

  /**
   * Restarts `node`. With `keepState` the replica comes back as it was (its
   * persisted state); without, an empty replica with a new id takes its place.
   */
  restart(node: string, keepState: boolean): void {
    const n = this.nodes.get(node)!;
    if (n.up) return;
    if (keepState && this.structure.reopen) {
      const crashed = n.replica;
      n.replica = this.structure.reopen(crashed, this.context(node, n.generation));
    }
    if (!keepState) {
      this.structure.dispose?.(n.replica);
      n.generation++;
      n.replica = this.create(node, n.generation);
      for (const record of this.writes) {
        if (!this.structure.holds) {
          // No way to tell who holds what: whatever this node wrote may be gone.
          if (record.origin === node) record.wiped = true;
          continue;
        }
        if (record.holders.delete(node) && record.holders.size === 0) this.forget(record);
        if (!record.wiped) n.missing.add(record);
      }
    }
    n.up = true;
    this.network.restart(node);
    for (const [a, b] of this.edges) if (a === node) this.dial(a, b, 0);
    this.check(n);
  }

  /** Connections that have finished their initial exchange, counted once per link end. */
  syncedEnds(): number {
    let count = 0;
    for (const n of this.nodes.values()) for (const pipe of n.pipes) if (pipe.protocol.synced) count++;
    return count;
  }

  /** Runs until every link of the topology is up and synced on both ends (at most `limit` ms more). */
  async warmUp(limit = 10_000): Promise<void> {
    const deadline = this.now + limit;
    while (this.now < deadline && this.syncedEnds() < 2 * this.edges.length) await this.advance(Math.min(deadline, this.now + 10));
  }

  /** Runs until `until`: synchronously, or for an `async` structure, letting promise work settle (await it either way). */
  advance(until: number): void | Promise<void> {
    return this.structure.async ? this.runUntilAsync(until) : this.runUntil(until);
  }

  /** Runs the simulation until virtual time `until`. */
  runUntil(until: number): void {
    if (this.structure.async) throw new RangeError(`${this.structure.name} works on promises: use runUntilAsync`);
    this.scheduler.runUntil(until);
  }

  /** Runs until `until`, letting promise work settle after every event (for `async` structures). */
  runUntilAsync(until: number): Promise<void> {
    // Work that settled after an event may have applied writes: look again.
    return this.scheduler.runUntilAsync(until, () => {
      for (const n of this.nodes.values()) if (n.up) this.check(n);
    });
  }

  private create(node: string, generation: number): R {
    return this.structure.create(this.context(node, generation));
  }

  private context(node: string, generation: number): ReplicaContext {
    return {
      node,
      id: generation === 0 ? node : `${node}.${generation}`,
      now: () => SIM_EPOCH_MS + this.scheduler.now,
      defer: (callback) => void this.scheduler.schedule(0, callback, 'defer'),
      random: this.random.fork(),
    };
  }

  /** A record whose every copy is gone: no node will ever hold it again. */
  private forget(record: WriteRecord): void {
    record.wiped = true;
    for (const n of this.nodes.values()) n.missing.delete(record);
  }

  /** Marks the writes `n` has come to hold. */
  check(n: SimNode<R>): void {
    const holds = this.structure.holds;
    if (!holds || n.missing.size === 0) return;
    for (const record of n.missing) {
      if (!this.guard(n.name, () => holds(n.replica, record.write))) continue;
      n.missing.delete(record);
      record.holders.add(n.name);
      if (record.holders.size >= 2) record.replicated = true;
      if (!record.firstHeld.has(n.name)) {
        record.firstHeld.set(n.name, this.now);
        if (record.firstHeld.size === this.names.length) record.everywhereAt = this.now;
      }
    }
  }

  /** Runs protocol code; an exception is recorded as a failure, never thrown into the scheduler. */
  guard<T>(node: string, run: () => T): T | undefined {
    try {
      return run();
    } catch (err) {
      this.failures.push({ at: this.now, node, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      return undefined;
    }
  }

  // ---- connections ----

  private dial(from: string, to: string, attempt: number): void {
    const n = this.nodes.get(from)!;
    if (!n.up) return;
    const life = n.life;
    const end = this.network.connect(from, to);
    if (!end) return;
    const pipe = new Pipe(this, n, end, () => {
      // Reconnect from the dialling side, with exponential backoff and jitter.
      if (!n.up || n.life !== life) return;
      const next = pipe.protocol.synced ? 0 : attempt + 1;
      if (pipe.protocol.synced) this.reconnects++;
      const base = Math.min(this.options.reconnectMax, this.options.reconnectBase * 2 ** next);
      this.scheduler.schedule(base * (0.5 + this.random.float() / 2), () => n.life === life && this.dial(from, to, next), 'redial');
    });
    n.pipes.add(pipe);
    // Duplication, the stream way: TCP never delivers a frame twice, but two
    // streams between the same replicas deliver every update twice, in
    // different orders. This extra one is not redialled when it breaks.
    if (this.random.chance(this.options.parallel)) {
      const extra = this.network.connect(from, to);
      if (extra) n.pipes.add(new Pipe(this, n, extra, () => {}));
    }
  }

  private accept(end: StreamEnd): boolean {
    const n = this.nodes.get(end.local)!;
    if (!n.up) return false;
    n.pipes.add(new Pipe(this, n, end, () => {}));
    return true;
  }

  /** @internal */
  connectionFor(n: SimNode<R>): WireProtocol {
    return new WireProtocol(n.replica.descriptor, (options) => n.replica.openSession(options), {
      live: true,
      readable: true,
      writable: true,
      cluster: undefined,
      maxFrameBytes: this.options.maxFrameBytes,
      limits: { ...DEFAULT_LIMITS },
    });
  }
}

/** One end of a stream link with the WireProtocol it carries. */
class Pipe {
  readonly protocol: WireProtocol;
  private flushTimer: ReturnType<Scheduler['schedule']> | undefined;
  private done = false;

  constructor(
    private readonly cluster: ReplicaCluster<any>,
    private readonly node: SimNode<any>,
    private readonly end: StreamEnd,
    private readonly onClosed: () => void,
  ) {
    this.protocol = cluster.guard(node.name, () => cluster.connectionFor(node))!;
    this.protocol.onWake = () => this.wake();
    end.onData = (frame) => this.receive(frame);
    end.onClose = () => this.shut();
    this.wake();
  }

  private wake(): void {
    if (this.done || this.flushTimer) return;
    this.flushTimer = this.cluster.scheduler.schedule(this.cluster.options.batch, () => this.flush(), 'flush');
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.done) return;
    for (;;) {
      const frame = this.guard(() => this.protocol.nextFrame());
      if (!frame) return;
      this.cluster.frames++;
      this.cluster.frameBytes += frame.length;
      if (!this.end.send(frame)) return;
    }
  }

  private receive(frame: Uint8Array): void {
    if (this.done) return;
    this.guard(() => this.protocol.receive(frame));
    this.cluster.check(this.node);
    if (this.protocol.peerFailure) {
      this.cluster.failures.push({ at: this.cluster.now, node: this.node.name, error: `peer failed: ${this.protocol.peerFailure.message}` });
      this.end.close();
      this.shut();
      return;
    }
    this.wake();
  }

  /** Protocol code that throws fails the connection (as the stream shell would) and is recorded. */
  private guard<T>(run: () => T): T | undefined {
    try {
      return run();
    } catch (err) {
      this.cluster.failures.push({ at: this.cluster.now, node: this.node.name, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      const frame = err instanceof ReplicationError ? this.protocol.fail(err) : undefined;
      if (frame) this.end.send(frame);
      this.end.close();
      this.shut();
      return undefined;
    }
  }

  /** The link is over: close the session, let the owner reconnect. */
  shut(): void {
    if (this.done) return;
    this.done = true;
    this.cluster.scheduler.cancel(this.flushTimer);
    this.protocol.close();
    this.node.pipes.delete(this);
    this.onClosed();
  }
}
