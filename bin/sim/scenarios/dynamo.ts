import { type KeyRecord, EMPTY_RECORD, mergeRecords } from '../../../lib/merkle/record.js';
import { type VersionVector, covers } from '../../../lib/merkle/version-vector.js';
import { schedulePartitions } from '../../../lib/sim/faults.js';
import { Network } from '../../../lib/sim/network.js';
import { SimRandom } from '../../../lib/sim/random.js';
import { Scheduler } from '../../../lib/sim/scheduler.js';
import { round } from '../../../lib/sim/stats.js';
import { quorumsOverlap } from '../../../lib/vine/quorum.js';
import { HashRing, partitionOf } from '../../../lib/vine/ring.js';
import type { Chart, Series, Shade } from '../svg.js';
import { type DynamoMessage, DynamoNode, type Out, sameRecord, valueOf } from './dynamo-node.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, goalLines, lines } from './scenario.js';

const CLIENT = 'client';

export interface DynamoOptions {
  seed: number;
  /** Default 5. */
  nodes: number;
  n: number;
  r: number;
  w: number;
  /** Default 5 ms, jitter half of it. */
  latency: number;
  loss: number;
  partitions: number;
  /** Default 30,000 ms. */
  duration: number;
  /** Client writes per second, and as many reads. Default 20. */
  rate: number;
  /** Keys written. Default 20. */
  keys: number;
  /** Mean time between node crashes, ms. Default 6,000. */
  crashEvery: number;
  /** Mean time a crashed node stays down, ms. Default 3,000. */
  downFor: number;
  /** Most nodes down at once. Default N - W (1 with the defaults). */
  maxDown: number;
  /** Latency between nodes, when it differs from the client's, ms. Default: `latency`. */
  replicaLatency?: number;
}

export interface DynamoRun {
  seed: number;
  writes: number;
  acked: number;
  failedWrites: number;
  indeterminate: number;
  lostAcked: string[];
  reads: number;
  failedReads: number;
  staleReads: number;
  /** Stale reads of a write acknowledged with no fault between the write and the end of the read. */
  staleWithoutFault: number;
  crashes: number;
  /** Most hints held across the cluster at once. */
  maxHints: number;
  /** Siblings per key at the end: most, and mean. */
  maxSiblings: number;
  meanSiblings: number;
  /** From the end of the last fault (all nodes up, network whole; clients stopped with the last new fault) until every key's N replicas were identical and no hint was left, ms; NaN if not within 30 s. */
  convergeMs: number;
  messages: number;
  timeline: { t: number; hints: number; down: number }[];
  faults: { kind: string; start: number; end: number; detail: string }[];
}

interface Request {
  kind: 'put' | 'get';
  key: string;
  value: number;
  start: number;
  done: boolean;
  retried?: boolean;
}

