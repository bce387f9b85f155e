// The front door for browsers (the "browser" condition of package.json's
// exports): the structures, the Doc, WebSocket replication and IndexedDB
// persistence, without TCP, stdio, LevelDB, Node streams or the simulator.
// `createStream()` needs Node streams and says so here; replicate with
// connectWebSocket() instead.
import './browser/globals.js';

// Errors and the clock
export { ReplicationError, errors, ERROR_CODES, type ErrorCode } from './errors.js';
export { HybridClock, type ClockOptions } from './clock/index.js';

// Scuttlebutt: Model and Log
export { Model, type ModelOptions, type ChangeMeta } from './scuttlebutt/model.js';
export { Log, type LogRecord } from './scuttlebutt/log.js';

// persist() keeps any structure (Model, Log, the CRDTs, Seq) in IndexedDB: browser-level stands in for classic-level
export { persist, type AnyPersistence } from './persist.js';
export type { Persistence, PersistOptions } from './scuttlebutt/persist.js';
export type { DeltaPersistence, DeltaPersistOptions } from './crdt/persist.js';
export type { SeqPersistence, SeqPersistOptions } from './seq/persist.js';

// Delta-state CRDTs
export { GSet } from './crdt/g-set.js';
export { TwoPSet } from './crdt/two-p-set.js';
export { ORSet } from './crdt/or-set.js';
export type { SetOptions, SetChange } from './crdt/set-replica.js';
export { GCounter } from './crdt/g-counter.js';
export { PNCounter } from './crdt/pn-counter.js';
export { LWWRegister, type LWWOptions } from './crdt/lww-register.js';
export { MVRegister } from './crdt/mv-register.js';
export type { ValueChange } from './crdt/value-replica.js';
export { ORMap, type ORMapOptions, type MapChange } from './crdt/or-map.js';

// Seq: collaborative text and lists
export { Seq, type SeqOptions, type SeqChange } from './seq/seq.js';
export type { DeltaOp } from './seq/document.js';

// Many structures on one connection, over WebSocket
export { Doc, type DocOptions, type StructureClass } from './mux/doc.js';
export type { ChannelEvent } from './mux/mux-protocol.js';
export { connectWebSocket, WebSocketConnector, type WebSocketConnectOptions } from './transport/ws-client.js';
export type { ConnectionStatus, Progress } from './transport/reconnector.js';
export type { DisconnectInfo } from './transport/reasons.js';
