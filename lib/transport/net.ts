import { type Server, type Socket, connect as netConnect, createServer } from 'node:net';
import pump from 'pump';
import type { StreamOptions } from '../stream/duplex.js';
import type { Streamable } from '../stream/replicate.js';
import type { BackoffOptions } from './backoff.js';
import { progressOf } from './progress.js';
import { disconnectInfo } from './reasons.js';
import { type Attempt, type AttemptEvents, Reconnector } from './reconnector.js';

/**
 * Serves `replica` over TCP: every accepted socket gets its own replication
 * stream. The transport never knows which structure it carries.
 */
export function listen(replica: Streamable, port: number, host = '127.0.0.1', options: StreamOptions = {}): Promise<Server> {
  const server = createServer((socket) => {
    const stream = replica.createStream(options);
    stream.on('error', (err) => server.emit('peerError', err, socket));
    pump(socket, stream, socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export interface ConnectOptions extends StreamOptions {
  host?: string;
  port: number;
  /** Reconnect after the connection drops or fails. Default true. */
  reconnect?: boolean;
  backoff?: BackoffOptions;
}

/**
 * A TCP connection that replicates `replica` with the peer at host:port and
 * reconnects with exponential backoff when it drops, as a Reconnector:
 * `'connecting'`, `'connected'`, `'progress'`, `'synced'`, `'disconnected'`
 * with a reason, `'error'` and a stop on a permanent error. For older
 * listeners it also emits `'connect'`, `'disconnect'` and `'peerError'` (a
 * coded error from one connection).
 */
export class Connector extends Reconnector {
  constructor(
    private readonly replica: Streamable,
    private readonly options: ConnectOptions,
  ) {
    super(options);
  }

  protected open(events: AttemptEvents): Attempt {
    const socket: Socket = netConnect(this.options.port, this.options.host ?? '127.0.0.1');
    const stream = this.replica.createStream(this.options);
    const seen: Parameters<typeof disconnectInfo>[0] = { closedByUs: false, synced: false };
    let bytes = 0;
    socket.once('connect', () => {
      events.connected();
      this.emit('connect');
    });
    socket.on('error', (err) => (seen.socketError ??= err));
    socket.on('data', (chunk: Buffer) => {
      seen.firstBytes ??= chunk;
      bytes += chunk.length;
      if (!seen.synced) events.progress(progressOf(stream, bytes));
    });
    stream.once('synced', () => {
      seen.synced = true;
      events.synced();
    });
    stream.on('error', (err) => {
      seen.streamError ??= err;
      this.emit('peerError', err);
    });
    pump(socket, stream, socket, () => {
      // The stream emits its error on the next tick after it closes: report once it has.
      setImmediate(() => {
        this.emit('disconnect');
        events.ended(disconnectInfo(seen));
      });
    });
    return {
      close: () => {
        seen.closedByUs = true;
        stream.end();
        socket.end();
      },
    };
  }
}

export function connect(replica: Streamable, options: ConnectOptions): Connector {
  return new Connector(replica, options);
}