/** One run: clients write and read through random coordinators while nodes crash and restart and the network partitions. */
export function runDynamo(o: DynamoOptions, progress?: (f: number) => void): DynamoRun {
  const scheduler = new Scheduler();
  const root = new SimRandom(o.seed);
  const network = new Network(scheduler, root.fork(), { latency: o.latency, jitter: o.latency / 2, loss: o.loss });
  const chaos = root.fork();
  const client = root.fork();
  const background = root.fork();
  const names = Array.from({ length: o.nodes }, (_, i) => `v${i}`);
  const ring = new HashRing(names);
  const config = { n: o.n, r: o.r, w: o.w, suspectFor: 1000, replicaTimeout: 300, timeout: 1000 };
  const nodes = new Map(names.map((name) => [name, new DynamoNode(name, ring, config)]));
  const keys = Array.from({ length: o.keys }, (_, i) => `key-${i}`);
  let messages = 0;

  const send = (from: string, outs: Out[]) => {
    for (const { to, message } of outs) {
      messages++;
      if (network.send(from, to, message, 64)) continue;
      if (!network.isUp(from)) continue;
      // Refused at once (the destination is down): the sender notices.
      const op = DynamoNode.opOf(message);
      if (from !== CLIENT && op !== undefined) send(from, nodes.get(from)!.failed(to, op, scheduler.now));
      if (from === CLIENT && (message.type === 'put' || message.type === 'get')) {
        // A refused connection: the client tries one other coordinator, as a client library would.
        const request = requests.get(message.req);
        if (request && !request.retried) {
          request.retried = true;
          send(CLIENT, [{ to: client.pick(names.filter((name) => name !== to)), message }]);
        } else finish(message.req, false, undefined);
      }
    }
  };
  for (const name of names) {
    network.addNode(name);
    network.listen(name, (from, message) => send(name, nodes.get(name)!.receive(from, message as DynamoMessage, scheduler.now)));
  }
  network.addNode(CLIENT);
  if (o.replicaLatency !== undefined) {
    for (const a of names) for (const b of names) if (a < b) network.setLink(a, b, { latency: o.replicaLatency, jitter: o.replicaLatency / 2 });
  }
  network.listen(CLIENT, (_from, message) => {
    const m = message as DynamoMessage;
    if (m.type === 'done') finish(m.req, m.ok, m.record);
  });

  // ---- the client ----
  const requests = new Map<number, Request>();
  const contexts = new Map<string, VersionVector>();
  const acked: { key: string; id: string; n: number; at: number; value: number }[] = [];
  const downWindows: { start: number; end: number }[] = [];
  let nextReq = 1;
  let seq = 0;
  let writes = 0;
  let failedWrites = 0;
  let reads = 0;
  let failedReads = 0;
  let staleReads = 0;
  let staleWithoutFault = 0;
  let clientOn = true;
  const faultBetween = (from: number, to: number) =>
    network.faults.some((f) => f.start <= to && (f.end ?? Infinity) >= from) || downWindows.some((d) => d.start <= to && d.end >= from);
  function finish(req: number, ok: boolean, record: KeyRecord | undefined): void {
    const request = requests.get(req);
    if (!request || request.done) return;
    request.done = true;
    requests.delete(req);
    if (request.kind === 'put') {
      if (!ok || !record) return void failedWrites++;
      const sibling = record.siblings.find((s) => valueOf(s.value) === request.value);
      if (sibling) acked.push({ key: request.key, id: sibling.id, n: sibling.n, at: scheduler.now, value: request.value });
      else if (!record.siblings.some(() => true)) failedWrites++;
      contexts.set(request.key, record.context);
      return;
    }
    if (!ok || !record) return void failedReads++;
    contexts.set(request.key, record.context);
    // Stale: misses a write acknowledged before this read began. The faults check widens the window by the time a suspicion can outlast its fault (a timeout, then the suspicion).
    const missed = acked.filter((a) => a.key === request.key && a.at < request.start && !covers(record.context, a.id, a.n));
    if (missed.length > 0) {
      staleReads++;
      if (missed.some((a) => !faultBetween(a.at - config.suspectFor - config.replicaTimeout, scheduler.now))) staleWithoutFault++;
    }
  }
  const issue = (kind: 'put' | 'get') => {
    if (!clientOn) return;
    const key = client.pick(keys);
    const req = nextReq++;
    const value = ++seq;
    requests.set(req, { kind, key, value, start: scheduler.now, done: false });
    if (kind === 'put') writes++;
    else reads++;
    const via = client.pick(names);
    const message: DynamoMessage = kind === 'put' ? { type: 'put', req, key, value, context: contexts.get(key) } : { type: 'get', req, key };
    send(CLIENT, [{ to: via, message }]);
    // No answer at all (coordinator crashed or cut off): the outcome is unknown.
    scheduler.schedule(config.timeout * 2, () => requests.get(req) && !requests.get(req)!.done && (requests.delete(req), kind === 'put' ? indeterminate++ : failedReads++), 'client timeout');
  };
  let indeterminate = 0;
  const every = (ms: number, run: () => void, label: string) => {
    const loop = () => {
      if (!clientOn && label.startsWith('client')) return;
      run();
      scheduler.schedule(ms, loop, label);
    };
    scheduler.schedule(ms, loop, label);
  };
  every(1000 / o.rate, () => issue('put'), 'client put');
  every(1000 / o.rate, () => issue('get'), 'client get');

  // ---- the nodes' timers ----
  let stopped = false;
  const nodeLoop = (ms: number, run: (name: string, node: DynamoNode) => Out[], label: string) => {
    const loop = () => {
      if (stopped) return;
      for (const [name, node] of nodes) if (network.isUp(name)) send(name, run(name, node));
      scheduler.schedule(ms, loop, label);
    };
    scheduler.schedule(ms, loop, label);
  };
  nodeLoop(50, (_, node) => node.tick(scheduler.now), 'tick');
  nodeLoop(500, (_, node) => node.handoff(scheduler.now), 'handoff');
  // Every round each node syncs every partition it replicates with one other replica, as VineNode compares every shared root each round.
  const partitions = [...new Set(keys.map(partitionOf))];
  nodeLoop(1000, (_, node) => partitions.flatMap((p) => node.antiEntropy(p, scheduler.now, (peers) => (peers.length > 0 ? background.pick(peers) : undefined))), 'anti-entropy');

  // ---- faults ----
  const down = new Set<string>();
  const faults: DynamoRun['faults'] = [];
  let crashes = 0;
  const crashLoop = () => {
    if (scheduler.now >= o.duration * 0.8) return;
    const candidates = names.filter((name) => !down.has(name));
    if (down.size < o.maxDown && candidates.length > 0) {
      const victim = chaos.pick(candidates);
      const start = scheduler.now;
      const length = Math.max(200, chaos.exponential(o.downFor));
      network.crash(victim, { loseInFlight: true });
      nodes.get(victim)!.crashed();
      down.add(victim);
      crashes++;
      scheduler.schedule(length, () => {
        network.restart(victim);
        down.delete(victim);
        downWindows.push({ start, end: scheduler.now });
        faults.push({ kind: 'crash', start, end: scheduler.now, detail: victim });
      }, 'restart');
    }
    scheduler.schedule(chaos.exponential(o.crashEvery), crashLoop, 'crash');
  };
  scheduler.schedule(chaos.exponential(o.crashEvery), crashLoop, 'crash');
  schedulePartitions(network, chaos.fork(), o.partitions, o.duration * 0.1, o.duration * 0.8);

  // ---- sampling ----
  const timeline: DynamoRun['timeline'] = [];
  let maxHints = 0;
  const sample = () => {
    const hints = [...nodes.values()].reduce((sum, node) => sum + node.hintCount, 0);
    maxHints = Math.max(maxHints, hints);
    timeline.push({ t: scheduler.now, hints, down: down.size });
  };
  const sampleLoop = () => {
    sample();
    if (!stopped) scheduler.schedule(100, sampleLoop, 'sample');
  };
  scheduler.schedule(0, sampleLoop, 'sample');

  // Clients and new faults run for the first 80 % of the duration; then the faults still running end,
  // and the convergence clock starts at the end of the last one.
  const active = o.duration * 0.8;
  for (let step = 1; step <= 20; step++) {
    scheduler.runUntil((active * step) / 20);
    progress?.(step / 40);
  }
  clientOn = false;
  while (down.size > 0 || network.faults.some((f) => f.end === undefined)) scheduler.runUntil(scheduler.now + 10);
  const healedAt = scheduler.now;
  const converged = () => {
    if ([...nodes.values()].some((node) => node.hintCount > 0)) return false;
    for (const key of keys) {
      const owners = ring.preferenceList(partitionOf(key), o.n).map((id) => nodes.get(id)!.data.get(key) ?? EMPTY_RECORD);
      if (owners.some((record) => !sameRecord(record, owners[0]))) return false;
    }
    return true;
  };
  let convergeMs = NaN;
  while (scheduler.now - healedAt <= 30_000) {
    if (converged()) {
      convergeMs = scheduler.now - healedAt;
      break;
    }
    scheduler.runUntil(scheduler.now + 10);
  }
  // Requests still in flight at the end are settled (or timed out) before anything is judged.
  scheduler.runUntil(scheduler.now + config.timeout * 3);
  stopped = true;
  progress?.(1);

  // An acknowledged write is lost if no replica's record has seen it: not standing, and not replaced by a later write that saw it.
  const lostAcked: string[] = [];
  const union = new Map<string, KeyRecord>();
  for (const node of nodes.values()) for (const [key, record] of node.data) union.set(key, mergeRecords(union.get(key) ?? EMPTY_RECORD, record));
  for (const a of acked) {
    const owners = ring.preferenceList(partitionOf(a.key), o.n).map((id) => nodes.get(id)!.data.get(a.key) ?? EMPTY_RECORD);
    if (!owners.every((record) => covers(record.context, a.id, a.n))) lostAcked.push(`${a.key}=${a.value}`);
  }
  const siblings = keys.map((key) => union.get(key)?.siblings.length ?? 0);
  return {
    seed: o.seed,
    writes,
    acked: acked.length,
    failedWrites,
    indeterminate,
    lostAcked,
    reads,
    failedReads,
    staleReads,
    staleWithoutFault,
    crashes,
    maxHints,
    maxSiblings: Math.max(...siblings),
    meanSiblings: siblings.reduce((a, b) => a + b, 0) / siblings.length,
    convergeMs,
    messages,
    timeline,
    faults: [...faults, ...network.faults.map((f) => ({ kind: f.kind, start: f.start, end: f.end ?? scheduler.now, detail: f.detail }))],
  };
}

