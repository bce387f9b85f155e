export { DEFAULT_MAX_FRAME_BYTES, type Descriptor, type PeerInfo, type Session, type SessionOptions, type Replicable } from './contract.js';
export { BaseSession } from './base-session.js';
export { LiveQueue } from './live-queue.js';
export { ProgressCount } from './progress-count.js';
export { SessionSet, type LiveMember } from './session-set.js';
export { gate, type Gate } from './gate.js';
export { Replica } from './replica.js';
