import type { FaultWindow, Network } from './network.js';
import type { Timer } from './scheduler.js';
import { type PartitionKind, PARTITION_KINDS, bridge, isolateOne, randomHalves, randomLinks } from './partitions.js';
import type { SimRandom } from './random.js';

/**
 * Schedules `count` partitions evenly over [from, to) (virtual ms), each
 * lasting half its slot, of kinds drawn from `kinds`; the network is whole
 * again between them. Used by scenarios that want "partitions in the
 * middle" at predictable times; the `Nemesis` is the open-ended variant.
 */
export function schedulePartitions(network: Network, random: SimRandom, count: number, from: number, to: number, kinds: readonly PartitionKind[] = PARTITION_KINDS): void {
  if (count <= 0) return;
  const slot = (to - from) / count;
  for (let i = 0; i < count; i++) {
    const start = from + i * slot;
    const length = slot / 2;
    network.scheduler.at(start, () => applyPartition(network, random, random.pick(kinds), length), 'partition');
  }
}

/**
 * Applies one partition of `kind` now and heals it after `length` ms.
 * Returns a function that cancels what is still to come (later clogs and
 * the heal), for a nemesis that stops early and heals everything itself.
 */
export function applyPartition(network: Network, random: SimRandom, kind: PartitionKind, length: number): () => void {
  const scheduler = network.scheduler;
  const nodes = network.nodes;
  const timers: Timer[] = [];
  let window: FaultWindow;
  if (kind === 'clog') {
    // Cut links one by one over the first half, restore them in random order over the second.
    const links = randomLinks(nodes, Math.max(1, Math.floor(nodes.length / 2)), random);
    window = network.beginFault('clog', links.map(([a, b]) => `${a}-${b}`).join(' '));
    const step = length / 2 / links.length;
    links.forEach(([a, b], i) => timers.push(scheduler.schedule(step * i, () => network.cut(a, b), 'clog')));
    random.shuffle([...links]).forEach(([a, b], i) => timers.push(scheduler.schedule(length / 2 + step * i, () => network.uncut(a, b), 'unclog')));
    timers.push(scheduler.schedule(length, () => network.endFault(window), 'heal'));
  } else {
    const { groups, detail } = kind === 'halves' ? randomHalves(nodes, random) : kind === 'isolate' ? isolateOne(nodes, random) : bridge(nodes, random);
    window = network.beginFault(kind, detail);
    network.partition(groups);
    timers.push(
      scheduler.schedule(length, () => {
        network.unpartition();
        network.endFault(window);
      }, 'heal'),
    );
  }
  return () => {
    for (const timer of timers) scheduler.cancel(timer);
    network.endFault(window);
  };
}