export const dynamo: Scenario = {
  name: 'dynamo',
  summary: 'a vine cluster: sloppy quorums (N, R, W), hinted handoff, read repair and anti-entropy under node crashes and partitions',
  extraHelp: [
    '--n N --r R --w W quorum (default 3, 2, 2)',
    '--rate N          client writes (and reads) per second (default 20)',
    '--keys N          keys written (default 20)',
    '--crash-every MS  mean time between node crashes (default 6000)',
    '--down-for MS     mean time a crashed node stays down (default 3000)',
    '--max-down N      most nodes down at once (default N - W)',
    '--replica-latency MS  latency between nodes, if not --latency',
    '--seeds N         run N seeds from --seed on and sum up (default 1)',
  ],
  run(options: ScenarioOptions): ScenarioResult {
    const n = extraNumber(options, 'n', 3);
    const w = extraNumber(options, 'w', 2);
    const o: DynamoOptions = {
      seed: options.seed,
      nodes: options.nodes ?? 5,
      n,
      r: extraNumber(options, 'r', 2),
      w,
      latency: options.latency ?? 5,
      loss: options.loss ?? 0,
      partitions: options.partitions ?? 0,
      duration: options.duration ?? 30_000,
      rate: extraNumber(options, 'rate', 20),
      keys: extraNumber(options, 'keys', 20),
      crashEvery: extraNumber(options, 'crash-every', 6000),
      downFor: extraNumber(options, 'down-for', 3000),
      replicaLatency: options.extra['replica-latency'] === undefined ? undefined : extraNumber(options, 'replica-latency', 5),
      maxDown: extraNumber(options, 'max-down', Math.max(1, n - w)),
    };
    if (o.nodes < o.n) throw new RangeError(`dynamo needs at least N = ${o.n} nodes`);
    const seeds = extraNumber(options, 'seeds', 1);
    const runs: DynamoRun[] = [];
    for (let i = 0; i < seeds; i++) runs.push(runDynamo({ ...o, seed: o.seed + i }, (f) => options.progress?.((i + f) / seeds)));
    return summarize(o, runs);
  },
};

