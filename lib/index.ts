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
export { listen, connect, Connector, stdio, backoffDelay, DEFAULT_MAX_CONNECTIONS, type ConnectOptions, type ListenOptions, type BackoffOptions } from './transport/index.js';

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
  renderSvg,
  SCENARIOS,
  STRUCTURES as SIM_STRUCTURES,
  type LinkProfile,
  type StructureUnderTest,
  type ReplicaContext,
  type ClusterOptions,
  type CheckReport as SimCheckReport,
  type ConvergenceOptions,
  type ConvergenceResult,
  type Scenario,
  type ScenarioOptions,
  type ScenarioResult,
} from './sim/index.js';
