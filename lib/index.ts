// The public API of tendril, exported by name.
export { ReplicationError, errors, isReplicationError, ERROR_CODES, type ErrorCode } from './errors.js';
export { HybridClock, compareStamps, wallTime, DEFAULT_MAX_DRIFT_MS, type Timestamp, type ClockOptions } from './clock/index.js';
export {
  encode,
  decode,
  uint,
  int,
  float64,
  bool,
  bytes,
  fixed,
  string,
  array,
  map,
  struct,
  constant,
  optional,
  union,
  lazy,
  json,
  binary,
  DEFAULT_LIMITS,
  type Codec,
  type Infer,
  type Limits,
  type ValueEncoding,
} from './codec/index.js';
export {
  Replica,
  ReplicationStream,
  WireProtocol,
  replicate,
  DEFAULT_MAX_FRAME_BYTES,
  PROTOCOL,
  PROTOCOL_VERSION,
  type Replication,
  type StreamOptions,
  type Descriptor,
  type PeerInfo,
  type Session,
  type SessionOptions,
  type Replicable,
  type Handshake,
} from './stream/index.js';
export { Random } from './random.js';

// Scuttlebutt engine, Model and Log
export { Scuttlebutt, Model, Log, createSnapshotStream, loadSnapshot, persist, Persistence, type PersistOptions, type LogEntry, type LogRecord, type ScuttlebuttOptions, type ModelOptions, type ModelUpdate, type ChangeMeta, type ModelListener, type Update, type UpdateCodec, type Clock } from './scuttlebutt/index.js';

// Transports
export { listen, connect, Connector, stdio, backoffDelay, type ConnectOptions, type BackoffOptions } from './transport/index.js';

// codec and clock (foundation tests): the range of the int codec
export { INT_MIN, INT_MAX } from './codec/index.js';

// merkle: MerkleStore, a persistent key/value store synced by Merkle-tree anti-entropy
export {
  MerkleStore,
  MerkleTree,
  lastWriterWins,
  DEFAULT_DEPTH as MERKLE_DEFAULT_DEPTH,
  type MerkleStoreOptions,
  type Versions,
  type ChangeEvent,
  type WriteOptions,
  type Resolver,
  type SiblingView,
} from './merkle/index.js';

// crdt: delta-state CRDTs (sets, counters, registers, maps, reducers)
export {
  CausalContext,
  DeltaReplica,
  GSet,
  TwoPSet,
  ORSet,
  GCounter,
  PNCounter,
  LWWRegister,
  MVRegister,
  ORMap,
  Reduce,
  checkReducer,
  DEFAULT_MAX_REPLICAS,
  type Dot,
  type DeltaReplicaOptions,
  type Embeddable,
  type Mint,
  type ORSetMetadata,
  type SetOptions,
  type SetHandle,
  type SetChange,
  type GCounterHandle,
  type PNCounterHandle,
  type LWWOptions,
  type RegisterHandle,
  type MVRegisterHandle,
  type ValueChange,
  type ORMapOptions,
  type MapChange,
  type ReduceOptions,
  type Reducer,
  type ReduceHandle,
  type CheckReducerOptions,
  type CheckReport,
  type Law,
} from './crdt/index.js';

// crdt: Seq (replicated sequence and text)
export { Seq, type SeqOptions, type SeqChange, type DeltaOp } from './seq/index.js';

// Simulation: deterministic many-node runs under faults (lib/sim/).
export {
  SimRandom,
  Scheduler as SimScheduler,
  Network as SimNetwork,
  Nemesis,
  ReplicaCluster,
  checkCluster,
  runConvergence,
  runConvergenceAsync,
  STRUCTURES as SIM_STRUCTURES,
  type LinkProfile,
  type StructureUnderTest,
  type ReplicaContext,
  type ClusterOptions,
  type CheckReport as SimCheckReport,
  type ConvergenceOptions,
  type ConvergenceResult,
} from './sim/index.js';

// gossip: membership and failure detection (Gossiper, the I/O-free Membership, phi accrual)
export {
  Gossiper,
  Membership,
  PhiAccrualDetector,
  parseAddress,
  formatAddress,
  DEFAULT_GOSSIP_LIMITS,
  DEFAULT_GOSSIP_TIMING,
  DEFAULT_PHI,
  type GossiperOptions,
  type MembershipOptions,
  type PeerStatus,
  type AggregateEstimate,
  type GossipLimits,
  type MembershipTiming,
  type PhiOptions,
  type Address,
} from './gossip/index.js';

// vine: a Dynamo-style key/value cluster (quorum reads and writes, hinted handoff, read repair, anti-entropy)
export {
  Vine,
  VineHandle,
  VineNode,
  RemoteVine,
  HashRing,
  PARTITIONS,
  partitionOf,
  LocalCluster,
  GossipMembership,
  type VineOptions,
  type RequestOptions as VineRequestOptions,
  type VineVersions,
  type DataEvent as VineDataEvent,
  type Membership as VineMembership,
  type Member as VineMember,
} from './vine/index.js';