function summarize(o: DynamoOptions, runs: DynamoRun[]): ScenarioResult {
  const sum = (f: (r: DynamoRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  const lost = sum((r) => r.lostAcked.length);
  const requests = sum((r) => r.writes + r.reads);
  const succeeded = sum((r) => r.acked + (r.reads - r.failedReads));
  const converge = runs.map((r) => r.convergeMs);
  const notConverged = runs.filter((r) => !Number.isFinite(r.convergeMs)).map((r) => r.seed);
  const overlap = quorumsOverlap(o.n, o.r, o.w);
  const goals: Goal[] = [
    { text: `zero acknowledged writes lost over ${runs.length} seed${runs.length === 1 ? '' : 's'} with crashes${o.partitions ? ' and partitions' : ''}: ${lost} lost`, met: lost === 0 },
    { text: `every key's ${o.n} replicas identical and no hint left after the last fault: ${runs.length - notConverged.length} of ${runs.length} runs`, met: notConverged.length === 0 },
  ];
  // With loss, a lost message is a failure of its own (a replica is suspected and a stand-in takes the write), so the goal needs a lossless network.
  if (overlap && o.loss === 0) goals.push({ text: `R + W > N: no stale read without a fault between the write and the read: ${sum((r) => r.staleWithoutFault)}`, met: sum((r) => r.staleWithoutFault) === 0 });
  const maxConverge = Math.max(...converge.filter(Number.isFinite), 0);
  const report = {
    scenario: 'dynamo',
    seed: o.seed,
    seeds: runs.length,
    nodes: o.nodes,
    n: o.n,
    r: o.r,
    w: o.w,
    latencyMs: o.latency,
    loss: o.loss,
    partitions: o.partitions,
    durationMs: o.duration,
    writes: sum((r) => r.writes),
    acked: sum((r) => r.acked),
    failedWrites: sum((r) => r.failedWrites),
    indeterminateWrites: sum((r) => r.indeterminate),
    lostAckedWrites: lost,
    lostAckedExamples: runs.flatMap((r) => r.lostAcked.map((k) => `seed ${r.seed}: ${k}`)).slice(0, 10),
    reads: sum((r) => r.reads),
    failedReads: sum((r) => r.failedReads),
    staleReads: sum((r) => r.staleReads),
    staleWithoutFault: sum((r) => r.staleWithoutFault),
    availability: round(succeeded / Math.max(1, requests), 4),
    crashes: sum((r) => r.crashes),
    maxHints: Math.max(...runs.map((r) => r.maxHints)),
    maxSiblings: Math.max(...runs.map((r) => r.maxSiblings)),
    meanSiblings: round(sum((r) => r.meanSiblings) / runs.length, 2),
    convergeMs: { mean: round(converge.filter(Number.isFinite).reduce((a, b) => a + b, 0) / Math.max(1, runs.length - notConverged.length)), max: round(maxConverge) },
    notConverged,
    messagesPerRequest: round(sum((r) => r.messages) / Math.max(1, requests), 2),
    goals,
  };
  const text = [
    lines(`dynamo: ${o.nodes} nodes, N${o.n} R${o.r} W${o.w}, ${runs.length === 1 ? `seed ${o.seed}` : `seeds ${o.seed}..${o.seed + runs.length - 1}`}`, [
      ['run', `${o.duration / 1000} s each, ${o.rate} writes/s and reads/s over ${o.keys} keys, latency ${o.latency} ms, loss ${o.loss}, ${o.partitions} partitions`],
      ['crashes', `${report.crashes} (at most ${o.maxDown} down at once; state kept across a crash, in-flight messages lost)`],
      ['writes', `${report.writes}: ${report.acked} acknowledged, ${report.failedWrites} ERR_UNAVAILABLE, ${report.indeterminateWrites} timed out`],
      ['acked lost', `${lost}${report.lostAckedExamples.length ? ` (${report.lostAckedExamples.join('; ')})` : ''}`],
      ['reads', `${report.reads}: ${report.failedReads} failed, ${report.staleReads} stale (${report.staleWithoutFault} with no fault between write and read)`],
      ['availability', `${round(report.availability * 100, 2)}% of requests succeeded`],
      ['siblings', `at most ${report.maxSiblings} per key at the end, ${report.meanSiblings} on average`],
      ['hints', `at most ${report.maxHints} held at once`],
      ['converged', `${report.convergeMs.mean} ms after the last fault on average, ${report.convergeMs.max} ms at most${notConverged.length ? `; not within 30 s: seeds ${notConverged.join(', ')}` : ''}`],
      ['messages', `${report.messagesPerRequest} per request`],
    ]),
    'goals:',
    goalLines(goals),
  ].join('\n');
  return { report, text, chart: chartOf(runs[0]!) };
}

function chartOf(run: DynamoRun): Chart {
  const series: Series[] = [
    { name: 'hints held', points: run.timeline.map((s) => [s.t / 1000, s.hints] as [number, number]), step: true },
    { name: 'nodes down x10', points: run.timeline.map((s) => [s.t / 1000, s.down * 10] as [number, number]), step: true, color: '#d62728' },
  ];
  const shades: Shade[] = run.faults.map((f) => ({ start: f.start / 1000, end: f.end / 1000, label: `${f.kind}: ${f.detail}` }));
  return { title: `dynamo (seed ${run.seed}): hinted-handoff backlog; faults shaded`, xLabel: 'virtual time (s)', yLabel: 'hints', series, shades };
}
