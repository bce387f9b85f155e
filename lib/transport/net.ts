import { type Server, type Socket, connect as netConnect, createServer } from 'node:net';
import pump from 'pump';
import type { StreamOptions } from '../stream/duplex.js';
import type { Streamable } from '../stream/replicate.js';
import type { Duplex } from 'node:stream';
import type { BackoffOptions } from './backoff.js';
import { type EncryptOptions, encrypt } from './encrypt.js';
import { progressOf } from './progress.js';
import { disconnectInfo } from './reasons.js';
import { type Attempt, type AttemptEvents, Reconnector } from './reconnector.js';

/** Default bound on open connections per server: 1,024. */
export const DEFAULT_MAX_CONNECTIONS = 1024;

export interface ListenOptions extends StreamOptions {
  /** Most connections open at once; more are closed at once. Default 1,024. */
  maxConnections?: number;
  /** Run every connection inside a Noise-encrypted channel (encrypt.ts); plaintext peers are refused. Default off. */
  encrypt?: EncryptOptions;
}

/**
 * Serves `replica` over TCP: every accepted socket gets its own replication
 * stream. The transport never knows which structure it carries.
 */
export function listen(replica: Streamable, port: number, host = '127.0.0.1', options: ListenOptions = {}): Promise<Server> {
  const { maxConnections = DEFAULT_MAX_CONNECTIONS, encrypt: encryption, ...streamOptions } = options;
  const server = createServer((socket) => {
    // Frames go out as they are made: Nagle's algorithm would hold each back for an ACK.
    socket.setNoDelay(true);
    const serve = (channel: Duplex) => {
      const stream = replica.createStream(streamOptions);
      stream.on('error', (err) => server.emit('peerError', err, socket));
      pump(channel, stream, channel);
    };
    if (encryption) encrypt(socket, false, encryption, serve, (err) => server.emit('peerError', err, socket));
    else serve(socket);
  });
  // Peers that never speak are dropped by the stream's handshake and idle timeouts; this bounds how many may wait.
  server.maxConnections = maxConnections;
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
  /** Run the connection inside a Noise-encrypted channel (encrypt.ts). Default off. */
  encrypt?: EncryptOptions;
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
    socket.setNoDelay(true);
    const { encrypt: encryption, ...streamOptions } = this.options;
    const stream = this.replica.createStream(streamOptions);
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
    // The stream has applied what arrived: its count of the peer's catch-up has moved.
    stream.on('progress', () => !seen.synced && events.progress(progressOf(stream, bytes)));
    stream.once('synced', () => {
      seen.synced = true;
      events.synced();
    });
    stream.on('error', (err) => {
      seen.streamError ??= err;
      this.emit('peerError', err);
    });
    let over = false;
    const ended = () => {
      if (over) return;
      over = true;
      // The stream emits its error on the next tick after it closes: report once it has.
      setImmediate(() => {
        this.emit('disconnect');
        events.ended(disconnectInfo(seen));
      });
    };
    if (!encryption) pump(socket, stream, socket, ended);
    else {
      socket.once('close', ended);
      encrypt(socket, true, encryption, (channel) => pump(channel, stream, channel, ended), (err) => {
        seen.streamError ??= err;
        this.emit('peerError', err);
        stream.destroy();
      });
    }
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
