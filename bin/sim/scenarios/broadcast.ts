import { everywhereLatency, checkConvergence, checkLost } from '../../../lib/sim/checkers.js';
import { ReplicaCluster } from '../../../lib/sim/cluster.js';
import { schedulePartitions } from '../../../lib/sim/faults.js';
import { SimRandom } from '../../../lib/sim/random.js';
import { round } from '../../../lib/sim/stats.js';
import { STRUCTURES } from '../../../lib/sim/structures/index.js';
import type { Chart } from '../svg.js';
import { TOPOLOGIES, type TopologyKind } from '../../../lib/sim/topology.js';
import { type Goal, type Scenario, type ScenarioOptions, type ScenarioResult, extraNumber, extraString, goalLines, lines } from './scenario.js';

/**
 * Maelstrom's broadcast workload on a tendril structure: a client adds a
 * new value every 1/rate s to a random live node (the op is acknowledged
 * when that node has applied it); replicas replicate over stream links
 * along the topology, batching what is ready every `batch` ms; partitions
 * fall in the middle of the run. Afterwards the network heals and the run
 * waits up to 10 s, as Maelstrom does, before the checkers run.
 *
 * Latency is Maelstrom's stable latency: from the acknowledgement until
 * every node holds the value. Messages per op counts every frame sent
 * between nodes (handshakes included) over the whole run, divided by ops.
 */
