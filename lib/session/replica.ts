import { EventEmitter } from 'node:events';
import { errors } from '../errors.js';
import { ReplicationStream, type StreamOptions, type Undelivered } from '../stream/duplex.js';
import type { Descriptor, Replicable, Session, SessionOptions } from './contract.js';

/**
 * Base of every structure: it says who it is (`descriptor`) and how to talk
 * to one peer (`openSession`); `createStream()` is written once, here.
 */
export abstract class Replica extends EventEmitter implements Replicable {
  abstract readonly descriptor: Descriptor;
  abstract openSession(options: SessionOptions): Session<any>;

  private readonly streams = new Set<ReplicationStream>();
  private streamsClosed = false;

  /** A duplex stream that replicates this structure with the peer it is piped to. Throws ERR_CLOSED after `close()`. */
  createStream(options?: StreamOptions): ReplicationStream {
    if (this.streamsClosed) throw errors.closed(`${this.descriptor.kind} ${JSON.stringify(this.descriptor.name)}`);
    const stream = new ReplicationStream(this, options);
    this.streams.add(stream);
    // Heard on the replica too, so a server that makes its streams in `listen()` learns of it.
    stream.on('undelivered', (report: Undelivered) => this.emit('undelivered', report));
    stream.once('close', () => this.streams.delete(stream));
    return stream;
  }

  /**
   * Ends every stream of this replica, each after sending what it has
   * queued (as `replicate().close()` does), and refuses new ones. Resolves
   * once each has either ended gracefully (everything written before the
   * call went out) or been cut: a stream whose peer does not end its side
   * within `graceMs` (default 1,000) is destroyed, and if it still owed that
   * peer anything it emits `'undelivered'` (on the stream and on this
   * replica) before this resolves. The state stays readable.
   */
  close(graceMs = 1000): Promise<void> {
    this.streamsClosed = true;
    const open = [...this.streams];
    return new Promise((resolve) => {
      if (open.length === 0) return resolve();
      let left = open.length;
      const timer = setTimeout(() => open.forEach((stream) => stream.destroy()), graceMs);
      for (const stream of open) {
        stream.once('close', () => {
          if (--left > 0) return;
          clearTimeout(timer);
          resolve();
        });
        stream.on('error', () => {}); // the stream's own listeners hear it; closing must not throw
        stream.close();
      }
    });
  }
}
