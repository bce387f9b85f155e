import { ReplicaCluster } from './cluster.js';
import { merkleRatelessUnderTest, merkleUnderTest } from './structures/merkle.js';

export interface ReconcileCompareOptions {
  /** Nodes, full mesh, split into two halves. Default 4. */
  nodes: number;
  /** Writes before the partition, replicated everywhere. Default 1,000. */
  keys: number;
  /** Writes during the partition, spread over both halves: the difference to reconcile. Default 100. */
  diffs: number;
  /** One-way link latency, ms. Default 100. */
  latency: number;
  /** Chance a frame breaks its connection (which redials with backoff). Default 0. */
  loss: number;
  seed: number;
}

export interface ReconcileCompareRow {
  method: 'merkle walk' | 'rateless';
  seed: number;
  /** Virtual ms from the heal until every store holds the same root (sampled every 10 ms). */
  convergeMs: number;
  /** Bytes the network carried from the heal to convergence. */
  bytes: number;
  /** Connections broken by loss in that time. */
  broken: number;
  converged: boolean;
}

export const DEFAULT_RECONCILE_COMPARE: Readonly<ReconcileCompareOptions> = Object.freeze({ nodes: 4, keys: 1000, diffs: 100, latency: 100, loss: 0, seed: 1 });

/**
 * Rateless reconciliation against the Merkle walk in the simulator: the
 * same cluster, workload and seed for both. Stores share `keys` entries,
 * are split in two halves that keep writing (`diffs` writes), and are
 * healed; what is measured is how long (virtual time) and how many bytes it
 * takes until every store holds the same root. On a 100 ms link each round
 * trip is 200 ms, so the walk's depth shows.
 */
export async function compareReconciliation(options: Partial<ReconcileCompareOptions> = {}): Promise<ReconcileCompareRow[]> {
  const o = { ...DEFAULT_RECONCILE_COMPARE, ...options };
  const rows: ReconcileCompareRow[] = [];
  for (const structure of [merkleUnderTest, merkleRatelessUnderTest]) {
    const cluster = new ReplicaCluster(structure, o.seed, { nodes: o.nodes, link: { latency: o.latency, loss: 0 } });
    await cluster.warmUp(30_000);
    const names = cluster.names;
    let t = cluster.now;
    for (let i = 0; i < o.keys; i++) cluster.scheduler.at(t + 1 + Math.floor(i / 10), () => void cluster.write(names[i % names.length]));
    t += o.keys / 10 + 10 * o.latency;
    await cluster.advance(t);
    const half = Math.ceil(names.length / 2);
    cluster.network.partition([names.slice(0, half), names.slice(half)]);
    for (let i = 0; i < o.diffs; i++) cluster.scheduler.at(t + 100 + Math.floor(i / 10), () => void cluster.write(names[i % names.length]));
    t += 100 + o.diffs / 10 + 2000;
    await cluster.advance(t);
    cluster.network.setAllLinks({ loss: o.loss });
    const bytesBefore = cluster.network.stats.bytes;
    const brokenBefore = cluster.network.stats.streamsBroken;
    cluster.network.heal();
    const healed = cluster.now;
    const deadline = healed + 120_000;
    const same = () => {
      const roots = cluster.upNodes().map((n) => cluster.replica(n).rootHash);
      return roots.every((r) => r === roots[0]);
    };
    while (!same() && cluster.now < deadline) await cluster.advance(cluster.now + 10);
    rows.push({
      method: structure === merkleUnderTest ? 'merkle walk' : 'rateless',
      seed: o.seed,
      convergeMs: cluster.now - healed,
      bytes: cluster.network.stats.bytes - bytesBefore,
      broken: cluster.network.stats.streamsBroken - brokenBefore,
      converged: same(),
    });
    for (const name of cluster.upNodes()) structure.dispose?.(cluster.replica(name));
  }
  return rows;
}
