import { encode } from '../codec/index.js';
import { exchange } from '../gossip/exchange.js';
import { Membership } from '../gossip/membership.js';
import type { GossipLimits, MembershipTiming, PhiOptions } from '../gossip/options.js';
import { handshakeCodec, PROTOCOL, PROTOCOL_VERSION } from '../stream/frames.js';
import { SIM_EPOCH_MS } from './cluster.js';
import { SimRandom } from './random.js';
import { Scheduler } from './scheduler.js';

/** A process crash at `at` (ms), and a restart (a new life, same address) at `restartAt` if given. */
export interface CrashPlan {
  node: number;
  at: number;
  restartAt?: number;
}

/** The process is frozen (a GC pause, a suspended VM) from `at` for `ms`: no ticks, no answers. */
export interface PausePlan {
  node: number;
  at: number;
  ms: number;
}

/** From `at` to `until`, the nodes in `side` cannot reach the others (nor the others them). */
export interface PartitionPlan {
  at: number;
  until: number;
  side: number[];
}

export interface MembershipRunOptions {
  nodes: number;
  seed: number;
  durationMs: number;
  /** Probability that a message is lost; an exchange needs both directions, so it fails with 1 - (1 - loss)^2. */
  loss?: number;
  /** Counting (false convictions, bytes) starts after this, once everyone has joined. Default 30 s. */
  warmupMs?: number;
  crashes?: CrashPlan[];
  pauses?: PausePlan[];
  partitions?: PartitionPlan[];
  /** A key set on this node at this time: the spread is measured in gossip rounds. */
  write?: { node: number; at: number };
  timing?: Partial<MembershipTiming>;
  phi?: Partial<PhiOptions>;
  limits?: Partial<GossipLimits>;
}

export interface Conviction {
  at: number;
  observer: number;
  target: number;
}

export interface MembershipRunResult {
  /** Convictions of a node that was up and not paused, after the warmup. */
  falseConvictions: Conviction[];
  /** Convictions made by a node within 10 s of waking from a pause. */
  convictionsOnWaking: Conviction[];
  /** Convictions of a paused node, with the length of its pause. */
  pausedConvicted: { target: number; pauseMs: number; observers: number }[];
  /** Per crash: ms until every node that stayed up had convicted it (Infinity if some never did). */
  detectionMs: number[];
  /** Per (observer, crashed node): ms until that observer convicted it. */
  detectionPairsMs: number[];
  /** Gossip rounds until every live node held the write (undefined if it never did or there was none). */
  spreadRounds: number | undefined;
  /** Bytes sent per node per second after the warmup: messages plus the handshake and framing of every exchange. */
  bytesPerNodePerSecond: number;
  /** At the end, every live node knows every other live node's current life and keys. */
  converged: boolean;
  /** Node-hours observed after the warmup (live nodes only). */
  nodeHours: number;
  exchanges: number;
}

/** Bytes of one exchange besides its messages: two handshakes, two synced markers, frame headers. */
export function exchangeOverheadBytes(idBytes: number): number {
  const handshake = encode(handshakeCodec, {
    protocol: PROTOCOL,
    version: PROTOCOL_VERSION,
    kind: 'gossip',
    name: 'gossip',
    id: 'x'.repeat(idBytes),
    cluster: undefined,
    params: '',
    readable: true,
    writable: true,
    live: false,
  }).length;
  // Per side: handshake frame (2-byte length, type), one data frame header (length, type, count), synced frame.
  return 2 * (handshake + 3 + 5 + 2);
}

/**
 * Runs N gossip memberships in virtual time: each ticks every interval
 * (with the same 10% jitter as the networked node), and gossips with the
 * targets it chooses, through `exchange` (every message encoded and decoded,
 * as on the wire). Crashes, restarts, pauses, partitions and message loss
 * come from the plan and the seed; the same options give the same result.
 */
