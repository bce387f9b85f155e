import type { ReplicaCluster, WriteRecord } from './cluster.js';
import { type Percentiles, canonical, percentiles } from './stats.js';
import type { Replicable } from '../session/contract.js';

/** What the checkers found after a run; `violations` must be empty. */
export interface CheckReport {
  nodes: number;
  writes: number;
  /** Writes that reached two nodes or more (acknowledged, W2). */
  replicated: number;
  /** Writes whose every copy was lost to restarts without state (or, without `holds`, may have been): not expected. */
  wipedWithTheirNode: number;
  /** Live nodes whose state differs from the first live node's. */
  divergent: string[];
  /** Writes that should be everywhere but are missing somewhere (at most 20 listed). */
  lost: { key: string; origin: string; missingOn: string[] }[];
  lostCount: number;
  /** Set-like: elements present more than once on some node. */
  duplicated: number;
  /** Set-like: elements nobody wrote. */
  phantoms: number;
  /** Counters: values outside [low, high] (at most 20 listed). */
  counterOutOfRange: { node: string; value: number; low: number; high: number }[];
  /** Frames per write. */
  messagesPerOp: number;
  /** From the write's acknowledgement until every node had held it, ms. */
  latency: Percentiles;
  /** Protocol exceptions and failed connections. */
  failures: number;
  violations: string[];
}

/** Convergence: identical state on every live node. Returns the nodes that differ from the first. */
export function checkConvergence<R extends Replicable>(cluster: ReplicaCluster<R>): string[] {
  const live = cluster.upNodes();
  if (live.length === 0) return [];
  const states = live.map((n) => canonical(cluster.structure.state(cluster.replica(n))));
  return live.filter((_, i) => states[i] !== states[0]);
}

/** Writes that have surviving copies but are missing on some live node. */
export function checkLost<R extends Replicable>(cluster: ReplicaCluster<R>): CheckReport['lost'] & { length: number } {
  const holds = cluster.structure.holds;
  const live = cluster.upNodes();
  const lost: CheckReport['lost'] = [];
  if (!holds) return lost;
  for (const record of cluster.writes) {
    if (record.wiped) continue;
    const missingOn = live.filter((n) => !holds(cluster.replica(n), record.write));
    if (missingOn.length > 0) lost.push({ key: record.write.key, origin: record.origin, missingOn });
  }
  return lost;
}

/** Set-like: duplicates and elements nobody wrote, summed over live nodes. */
export function checkSet<R extends Replicable>(cluster: ReplicaCluster<R>): { duplicated: number; phantoms: number } {
  const elements = cluster.structure.elements;
  if (!elements) return { duplicated: 0, phantoms: 0 };
  const written = new Set(cluster.writes.map((w) => w.write.key));
  let duplicated = 0;
  let phantoms = 0;
  for (const node of cluster.upNodes()) {
    const seen = new Set<string>();
    for (const element of elements(cluster.replica(node))) {
      if (seen.has(element)) duplicated++;
      seen.add(element);
      if (!written.has(element)) phantoms++;
    }
  }
  return { duplicated, phantoms };
}

/**
 * Counters: each live node's value must lie within the acknowledged range:
 * the sum of the surviving writes' deltas, plus any subset of the deltas
 * whose copies were all lost (those are indeterminate, as in Maelstrom's
 * counter checker).
 */
export function checkCounter<R extends Replicable>(cluster: ReplicaCluster<R>): CheckReport['counterOutOfRange'] {
  const counter = cluster.structure.counter;
  if (!counter) return [];
  let sure = 0;
  let low = 0;
  let high = 0;
  for (const { write, wiped } of cluster.writes) {
    const delta = write.delta ?? 0;
    if (!wiped) sure += delta;
    else if (delta < 0) low += delta;
    else high += delta;
  }
  const out: CheckReport['counterOutOfRange'] = [];
  for (const node of cluster.upNodes()) {
    const value = counter(cluster.replica(node));
    if (value < sure + low || value > sure + high) out.push({ node, value, low: sure + low, high: sure + high });
  }
  return out;
}

/** Latency from acknowledgement until every node had held the write, ms. */
export function everywhereLatency(writes: readonly WriteRecord[]): Percentiles {
  return percentiles(writes.filter((w) => w.everywhereAt !== undefined).map((w) => w.everywhereAt! - w.at));
}

/** Runs every checker. Call after healing and settling, with every node up. */
export function checkCluster<R extends Replicable>(cluster: ReplicaCluster<R>): CheckReport {
  const divergent = checkConvergence(cluster);
  const lost = checkLost(cluster);
  const { duplicated, phantoms } = checkSet(cluster);
  const counterOutOfRange = checkCounter(cluster);
  const writes = cluster.writes.length;
  const violations: string[] = [];
  if (divergent.length > 0) violations.push(`divergent: ${divergent.join(', ')} differ from ${cluster.upNodes()[0]}`);
  if (lost.length > 0) violations.push(`lost: ${lost.length} writes missing on some node (first: ${lost[0]!.key} from ${lost[0]!.origin}, missing on ${lost[0]!.missingOn.join(',')})`);
  if (duplicated > 0) violations.push(`duplicated: ${duplicated} elements`);
  if (phantoms > 0) violations.push(`phantoms: ${phantoms} elements nobody wrote`);
  if (counterOutOfRange.length > 0) violations.push(`counter out of range on ${counterOutOfRange.map((c) => `${c.node}=${c.value} not in [${c.low}, ${c.high}]`).join(', ')}`);
  if (cluster.failures.length > 0) violations.push(`${cluster.failures.length} failures, first at ${cluster.failures[0]!.at} ms on ${cluster.failures[0]!.node}: ${cluster.failures[0]!.error}`);
  const pending = cluster.structure.holds ? cluster.writes.filter((w) => !w.wiped && w.everywhereAt === undefined && w.holders.size < cluster.names.length) : [];
  if (pending.length > 0 && lost.length === 0) violations.push(`${pending.length} writes never reached every node`);
  return {
    nodes: cluster.names.length,
    writes,
    replicated: cluster.writes.filter((w) => w.replicated).length,
    wipedWithTheirNode: cluster.writes.filter((w) => w.wiped).length,
    divergent,
    lost: lost.slice(0, 20),
    lostCount: lost.length,
    duplicated,
    phantoms,
    counterOutOfRange: counterOutOfRange.slice(0, 20),
    messagesPerOp: writes === 0 ? 0 : cluster.frames / writes,
    latency: everywhereLatency(cluster.writes),
    failures: cluster.failures.length,
    violations,
  };
}
