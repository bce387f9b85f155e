import { EventEmitter } from 'node:events';
import { ReplicationStream, type StreamOptions } from '../stream/duplex.js';
import type { Descriptor, Replicable, Session, SessionOptions } from './contract.js';

/**
 * Base of every structure: it says who it is (`descriptor`) and how to talk
 * to one peer (`openSession`); `createStream()` is written once, here.
 */
export abstract class Replica extends EventEmitter implements Replicable {
  abstract readonly descriptor: Descriptor;
  abstract openSession(options: SessionOptions): Session<any>;

  /** A duplex stream that replicates this structure with the peer it is piped to. */
  createStream(options?: StreamOptions): ReplicationStream {
    return new ReplicationStream(this, options);
  }
}