export const broadcast: Scenario = {
  name: 'broadcast',
  summary: "Maelstrom's broadcast workload through a tendril structure: msgs/op and latency percentiles",
  extraHelp: [
    '--rate N          client ops per second (default 100)',
    `--topology T      ${TOPOLOGIES.join('|')} (default star)`,
    '--fanout N        fan-out of the tree topology (default 4)',
    '--batch MS        wait this long to batch what is ready into one frame (default 50)',
    '--jitter MS       link latency jitter (default 0)',
    `--structure S     ${Object.keys(STRUCTURES).join('|')} (default gset)`,
  ],
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const nodes = options.nodes ?? 25;
    const latency = options.latency ?? 100;
    const duration = options.duration ?? 20_000;
    const loss = options.loss ?? 0;
    const partitions = options.partitions ?? 0;
    const rate = extraNumber(options, 'rate', 100);
    const batch = extraNumber(options, 'batch', 50);
    const jitter = extraNumber(options, 'jitter', 0);
    const fanout = extraNumber(options, 'fanout', 4);
    const topologyKind = extraString(options, 'topology', TOPOLOGIES, 'star' as TopologyKind);
    const structureName = extraString(options, 'structure', Object.keys(STRUCTURES), 'gset');
    const structure = STRUCTURES[structureName]!;

    const cluster = new ReplicaCluster(structure, options.seed, {
      nodes,
      topology: topologyKind,
      fanout,
      batch,
      link: { latency, jitter, loss },
    });
    // Maelstrom starts the clients once every node is initialised: connect and sync first.
    await cluster.warmUp();
    const t0 = cluster.now;
    const random = new SimRandom(options.seed ^ 0xb40adca5);
    schedulePartitions(cluster.network, random.fork(), partitions, t0 + duration * 0.25, t0 + duration * 0.75);
    const client = random.fork();
    const interval = 1000 / rate;
    let attempted = 0;
    for (let t = interval; t <= duration; t += interval) {
      cluster.scheduler.at(t0 + t, () => {
        attempted++;
        cluster.write(client.pick(cluster.upNodes()));
      }, 'op');
    }
    for (let t = 1000; t <= duration; t += 1000) cluster.scheduler.at(t0 + t, () => options.progress?.(t / duration), 'progress');
    await cluster.advance(t0 + duration);
    cluster.network.heal();
    cluster.network.setAllLinks({ loss: 0 });
    // Wait until every value is everywhere, 10 s at most.
    const deadline = t0 + duration + 10_000;
    while (cluster.now < deadline && cluster.writes.some((w) => w.everywhereAt === undefined)) await cluster.advance(Math.min(deadline, cluster.now + 100));
    const settledAt = cluster.now;

    const ops = cluster.writes.length;
    const latencyStats = everywhereLatency(cluster.writes);
    const lost = checkLost(cluster);
    const divergent = checkConvergence(cluster);
    const msgsPerOp = ops === 0 ? 0 : cluster.frames / ops;
    const goals: Goal[] = [];
    const goalSize = nodes === 25 && latency === 100 && rate === 100 && duration === 20_000 && partitions === 0 && loss === 0;
    goals.push({ text: 'no value lost, every node converged', met: lost.length === 0 && divergent.length === 0 && cluster.failures.length === 0 });
    if (goalSize) {
      goals.push({
        text: `25 nodes, 100 ms, 100 ops/s, 20 s: msgs/op ${round(msgsPerOp, 2)} < 20 and median ${round(latencyStats.median)} ms < 400 and max ${round(latencyStats.max)} ms < 600`,
        met: msgsPerOp < 20 && latencyStats.median < 400 && latencyStats.max < 600,
      });
    }
    const report = {
      scenario: 'broadcast',
      seed: options.seed,
      structure: structure.name,
      nodes,
      topology: topologyKind,
      linkLatencyMs: latency,
      jitterMs: jitter,
      batchMs: batch,
      rate,
      durationMs: duration,
      loss,
      partitions: cluster.network.faults.map((w) => ({ kind: w.kind, start: round(w.start), end: round(w.end ?? settledAt), detail: w.detail })),
      ops,
      opsAttempted: attempted,
      frames: cluster.frames,
      msgsPerOp: round(msgsPerOp, 2),
      bytesPerOp: round(ops === 0 ? 0 : cluster.frameBytes / ops),
      latencyMs: { median: round(latencyStats.median), p95: round(latencyStats.p95), p99: round(latencyStats.p99), max: round(latencyStats.max) },
      lost: lost.length,
      divergentNodes: divergent,
      reconnects: cluster.reconnects,
      failures: cluster.failures.length,
      settledAtMs: round(settledAt),
      events: cluster.scheduler.executed,
      goals,
    };
    const text = [
      lines(`broadcast: ${nodes} nodes (${topologyKind}), ${structure.name}, seed ${options.seed}`, [
        ['links', `${latency} ms${jitter ? ` ± ${jitter}` : ''}, loss ${loss}, batch ${batch} ms`],
        ['workload', `${ops} ops at ${rate}/s over ${duration / 1000} s`],
        ['partitions', report.partitions.length === 0 ? 'none' : report.partitions.map((p) => `${p.kind} ${round(p.start / 1000, 1)}-${round(p.end / 1000, 1)} s`).join('; ')],
        ['msgs/op', `${report.msgsPerOp} (${cluster.frames} frames)`],
        ['latency', `median ${report.latencyMs.median} ms, p95 ${report.latencyMs.p95}, p99 ${report.latencyMs.p99}, max ${report.latencyMs.max}`],
        ['lost', `${lost.length}`],
        ['converged', divergent.length === 0 ? 'yes' : `no: ${divergent.join(', ')}`],
        ['reconnects', `${cluster.reconnects}, failures ${cluster.failures.length}`],
        ['events', `${cluster.scheduler.executed}`],
      ]),
      'goals:',
      goalLines(goals),
    ].join('\n');
    return { report, text, chart: holdersChart(cluster, nodes, settledAt) };
  },
};

/** How many nodes hold each value over time (every k-th value), faults shaded. */
function holdersChart(cluster: ReplicaCluster<any>, nodes: number, end: number): Chart {
  const step = Math.max(1, Math.floor(cluster.writes.length / 60));
  const series = cluster.writes
    .filter((_, i) => i % step === 0)
    .map((w) => {
      const times = [...w.firstHeld.values()].sort((a, b) => a - b);
      const points: [number, number][] = [[w.at / 1000, 0]];
      times.forEach((t, i) => points.push([t / 1000, i + 1]));
      return { points, color: '#1f77b4', opacity: 0.35, width: 1, step: true };
    });
  return {
    title: `broadcast: nodes holding each value (every ${step === 1 ? '' : `${step}th `}value)`,
    xLabel: 'virtual time (s)',
    yLabel: 'nodes holding the value',
    series,
    shades: cluster.network.faults.map((w) => ({ start: w.start / 1000, end: (w.end ?? end) / 1000, label: `${w.kind}: ${w.detail}` })),
    xMax: end / 1000,
    yMax: nodes,
  };
}
