// The front door of tendril: what an application uses, exported by name.
// Structure authors import `tendril/core`, codec users `tendril/codec`, and
// the simulator is `tendril/sim` (docs/architecture.md). Nothing imported
// here may load the simulator, or classic-level before a store is opened on
// a path: test/package/front-door.test.ts checks both.

// Errors and the clock
export { ReplicationError, errors, ERROR_CODES, type ErrorCode } from './errors.js';
export { HybridClock, type ClockOptions } from './clock/index.js';

// Replicating: streams and transports
export { replicate, type Replication, type ReplicationStream, type StreamOptions } from './stream/index.js';
export type { Undelivered } from './stream/index.js';
export { listen, connect, Connector, stdio, encryptionKeyPair, type ConnectOptions, type ListenOptions, type EncryptOptions, type KeyPair } from './transport/index.js';

// Scuttlebutt: Model and Log, on disk and in snapshots
export { Model, Log, createSnapshotStream, loadSnapshot, signing, type Persistence, type PersistOptions, type ModelOptions, type ChangeMeta, type LogRecord, type LogOptions } from './scuttlebutt/index.js';

// Delta-state CRDTs
export {
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
  type SetOptions,
  type SetChange,
  type LWWOptions,
  type ValueChange,
  type ORMapOptions,
  type MapChange,
  type ReduceOptions,
} from './crdt/index.js';

// Seq: collaborative text and lists
export { Seq, type SeqOptions, type SeqChange, type DeltaOp } from './seq/index.js';

// MerkleStore: a persistent key/value store with siblings
export { MerkleStore, type MerkleStoreOptions, type Versions, type ChangeEvent, type WriteOptions, type Resolver, type SiblingView } from './merkle/index.js';
export { RecordCache } from './merkle/index.js';

// Many structures on one connection (the multiplexer), and WebSocket
export { Doc, type DocOptions, type StructureClass, type ChannelEvent } from './mux/index.js';
export {
  serveWebSocket,
  connectWebSocket,
  WebSocketHub,
  WebSocketConnector,
  type WebSocketServeOptions,
  type WebSocketConnectOptions,
  type ConnectionStatus,
  type Progress,
  type DisconnectInfo,
} from './transport/index.js';

// Persistence of every structure: persist(structure, pathOrDb)
export { persist, type AnyPersistence } from './persist.js';
export type { DeltaPersistence, DeltaPersistOptions } from './crdt/persist.js';
export type { SeqPersistence, SeqPersistOptions } from './seq/persist.js';

// Gossip: membership and failure detection (grapevine's Gossiper, typed)
export {
  Gossiper,
  Membership,
  type GossiperOptions,
  type MembershipOptions,
  type PeerStatus,
  type AggregateEstimate,
  type GossipLimits,
  type MembershipTiming,
  type PhiOptions,
} from './gossip/index.js';

// vine: a Dynamo-style key/value cluster (quorum reads and writes, hinted handoff, read repair, anti-entropy)
export {
  Vine,
  VineHandle,
  VineNode,
  RemoteVine,
  HashRing,
  PARTITIONS,
  type VineOptions,
  type RequestOptions as VineRequestOptions,
  type VineVersions,
  type DataEvent as VineDataEvent,
} from './vine/index.js';
