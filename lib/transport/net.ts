import { EventEmitter } from 'node:events';
import { type Server, type Socket, connect as netConnect, createServer } from 'node:net';
import pump from 'pump';
import type { StreamOptions } from '../stream/duplex.js';
import type { Streamable } from '../stream/replicate.js';
import type { Duplex } from 'node:stream';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type EncryptOptions, encrypt } from './encrypt.js';

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
 * reconnects with exponential backoff when it drops. Emits `'connect'`,
 * `'synced'`, `'disconnect'` and `'peerError'` (a coded error from one
 * connection; the next attempt follows).
 */
export class Connector extends EventEmitter {
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;

  constructor(
    private readonly replica: Streamable,
    private readonly options: ConnectOptions,
  ) {
    super();
    this.dial();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.end();
  }

  private dial(): void {
    const socket = netConnect(this.options.port, this.options.host ?? '127.0.0.1');
    socket.setNoDelay(true);
    this.socket = socket;
    socket.once('connect', () => this.emit('connect'));
    let over = false;
    const disconnected = () => {
      if (over) return;
      over = true;
      this.emit('disconnect');
      if (this.closed || this.options.reconnect === false) return;
      this.timer = setTimeout(() => this.dial(), backoffDelay(this.attempt++, this.options.backoff));
    };
    const { encrypt: encryption, ...streamOptions } = this.options;
    const replicate = (channel: Duplex) => {
      const stream = this.replica.createStream(streamOptions);
      stream.once('synced', () => {
        this.attempt = 0;
        this.emit('synced');
      });
      stream.on('error', (err) => this.emit('peerError', err));
      pump(channel, stream, channel, disconnected);
    };
    if (!encryption) return replicate(socket);
    socket.on('error', () => {}); // reported through the encrypted channel
    socket.once('close', disconnected);
    encrypt(socket, true, encryption, replicate, (err) => this.emit('peerError', err));
  }
}

export function connect(replica: Streamable, options: ConnectOptions): Connector {
  return new Connector(replica, options);
}