export function runMembership(options: MembershipRunOptions): MembershipRunResult {
  const random = new SimRandom(options.seed);
  const scheduler = new Scheduler();
  const now = () => SIM_EPOCH_MS + scheduler.now;
  const interval = options.timing?.gossipIntervalMs ?? 1000;
  const warmup = options.warmupMs ?? 30_000;
  const loss = options.loss ?? 0;
  const exchangeFails = 1 - (1 - loss) ** 2;
  const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7946`;
  const overhead = exchangeOverheadBytes(address(0).length);
  const index = new Map<string, number>();
  const up: boolean[] = [];
  const pausedUntil: number[] = [];
  const pauseStarted: number[] = [];
  const wokeAt: number[] = [];
  const lifeStart: number[] = [];
  const nodes: Membership[] = [];
  const result: MembershipRunResult = {
    falseConvictions: [],
    convictionsOnWaking: [],
    pausedConvicted: [],
    detectionMs: [],
    detectionPairsMs: [],
    spreadRounds: undefined,
    bytesPerNodePerSecond: 0,
    converged: false,
    nodeHours: 0,
    exchanges: 0,
  };
  const crashedAt = new Map<number, number>();
  const convictedBy = new Map<number, Map<number, number>>(); // crashed node -> observer -> time
  const pausedConvictions = new Map<number, Set<number>>();
  let bytes = 0;

  const create = (i: number) => {
    const m = new Membership({
      address: address(i),
      now,
      random: random.fork(),
      seeds: [address(0)],
      timing: options.timing,
      phi: options.phi,
      limits: options.limits,
    });
    m.on('peer_failed', (peer: string) => {
      const target = index.get(peer)!;
      const conviction = { at: scheduler.now, observer: i, target };
      if (scheduler.now < warmup) return;
      if (crashedAt.has(target) && !up[target]) {
        convictedBy.get(target)!.set(i, scheduler.now);
      } else if (pausedUntil[target] > scheduler.now) {
        let set = pausedConvictions.get(target);
        if (!set) pausedConvictions.set(target, (set = new Set()));
        set.add(i);
      } else if (up[target]) {
        result.falseConvictions.push(conviction);
      }
      if (wokeAt[i] !== undefined && scheduler.now - wokeAt[i] < 10_000) result.convictionsOnWaking.push(conviction);
    });
    return m;
  };

  for (let i = 0; i < options.nodes; i++) {
    index.set(address(i), i);
    nodes.push(create(i));
    up.push(true);
    pausedUntil.push(0);
    pauseStarted.push(0);
  }

  const partitioned = (a: number, b: number) =>
    (options.partitions ?? []).some((p) => scheduler.now >= p.at && scheduler.now < p.until && p.side.includes(a) !== p.side.includes(b));
  const reachable = (i: number) => up[i] && pausedUntil[i] <= scheduler.now;

  const tick = (i: number, life: Membership) => {
    if (nodes[i] !== life || !up[i]) return; // crashed (and maybe restarted): this tick chain ends
    if (pausedUntil[i] > scheduler.now) {
      scheduler.at(pausedUntil[i], () => tick(i, life), `wake ${i}`);
      return;
    }
    life.tick();
    const attempt = (target: string): boolean => {
      const j = index.get(target)!;
      if (!reachable(j) || partitioned(i, j) || random.chance(exchangeFails)) return false;
      const { bytes: sent } = exchange(life, nodes[j]);
      result.exchanges++;
      if (scheduler.now >= warmup) bytes += sent[0] + sent[1] + overhead;
      return true;
    };
    life.gossipTargets().forEach((target, k) => {
      if (attempt(target) || k > 0) return;
      // The round's live exchange failed: one retry with another live member, as the networked node does.
      const retry = life.retryTarget(target);
      if (retry) attempt(retry);
    });
    scheduler.schedule(interval * (0.9 + 0.2 * random.float()), () => tick(i, life), `tick ${i}`);
  };
  // Between rounds each node judges its peers every judgeIntervalMs, as the networked node's timer does.
  const judgeEvery = options.timing?.judgeIntervalMs ?? interval / 4;
  const judge = (i: number, life: Membership) => {
    if (nodes[i] !== life || !up[i]) return;
    if (pausedUntil[i] > scheduler.now) {
      scheduler.at(pausedUntil[i], () => judge(i, life), `judge ${i}`);
      return;
    }
    life.judge();
    scheduler.schedule(judgeEvery, () => judge(i, life), `judge ${i}`);
  };
  for (let i = 0; i < options.nodes; i++) {
    const life = nodes[i];
    scheduler.at(random.float() * interval, () => tick(i, life), `tick ${i}`);
    scheduler.at(random.float() * judgeEvery, () => judge(i, life), `judge ${i}`);
  }

  for (const crash of options.crashes ?? []) {
    scheduler.at(crash.at, () => {
      up[crash.node] = false;
      crashedAt.set(crash.node, crash.at);
      convictedBy.set(crash.node, new Map());
    }, `crash ${crash.node}`);
    if (crash.restartAt !== undefined) {
      scheduler.at(crash.restartAt, () => {
        up[crash.node] = true;
        crashedAt.delete(crash.node);
        lifeStart[crash.node] = scheduler.now;
        const life = create(crash.node);
        nodes[crash.node] = life;
        scheduler.schedule(0, () => tick(crash.node, life), `restart ${crash.node}`);
        scheduler.schedule(judgeEvery, () => judge(crash.node, life), `restart ${crash.node}`);
      }, `restart ${crash.node}`);
    }
  }
  for (const pause of options.pauses ?? []) {
    scheduler.at(pause.at, () => {
      pausedUntil[pause.node] = pause.at + pause.ms;
      pauseStarted[pause.node] = pause.at;
    }, `pause ${pause.node}`);
    scheduler.at(pause.at + pause.ms, () => (wokeAt[pause.node] = scheduler.now), `wake ${pause.node}`);
  }

  let writeAt: number | undefined;
  if (options.write) {
    const { node, at } = options.write;
    scheduler.at(at, () => {
      nodes[node].setLocalState('spread', at);
      writeAt = at;
    }, 'write');
  }
  const holdsWrite = (i: number) => {
    const w = options.write!;
    return i === w.node || nodes[i].peerValue(address(w.node), 'spread') === w.at;
  };

  // Sample once per interval: node-hours, and the spread of the write.
  const sample = () => {
    if (scheduler.now >= warmup) result.nodeHours += up.filter(Boolean).length * (interval / 3_600_000);
    if (writeAt !== undefined && result.spreadRounds === undefined) {
      const live = nodes.map((_, i) => i).filter((i) => up[i]);
      if (live.every(holdsWrite)) result.spreadRounds = Math.ceil((scheduler.now - writeAt) / interval);
    }
    if (scheduler.now + interval <= options.durationMs) scheduler.schedule(interval, sample, 'sample');
  };
  scheduler.at(0, sample, 'sample');
  scheduler.runUntil(options.durationMs);

  for (const [crashed, observers] of convictedBy) {
    const at = crashedAt.get(crashed);
    if (at === undefined) continue; // restarted before the end: detection counted only for those still down
    // Those that were up when it crashed and stayed up (a node restarted since never knew it).
    const watchers = nodes.map((_, i) => i).filter((i) => i !== crashed && up[i] && (lifeStart[i] ?? 0) <= at);
    for (const w of watchers) if (observers.has(w)) result.detectionPairsMs.push(observers.get(w)! - at);
    const all = watchers.every((w) => observers.has(w));
    result.detectionMs.push(all ? Math.max(...watchers.map((w) => observers.get(w)!)) - at : Infinity);
  }
  for (const pause of options.pauses ?? []) {
    const observers = pausedConvictions.get(pause.node);
    if (observers && observers.size > 0) result.pausedConvicted.push({ target: pause.node, pauseMs: pause.ms, observers: observers.size });
  }
  const measured = Math.max(1, options.durationMs - warmup) / 1000;
  result.bytesPerNodePerSecond = bytes / options.nodes / measured;
  const live = nodes.map((_, i) => i).filter((i) => up[i]);
  result.converged = live.every((i) =>
    live.every((j) => {
      if (i === j) return true;
      const peer = address(j);
      if (nodes[i].peerGeneration(peer) !== nodes[j].generation) return false;
      const keys = nodes[j].localKeys();
      return keys.every((k) => JSON.stringify(nodes[i].peerValue(peer, k)) === JSON.stringify(nodes[j].getLocalState(k)));
    }),
  );
  return result;
}
