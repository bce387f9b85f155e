// `tendril/core`: for structure authors and tools. The session contract and
// the `Replica` base, the wire protocol and its frames, the replication
// engines' bases and their building blocks. Applications need only `tendril`.

// The session contract, the skeleton every session stands on, and the Replica base
export {
  DEFAULT_MAX_FRAME_BYTES,
  BaseSession,
  LiveQueue,
  SessionSet,
  gate,
  Replica,
  type Descriptor,
  type PeerInfo,
  type Session,
  type SessionOptions,
  type Replicable,
  type LiveMember,
  type Gate,
} from './session/index.js';

// The stream shell: the I/O-free wire protocol, its frames, the duplex around it
export { WireProtocol, type WireProtocolOptions } from './stream/wire-protocol.js';
export { PROTOCOL, PROTOCOL_VERSION, FrameType, type Handshake } from './stream/frames.js';
export { ReplicationStream, DEFAULT_FAIL_GRACE_MS } from './stream/duplex.js';
export type { Streamable } from './stream/replicate.js';

// Primitives a structure is built from
export { isReplicationError } from './errors.js';
export { compareStamps, wallTime, DEFAULT_MAX_DRIFT_MS, type Timestamp } from './clock/index.js';
export { Random } from './random.js';
export { backoffDelay, type BackoffOptions } from './transport/index.js';

// The scuttlebutt engine: a structure supplies how an update applies and what a peer lacks
export { Scuttlebutt, type ScuttlebuttOptions, type UpdateObserver, type Update, type UpdateCodec, type Clock, type ModelUpdate, type ModelListener, type LogEntry } from './scuttlebutt/index.js';

// The delta-state engine: a CRDT supplies its store kind, mutators and change description
export {
  DeltaReplica,
  CausalContext,
  DEFAULT_MAX_REPLICAS,
  type DeltaReplicaOptions,
  type Dot,
  type Embeddable,
  type Mint,
  type ORSetMetadata,
  type SetHandle,
  type GCounterHandle,
  type PNCounterHandle,
  type RegisterHandle,
  type MVRegisterHandle,
  type Reducer,
  type ReduceHandle,
  type CheckReducerOptions,
  type CheckReport,
  type Law,
} from './crdt/index.js';
export { dotSet, dotFun, dotMap, DotMap, type StoreKind, type DotSet, type DotFun, type DotEntry } from './crdt/dot-store.js';
export type { Delta } from './crdt/delta.js';

// The Merkle engine
export { MerkleTree, DEFAULT_DEPTH as MERKLE_DEFAULT_DEPTH, lastWriterWins } from './merkle/index.js';

// Transports and the multiplexer, for writing a transport of one's own: the
// frame protocol a connection drives, the multiplexer's, the message link
// (one frame per WebSocket message) and the reconnect loop
export { createFrameProtocol, type FrameProtocol, type ProtocolSource } from './stream/frame-protocol.js';
export { MuxProtocol, type ChannelHost, DEFAULT_MAX_CHANNELS, MAX_CHANNEL_NAME_BYTES } from './mux/mux-protocol.js';
export { MessageLink, type MessageSocket, type MessageLinkEvents } from './transport/message-link.js';
export { Reconnector, type Attempt, type AttemptEvents, type ReconnectOptions } from './transport/reconnector.js';
export { isPermanent } from './transport/reasons.js';

// The gossip core: the phi accrual detector, one exchange in memory, the session, addresses and defaults
export {
  PhiAccrualDetector,
  phiOfNormal,
  GossipSession,
  exchange,
  gossipCodec,
  parseAddress,
  formatAddress,
  DEFAULT_GOSSIP_LIMITS,
  DEFAULT_GOSSIP_TIMING,
  DEFAULT_PHI,
  type GossipMessage,
  type ExchangeOptions,
  type ExchangeResult,
  type Address,
} from './gossip/index.js';

// Vine's parts: a key's partition, the membership it runs on (the Gossiper's, or an in-memory one for tests)
export { partitionOf, LocalCluster, GossipMembership, type Membership as VineMembership, type Member as VineMember } from './vine/index.js';

// Rateless set reconciliation: the coder behind MerkleStore's `reconcile: 'rateless'`
export { Encoder as RatelessEncoder, Decoder as RatelessDecoder, SymbolPrefix, CodedSymbols, ITEM_BYTES } from './reconcile/index.js';
