import { schedulePartitions } from '../../../lib/sim/faults.js';
import { Network } from '../../../lib/sim/network.js';
import { SimRandom } from '../../../lib/sim/random.js';
import { Scheduler } from '../../../lib/sim/scheduler.js';
import { percentiles, round } from '../../../lib/sim/stats.js';
import type { Chart, Series, Shade } from '../svg.js';
import { type Election, PbController } from './primary-backup-controller.js';
import type { Out, PbMessage } from './primary-backup-messages.js';
import { PbNode } from './primary-backup-node.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, extraString, goalLines, lines } from './scenario.js';

const ROUTINGS = ['gateway', 'forward'] as const;
const DETECTIONS = ['both', 'polling'] as const;
const READ_TARGETS = ['primary', 'any'] as const;
const GATEWAY = 'gw';
const KEYS = 10;

export interface PrimaryBackupOptions {
  seed: number;
  /** Servers in the group. Default 3. */
  nodes: number;
  /** Default 5 ms (one data centre), jitter half of it. */
  latency: number;
  loss: number;
  partitions: number;
  /** Default 60,000 ms. */
  duration: number;
  /** `gateway`: the gateway sends writes to the primary; `forward`: to any server, which forwards. Default gateway. */
  routing: (typeof ROUTINGS)[number];
  /** Client writes and reads per second. Default 20 each. */
  rate: number;
  /** Mean time between primary crashes, ms. Default 8,000. */
  crashEvery: number;
  /** Mean time a crashed primary stays down, ms. Default 3,000. */
  downFor: number;
  /** Probability a crashed primary never returns. Default 0.2. */
  neverReturn: number;
  /** Replace a server down this long, ms. Default 10,000. */
  replaceAfter: number;
  /** A write not acknowledged within this time is indeterminate, ms. Default 1,000. */
  timeout: number;
  /** `both`: a failed send to the primary starts an election at once, and polling too; `polling`: polling only. Default both. */
  detect: (typeof DETECTIONS)[number];
  /** Where the client reads (R1): `primary`, the one the gateway knows; `any`, a random server. Default primary. */
  readFrom?: (typeof READ_TARGETS)[number];
  /** A crashed primary loses the messages it had in flight. Default true. */
  loseInFlight?: boolean;
  /**
   * Copies a write needs before the primary acknowledges it, the primary's
   * own included. Default: the group's W (2). 1 is an injected bug (W1: the
   * primary acknowledges before any backup has the write) that the checker
   * must catch; the elections still assume W2.
   */
  ackQuorum?: number;
}

export interface PrimaryBackupRun {
  seed: number;
  writes: number;
  acked: number;
  failed: number;
  indeterminate: number;
  /** Acknowledged writes missing from the final log: must be 0. */
  lostAcked: string[];
  /** Servers whose committed prefix disagrees with the final primary's log. */
  inconsistent: string[];
  reads: number;
  staleReads: number;
  failedReads: number;
  crashes: number;
  neverReturned: number;
  replacements: number;
  elections: Election[];
  /** Time from each primary crash until an election started, ms. */
  detection: number[];
  unavailable: { start: number; end: number }[];
  availableAtEnd: boolean;
  /** Protocol exceptions (for example, an attempt to overwrite a committed entry). */
  failures: string[];
  messages: number;
  /** For the picture: log length per server over time, crash windows, unavailability. */
  timeline: { t: number; lengths: Record<string, number> }[];
  faults: { kind: string; start: number; end: number; detail: string }[];
}

