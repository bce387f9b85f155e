import { type Server, type Socket, connect as netConnect } from 'node:net';
import pump from 'pump';
import { errors } from '../errors.js';
import type { StreamOptions } from '../stream/duplex.js';
import { listen } from '../transport/net.js';
import { formatAddress, parseAddress } from './address.js';
import { Membership, type MembershipOptions } from './membership.js';

export interface GossiperOptions extends Omit<MembershipOptions, 'address'> {
  /** Port to listen on. */
  port: number;
  /** Address to listen on and to be reached at. Default `'127.0.0.1'`. */
  host?: string;
  /** Seeds: `'127.0.0.1:9000'`, `'[::1]:9000'`. */
  seeds?: readonly string[];
  /** Largest frame sent or accepted, bytes. Default the stream shell's (1 MiB). */
  maxFrameBytes?: number;
  /** An exchange that has not finished after this long is cut, ms. Default 2 x gossipIntervalMs, at least 1,000. */
  exchangeTimeoutMs?: number;
}

/**
 * A gossip node on the network, with grapevine's API: it listens on
 * `host:port`, and every `gossipIntervalMs` heartbeats, judges its peers and
 * runs one gossip round over TCP with a live peer (sometimes also a dead one
 * or a seed): a fresh connection, one non-live exchange (handshake with the
 * cluster name, digests, deltas within the budget), closed.
 *
 * Everything else (state, events, `createStream()`) is the I/O-free
 * `Membership` it extends. Events: `'update'`, `'expire'`, `'new_peer'`,
 * `'peer_alive'`, `'peer_failed'`, `'peer_removed'`, `'refute'`,
 * `'started'`, `'stopped'`, and `'peer_error'` (a coded error from one
 * exchange; the node carries on).
 */
export class Gossiper extends Membership {
  readonly port: number;
  readonly host: string;
  private readonly streamOptions: StreamOptions;
  private readonly exchangeTimeoutMs: number;
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private judgeTimer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<Socket>();
  /** Exchanges this node started that have not ended. */
  private outgoing = 0;
  private running = false;

  constructor(options: GossiperOptions) {
    const host = options.host ?? '127.0.0.1';
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw errors.invalidArgument(`bad port ${options.port}`);
    super({ ...options, address: formatAddress(host, options.port) });
    this.port = options.port;
    this.host = host;
    this.streamOptions = { live: false, maxFrameBytes: options.maxFrameBytes };
    this.exchangeTimeoutMs = options.exchangeTimeoutMs ?? Math.max(1000, 2 * this.timing.gossipIntervalMs);
  }

  get started(): boolean {
    return this.running;
  }

  /** Listens, then gossips every interval. Resolves once listening. */
  async start(): Promise<void> {
    if (this.running) return;
    const server = await listen(this, this.port, this.host, this.streamOptions);
    server.on('connection', (socket) => this.track(socket));
    server.on('peerError', (err: Error) => this.emit('peer_error', err));
    this.server = server;
    this.running = true;
    this.tick();
    this.round();
    this.judgeTimer = setInterval(() => this.judge(), this.timing.judgeIntervalMs);
    this.emit('started');
  }

  /** Stops gossiping, closes every connection and the listener. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.judgeTimer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
    this.emit('stopped');
  }

  /**
   * One gossip round now, then the next after the interval (with a little
   * jitter, so nodes do not march in step). A node that cannot keep up (its
   * exchanges of earlier rounds still running: starved of CPU, or its peers
   * are) starts only as many as bring it back to one round's worth, so it
   * does not pile up connections that all time out.
   */
  private round(): void {
    if (!this.running) return;
    const targets = this.gossipTargets();
    const room = Math.max(0, targets.length - this.outgoing);
    targets.slice(0, room).forEach((address, k) => this.gossipTo(address, k === 0));
    const interval = this.timing.gossipIntervalMs;
    this.timer = setTimeout(() => {
      this.tick();
      this.round();
    }, interval * (0.9 + 0.2 * this.random.float()));
  }

  /**
   * One exchange with `address`. If it does not complete and `retry` is
   * set, one other live member is tried in its place: on a lossy network
   * that keeps this node's heartbeat moving.
   */
  private gossipTo(address: string, retry: boolean): void {
    const { host, port } = parseAddress(address);
    const socket = netConnect(port, host);
    this.track(socket);
    const stream = this.createStream(this.streamOptions);
    stream.on('error', (err) => this.emit('peer_error', err, address));
    socket.on('error', () => {}); // refused or reset: the failure detector judges, not us
    this.outgoing++;
    pump(socket, stream, socket, () => {
      this.outgoing--;
      if (stream.synced || !retry || !this.running) return;
      const other = this.retryTarget(address);
      if (other) this.gossipTo(other, false);
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.setTimeout(this.exchangeTimeoutMs, () => socket.destroy());
    socket.once('close', () => this.sockets.delete(socket));
  }
}
