import type { Replicable } from '../session/contract.js';
import { type CheckReport, checkCluster } from './checkers.js';
import { ReplicaCluster } from './cluster.js';
import { Nemesis } from './nemesis.js';
import { SimRandom } from './random.js';
import type { StructureUnderTest } from './structure.js';
import { round } from './stats.js';

export interface ConvergenceOptions {
  /** Default 5. */
  nodes: number;
  /** Writes attempted during the fault phase. Default 300. */
  ops: number;
  /** Length of the fault phase, virtual ms. Default 20,000. */
  duration: number;
  /** Highest per-frame loss drawn for a run (a lost frame breaks the connection). Default 0.3. */
  maxLoss: number;
  /**
   * Highest duplication drawn for a run. Stream links never duplicate a frame
   * (TCP does not); here duplication is the chance that a connection has a
   * parallel twin between the same pair, so every update arrives twice by
   * two streams, in different orders. Default 0.1.
   */
  maxDuplicate: number;
  /** Mean link latency, ms; jitter is drawn up to the same. Default 20. */
  latency: number;
  /** Mean time between partitions, ms (exponential). Default 3,000; 0 = none. */
  partitionEvery: number;
  /** Mean time between crashes, ms. Default 4,000; 0 = none. */
  crashEvery: number;
  /** Quiet time after healing before the checkers run, virtual ms. Default 15,000. */
  settle: number;
}

export const DEFAULT_CONVERGENCE: Readonly<ConvergenceOptions> = Object.freeze({
  nodes: 5,
  ops: 300,
  duration: 20_000,
  maxLoss: 0.3,
  maxDuplicate: 0.1,
  latency: 20,
  partitionEvery: 3000,
  crashEvery: 4000,
  settle: 15_000,
});

export interface ConvergenceResult {
  structure: string;
  seed: number;
  /** The fault levels drawn from the seed. */
  loss: number;
  duplicate: number;
  jitter: number;
  faults: number;
  report: CheckReport;
  /** Events executed, and the hash of their trace: equal for equal seeds. */
  events: number;
  traceHash: string;
}

/**
 * One run of the convergence sweep: `nodes` replicas in a full mesh, a
 * workload of `ops` writes at random times on random live nodes, while the
 * nemesis partitions the network and crashes nodes (restarting them with or
 * without their state); then everything heals, the cluster settles, and the
 * checkers run. Everything is drawn from `seed`.
 */
export function runConvergence<R extends Replicable>(structure: StructureUnderTest<R>, seed: number, options: Partial<ConvergenceOptions> = {}): ConvergenceResult {
  if (structure.async) throw new RangeError(`${structure.name} works on promises: use runConvergenceAsync`);
  const run = convergencePlan(structure, seed, options);
  for (let step = run.next(); ; step = run.next()) {
    if (step.done) return step.value;
    step.value.cluster.runUntil(step.value.until);
  }
}

/** `runConvergence` for any structure, those that work on promises (storage) included. */
export async function runConvergenceAsync<R extends Replicable>(structure: StructureUnderTest<R>, seed: number, options: Partial<ConvergenceOptions> = {}): Promise<ConvergenceResult> {
  const run = convergencePlan(structure, seed, options);
  for (let step = run.next(); ; step = run.next()) {
    if (step.done) return step.value;
    await step.value.cluster.runUntilAsync(step.value.until);
  }
}

/** The run as steps: it yields "advance the cluster to `until`", and the driver does, synchronously or not. */
function* convergencePlan<R extends Replicable>(
  structure: StructureUnderTest<R>,
  seed: number,
  options: Partial<ConvergenceOptions>,
): Generator<{ cluster: ReplicaCluster<R>; until: number }, ConvergenceResult> {
  const o = { ...DEFAULT_CONVERGENCE, ...options };
  const random = new SimRandom(seed ^ 0x5eed);
  const loss = round(random.float() * o.maxLoss, 3);
  const duplicate = round(random.float() * o.maxDuplicate, 3);
  const jitter = round(random.float() * o.latency, 1);
  const cluster = new ReplicaCluster(structure, seed, {
    nodes: o.nodes,
    topology: 'full',
    link: { latency: o.latency, jitter, shape: 'normal', loss },
    parallel: duplicate,
  });
  const nemesis = new Nemesis(
    cluster.network,
    random.fork(),
    {
      ...(o.partitionEvery > 0 ? {} : { partitions: [] }),
      partitionEvery: o.partitionEvery || 1,
      partitionFor: 1500,
      crashEvery: o.crashEvery,
      downFor: 1500,
      keepState: 0.5,
      maxDown: 1,
    },
    { crash: (n) => cluster.crash(n), restart: (n, keep) => cluster.restart(n, keep) },
  );
  nemesis.start();
  const workload = random.fork();
  let t = 0;
  for (let i = 0; i < o.ops; i++) {
    t += workload.exponential(o.duration / o.ops);
    if (t >= o.duration) break;
    const node = workload.pick(cluster.names);
    cluster.scheduler.at(t, () => void cluster.write(node), 'write');
  }
  yield { cluster, until: o.duration };
  nemesis.stop();
  cluster.network.setAllLinks({ loss: 0 });
  yield { cluster, until: o.duration + o.settle };
  return {
    structure: structure.name,
    seed,
    loss,
    duplicate,
    jitter,
    faults: cluster.network.faults.length,
    report: checkCluster(cluster),
    events: cluster.scheduler.executed,
    traceHash: cluster.scheduler.traceHash.toString(16).padStart(8, '0'),
  };
}