/** One run of the primary-backup group under random primary crashes. */
export function runPrimaryBackup(o: PrimaryBackupOptions, progress?: (f: number) => void): PrimaryBackupRun {
  const scheduler = new Scheduler();
  const root = new SimRandom(o.seed);
  const network = new Network(scheduler, root.fork(), { latency: o.latency, jitter: o.latency / 2, loss: o.loss });
  const chaos = root.fork();
  const client = root.fork();
  const writeQuorum = 2;
  const names = Array.from({ length: o.nodes }, (_, i) => `r${i}`);
  const controller = new PbController(GATEWAY, names, { writeQuorum, pollEvery: 200, pollTimeout: 800, electionTimeout: 1000, replaceAfter: o.replaceAfter, detectOnFailedSend: o.detect === 'both' });
  const servers = new Map<string, PbNode>();
  const failures: string[] = [];
  let messages = 0;

  const guard = (who: string, run: () => Out[]): Out[] => {
    try {
      return run();
    } catch (err) {
      failures.push(`${round(scheduler.now)} ms ${who}: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
  };
  const send = (from: string, out: Out[]) => {
    for (const { to, message } of out) {
      messages++;
      if (network.send(from, to, message, 64)) continue;
      if (!network.isUp(from)) continue;
      // Delivery failed at once (the destination is down): the sender notices.
      if (from === GATEWAY) {
        send(GATEWAY, controller.sendFailed(to, scheduler.now));
        clientSendFailed(message);
      } else {
        send(from, guard(from, () => servers.get(from)!.sendFailed(to, message)));
      }
    }
  };
  const addServer = (name: string) => {
    const node = new PbNode(name, { writeQuorum: o.ackQuorum ?? writeQuorum, heartbeat: 100, batch: 64, controller: GATEWAY });
    servers.set(name, node);
    network.addNode(name);
    network.listen(name, (from, message) => send(name, guard(name, () => node.receive(from, message as PbMessage, scheduler.now))));
    const tick = () => {
      if (network.isUp(name)) send(name, guard(name, () => node.tick(scheduler.now)));
      scheduler.schedule(20, tick, 'tick');
    };
    scheduler.schedule(client.float() * 20, tick, 'tick');
  };

  // ---- the client, at the gateway ----
  interface ClientWrite {
    id: string;
    key: string;
    invokedAt: number;
    outcome: 'pending' | 'ok' | 'fail' | 'info';
    index: number;
  }
  const writes = new Map<string, ClientWrite>();
  const reads = new Map<string, { key: string; invokedAt: number; ackedIndex: number; done: boolean }>();
  const ackedIndex = new Map<string, number>();
  let staleReads = 0;
  let failedReads = 0;
  const clientSendFailed = (message: PbMessage) => {
    if (message.type === 'write') finishWrite(message.writeId, 'fail', 0);
    if (message.type === 'read' && !reads.get(message.readId)!.done) {
      reads.get(message.readId)!.done = true;
      failedReads++;
    }
  };
  const finishWrite = (id: string, outcome: ClientWrite['outcome'], index: number) => {
    const w = writes.get(id);
    if (!w || w.outcome !== 'pending') return;
    w.outcome = outcome;
    w.index = index;
    if (outcome === 'ok') ackedIndex.set(w.key, Math.max(ackedIndex.get(w.key) ?? 0, index));
  };
  network.addNode(GATEWAY);
  network.listen(GATEWAY, (from, raw) => {
    const message = raw as PbMessage;
    if (message.type === 'writeAck') return finishWrite(message.writeId, message.ok ? 'ok' : 'fail', message.index);
    if (message.type === 'readResult') {
      const r = reads.get(message.readId);
      if (!r || r.done) return;
      r.done = true;
      if (message.index < r.ackedIndex) staleReads++;
      return;
    }
    send(GATEWAY, controller.receive(from, message, scheduler.now));
  });
  for (const name of names) addServer(name);

  const interval = 1000 / o.rate;
  let writeNo = 0;
  let readNo = 0;
  const clientStep = () => {
    if (scheduler.now >= o.duration) return;
    const id = `w${writeNo++}`;
    const key = `k${client.int(0, KEYS - 1)}`;
    writes.set(id, { id, key, invokedAt: scheduler.now, outcome: 'pending', index: 0 });
    const target = o.routing === 'gateway' ? controller.route() : client.pick(controller.members);
    if (target === undefined) finishWrite(id, 'fail', 0);
    else send(GATEWAY, [{ to: target, message: { type: 'write', writeId: id, key, value: id, replyTo: GATEWAY } }]);
    scheduler.schedule(o.timeout, () => finishWrite(id, 'info', 0), 'timeout');
    // A read from one server (R1): the primary the gateway knows, or any server the client picks.
    const readId = `r${readNo++}`;
    const readKey = `k${client.int(0, KEYS - 1)}`;
    reads.set(readId, { key: readKey, invokedAt: scheduler.now, ackedIndex: ackedIndex.get(readKey) ?? 0, done: false });
    const anyServer = client.pick(controller.members);
    const reader = (o.readFrom ?? 'primary') === 'primary' ? controller.route() : anyServer;
    if (reader === undefined) {
      reads.get(readId)!.done = true;
      failedReads++;
    } else send(GATEWAY, [{ to: reader, message: { type: 'read', readId, key: readKey, replyTo: GATEWAY } }]);
    scheduler.schedule(o.timeout, () => {
      const r = reads.get(readId)!;
      if (!r.done) {
        r.done = true;
        failedReads++;
      }
    }, 'timeout');
    scheduler.schedule(interval, clientStep, 'client');
  };
  const controllerTick = () => {
    send(GATEWAY, controller.tick(scheduler.now));
    for (const name of controller.spawned) if (!servers.has(name)) addServer(name);
    scheduler.schedule(20, controllerTick, 'tick');
  };
  send(GATEWAY, controller.bootstrap(0));
  scheduler.schedule(1, controllerTick, 'tick');
  scheduler.schedule(500, clientStep, 'client');

  // ---- the nemesis: crash the primary now and then ----
  const faults: PrimaryBackupRun['faults'] = [];
  const downNow = new Map<string, { start: number; returns: boolean }>();
  let crashes = 0;
  let neverReturned = 0;
  const crashTimes: number[] = [];
  const crashPrimary = () => {
    if (scheduler.now >= o.duration) return;
    const primary = controller.primary;
    if (primary && network.isUp(primary) && !downNow.has(primary)) {
      crashes++;
      crashTimes.push(scheduler.now);
      const returns = !chaos.chance(o.neverReturn);
      if (!returns) neverReturned++;
      network.crash(primary, { loseInFlight: o.loseInFlight ?? true });
      downNow.set(primary, { start: scheduler.now, returns });
      if (returns) scheduler.schedule(Math.max(100, chaos.exponential(o.downFor)), () => bringBack(primary), 'restart');
    }
    scheduler.schedule(chaos.exponential(o.crashEvery), crashPrimary, 'nemesis');
  };
  // --crash-every 0: no crashes (to measure what the failures cost).
  const bringBack = (name: string) => {
    const down = downNow.get(name);
    if (!down) return;
    downNow.delete(name);
    faults.push({ kind: 'crash', start: down.start, end: scheduler.now, detail: name });
    servers.get(name)!.restart(true);
    network.restart(name);
  };
  if (o.crashEvery > 0) scheduler.schedule(chaos.exponential(o.crashEvery), crashPrimary, 'nemesis');
  schedulePartitions(network, chaos.fork(), o.partitions, o.duration * 0.2, o.duration * 0.8);

  const timeline: PrimaryBackupRun['timeline'] = [];
  const sample = () => {
    const lengths: Record<string, number> = {};
    // Servers that are down, or were replaced for good, have no line.
    for (const [name, node] of servers) lengths[name] = network.isUp(name) && !controller.retired.includes(name) ? node.commit : NaN;
    timeline.push({ t: scheduler.now, lengths });
    progress?.(Math.min(1, scheduler.now / o.duration));
    if (scheduler.now < o.duration + 10_000) scheduler.schedule(250, sample, 'sample');
  };
  scheduler.schedule(0, sample, 'sample');

  scheduler.runUntil(o.duration);
  // Heal, bring back every server that returns, and let the group settle.
  network.heal();
  network.setAllLinks({ loss: 0 });
  for (const [name, down] of [...downNow]) if (down.returns) bringBack(name);
  scheduler.runUntil(o.duration + 10_000);
  for (const [name, down] of downNow) faults.push({ kind: 'crash (never returned)', start: down.start, end: scheduler.now, detail: name });
  for (const w of network.faults) faults.push({ kind: w.kind, start: w.start, end: w.end ?? scheduler.now, detail: w.detail });

  // ---- checks ----
  // The reference log: the primary's, or if there is none, the most up-to-date live member's.
  const live = controller.members.filter((m) => network.isUp(m));
  const best = [...live].sort((a, b) => {
    const x = servers.get(a)!;
    const y = servers.get(b)!;
    return y.lastEpoch - x.lastEpoch || y.lastIndex - x.lastIndex;
  })[0];
  const referenceName = controller.available && controller.primary && network.isUp(controller.primary) ? controller.primary : best;
  const reference = referenceName ? servers.get(referenceName)! : undefined;
  const inLog = new Set(reference?.log.map((e) => e.writeId) ?? []);
  const all = [...writes.values()];
  const lostAcked = all.filter((w) => w.outcome === 'ok' && !inLog.has(w.id)).map((w) => w.id);
  const inconsistent = live.filter((m) => {
    const node = servers.get(m)!;
    for (let i = 0; i < node.commit; i++) if (reference?.log[i]?.writeId !== node.log[i]!.writeId || reference?.log[i]?.epoch !== node.log[i]!.epoch) return true;
    return false;
  });
  // Unavailability: from a write that failed after a success until the next success.
  const unavailable: { start: number; end: number }[] = [];
  let openAt: number | undefined;
  for (const w of all.sort((a, b) => a.invokedAt - b.invokedAt)) {
    if (w.outcome === 'ok') {
      if (openAt !== undefined) unavailable.push({ start: openAt, end: w.invokedAt });
      openAt = undefined;
    } else if (openAt === undefined) openAt = w.invokedAt;
  }
  if (openAt !== undefined) unavailable.push({ start: openAt, end: o.duration });
  return {
    seed: o.seed,
    writes: all.length,
    acked: all.filter((w) => w.outcome === 'ok').length,
    failed: all.filter((w) => w.outcome === 'fail').length,
    indeterminate: all.filter((w) => w.outcome === 'info').length,
    lostAcked,
    inconsistent,
    reads: reads.size,
    staleReads,
    failedReads,
    crashes,
    neverReturned,
    replacements: controller.retired.length,
    elections: controller.elections.slice(1),
    // From each primary crash to the first election started after it.
    detection: crashTimes
      .map((t) => controller.elections.find((e) => e.startedAt >= t)?.startedAt)
      .map((started, i) => (started === undefined ? NaN : started - crashTimes[i]!))
      .filter(Number.isFinite),
    unavailable,
    availableAtEnd: controller.available && controller.primary !== undefined && network.isUp(controller.primary),
    failures,
    messages,
    timeline,
    faults,
  };
}

export const primaryBackup: Scenario = {
  name: 'primary-backup',
  summary: 'three servers, W2R1, elections with epochs, catch-up and replacement under random primary crashes',
  extraHelp: [
    `--routing R       ${ROUTINGS.join('|')} (default gateway)`,
    '--rate N          client writes (and reads) per second (default 20)',
    '--crash-every MS  mean time between primary crashes (default 8000)',
    '--down-for MS     mean time a crashed primary stays down (default 3000)',
    '--never-return P  probability a crashed primary never returns (default 0.2)',
    '--replace-after MS  replace a server down this long (default 10000)',
    `--detect D        ${DETECTIONS.join('|')}: elect on a failed send and by polling, or by polling only (default both)`,
    `--read-from R     ${READ_TARGETS.join('|')}: where the client reads, the primary or a random server (default primary)`,
    '--lose-in-flight B  yes|no: a crashed primary loses the messages it had in flight (default yes)',
    '--ack-quorum N    copies before the primary acknowledges (default 2; 1 injects the W1 bug the checker must catch)',
    '--seeds N         run N seeds from --seed on and sum up (default 1)',
  ],
  run(options: ScenarioOptions): ScenarioResult {
    const o: PrimaryBackupOptions = {
      seed: options.seed,
      nodes: options.nodes ?? 3,
      latency: options.latency ?? 5,
      loss: options.loss ?? 0,
      partitions: options.partitions ?? 0,
      duration: options.duration ?? 60_000,
      routing: extraString(options, 'routing', ROUTINGS, 'gateway'),
      rate: extraNumber(options, 'rate', 20),
      crashEvery: extraNumber(options, 'crash-every', 8000),
      downFor: extraNumber(options, 'down-for', 3000),
      neverReturn: extraNumber(options, 'never-return', 0.2),
      replaceAfter: extraNumber(options, 'replace-after', 10_000),
      timeout: 1000,
      detect: extraString(options, 'detect', DETECTIONS, 'both'),
      readFrom: extraString(options, 'read-from', READ_TARGETS, 'primary'),
      loseInFlight: extraString(options, 'lose-in-flight', ['yes', 'no'] as const, 'yes') === 'yes',
      ackQuorum: extraNumber(options, 'ack-quorum', 2),
    };
    if (!Number.isInteger(o.ackQuorum) || o.ackQuorum! < 1 || o.ackQuorum! > o.nodes) throw new RangeError(`--ack-quorum must be 1..${o.nodes}`);
    if (o.nodes < 3) throw new RangeError('primary-backup needs at least 3 nodes');
    const seeds = extraNumber(options, 'seeds', 1);
    const runs: PrimaryBackupRun[] = [];
    for (let i = 0; i < seeds; i++) runs.push(runPrimaryBackup({ ...o, seed: o.seed + i }, (f) => options.progress?.((i + f) / seeds)));
    return summarize(o, runs);
  },
};

function summarize(o: PrimaryBackupOptions, runs: PrimaryBackupRun[]): ScenarioResult {
  const sum = (f: (r: PrimaryBackupRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  const elections = runs.flatMap((r) => r.elections);
  const decided = elections.filter((e) => e.decidedAt !== undefined);
  const failover = percentiles(decided.map((e) => e.decidedAt! - e.startedAt));
  const detection = percentiles(runs.flatMap((r) => r.detection));
  const windows = runs.flatMap((r) => r.unavailable.map((w) => w.end - w.start));
  const windowStats = percentiles(windows);
  const lostAcked = sum((r) => r.lostAcked.length);
  const failures = runs.flatMap((r) => r.failures.map((f) => `seed ${r.seed}: ${f}`));
  const inconsistent = runs.filter((r) => r.inconsistent.length > 0).map((r) => `seed ${r.seed}: ${r.inconsistent.join(',')}`);
  const byReason: Record<string, number> = {};
  for (const e of elections) byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;
  const goals: Goal[] = [
    {
      text: `zero acknowledged writes lost over ${runs.length} seed${runs.length === 1 ? '' : 's'} with random primary crashes: ${lostAcked} lost`,
      met: lostAcked === 0 && failures.length === 0 && inconsistent.length === 0,
    },
  ];
  const report = {
    scenario: 'primary-backup',
    seed: o.seed,
    seeds: runs.length,
    nodes: o.nodes,
    routing: o.routing,
    detect: o.detect,
    readFrom: o.readFrom ?? 'primary',
    loseInFlight: o.loseInFlight ?? true,
    ackQuorum: o.ackQuorum ?? 2,
    latencyMs: o.latency,
    loss: o.loss,
    partitions: o.partitions,
    durationMs: o.duration,
    writes: sum((r) => r.writes),
    acked: sum((r) => r.acked),
    failedWrites: sum((r) => r.failed),
    indeterminateWrites: sum((r) => r.indeterminate),
    lostAckedWrites: lostAcked,
    lostAckedExamples: runs.flatMap((r) => r.lostAcked.map((id) => `seed ${r.seed}: ${id}`)).slice(0, 10),
    /** The seeds that lost an acknowledged write (a checker that works finds the W1 bug in the first few). */
    seedsWithLostWrites: runs.filter((r) => r.lostAcked.length > 0).map((r) => r.seed),
    inconsistent,
    reads: sum((r) => r.reads),
    staleReads: sum((r) => r.staleReads),
    failedReads: sum((r) => r.failedReads),
    crashes: sum((r) => r.crashes),
    neverReturned: sum((r) => r.neverReturned),
    replacements: sum((r) => r.replacements),
    elections: elections.length,
    electionsByReason: byReason,
    detectionMs: { median: round(detection.median), p95: round(detection.p95), max: round(detection.max) },
    failoverMs: { median: round(failover.median), p95: round(failover.p95), max: round(failover.max) },
    unavailability: {
      windows: windows.length,
      totalMs: round(windows.reduce((a, b) => a + b, 0)),
      medianMs: round(windowStats.median),
      maxMs: round(windowStats.max),
      fraction: round(windows.reduce((a, b) => a + b, 0) / (o.duration * runs.length), 4),
    },
    unavailableAtEnd: runs.filter((r) => !r.availableAtEnd).map((r) => r.seed),
    failures: failures.slice(0, 10),
    messagesPerWrite: round(sum((r) => r.messages) / Math.max(1, sum((r) => r.writes)), 2),
    goals,
  };
  const text = [
    lines(`primary-backup: ${o.nodes} servers, W${o.ackQuorum ?? 2}R1 (reads from ${o.readFrom === 'any' ? 'any server' : 'the primary'}), ${o.routing} routing, detection ${o.detect === 'both' ? 'on failed send and by polling' : 'by polling'}, ${runs.length === 1 ? `seed ${o.seed}` : `seeds ${o.seed}..${o.seed + runs.length - 1}`}`, [
      ['run', `${o.duration / 1000} s each, ${o.rate} writes/s and reads/s, latency ${o.latency} ms, loss ${o.loss}, ${o.partitions} partitions`],
      ['crashes', `${report.crashes} primary crashes (${report.neverReturned} never returned), ${report.replacements} servers replaced; in-flight messages ${report.loseInFlight ? 'lost' : 'still delivered'}`],
      ['elections', `${report.elections} (${Object.entries(byReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`],
      ['detection', `crash to election: median ${report.detectionMs.median} ms, p95 ${report.detectionMs.p95}, max ${report.detectionMs.max}`],
      ['failover', `election to promotion: median ${report.failoverMs.median} ms, p95 ${report.failoverMs.p95}, max ${report.failoverMs.max} (waits for a quorum of reports)`],
      ['writes', `${report.writes}: ${report.acked} acknowledged, ${report.failedWrites} refused, ${report.indeterminateWrites} timed out`],
      ['acked lost', `${lostAcked}${report.lostAckedExamples.length ? ` (${report.lostAckedExamples.join('; ')})` : ''}`],
      ['reads', `${report.reads}: ${report.staleReads} stale, ${report.failedReads} failed`],
      ['unavailable', `${report.unavailability.windows} windows, ${report.unavailability.totalMs} ms in all (${round(report.unavailability.fraction * 100, 2)}%), median ${report.unavailability.medianMs} ms, max ${report.unavailability.maxMs} ms`],
      ['stuck at end', report.unavailableAtEnd.length === 0 ? 'none' : `seeds ${report.unavailableAtEnd.join(', ')} (a quorum never came back)`],
      ['consistency', inconsistent.length === 0 && failures.length === 0 ? 'every committed prefix agrees' : [...inconsistent, ...failures].slice(0, 5).join('; ')],
      ['messages', `${report.messagesPerWrite} per write`],
    ]),
    'goals:',
    goalLines(goals),
  ].join('\n');
  return { report, text, chart: chartOf(runs[0]!) };
}

function chartOf(run: PrimaryBackupRun): Chart {
  const names = [...new Set(run.timeline.flatMap((s) => Object.keys(s.lengths)))].sort();
  const series: Series[] = names.map((name) => ({
    name,
    points: run.timeline.filter((s) => Number.isFinite(s.lengths[name])).map((s) => [s.t / 1000, s.lengths[name]!] as [number, number]),
    step: true,
  }));
  const shades: Shade[] = [
    ...run.faults.map((f) => ({ start: f.start / 1000, end: f.end / 1000, label: `${f.kind}: ${f.detail}` })),
    ...run.unavailable.map((w) => ({ start: w.start / 1000, end: w.end / 1000, label: 'writes unavailable', color: '#d62728' })),
  ];
  return { title: `primary-backup (seed ${run.seed}): committed log length per server; crashes grey, unavailability red`, xLabel: 'virtual time (s)', yLabel: 'committed entries', series, shades };
}
