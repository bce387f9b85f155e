// The simulator's public API: the engine (scheduler, network, links, faults), the replica runner,
// the checkers and the structure adapters. The scenarios and the drawing are programs that use it (bin/sim/).
export { SimRandom } from './random.js';
export { Scheduler, type Timer } from './scheduler.js';
export { type LinkProfile, type JitterShape, DEFAULT_LINK, sampleDelay } from './link.js';
export { Network, type StreamEnd, type FaultWindow, type NetworkStats, type DatagramHandler } from './network.js';
export { type PartitionKind, PARTITION_KINDS, randomHalves, isolateOne, bridge, randomLinks } from './partitions.js';
export { Nemesis, type NemesisOptions, type CrashHooks, DEFAULT_NEMESIS } from './nemesis.js';
export { schedulePartitions, applyPartition } from './faults.js';
export { topology, TOPOLOGIES, type TopologyKind } from './topology.js';
export { type StructureUnderTest, type ReplicaContext, type Write } from './structure.js';
export { ReplicaCluster, type ClusterOptions, type WriteRecord, DEFAULT_CLUSTER, SIM_EPOCH_MS } from './cluster.js';
export { checkCluster, checkConvergence, checkLost, checkSet, checkCounter, everywhereLatency, type CheckReport } from './checkers.js';
export { runConvergence, runConvergenceAsync, type ConvergenceOptions, type ConvergenceResult, DEFAULT_CONVERGENCE } from './convergence.js';
export { percentiles, canonical, type Percentiles } from './stats.js';
export { STRUCTURES } from './structures/index.js';
