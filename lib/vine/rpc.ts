import { EventEmitter } from 'node:events';
import { type Server, type Socket, connect as netConnect, createServer } from 'node:net';
import type { Limits } from '../codec/index.js';
import { ReplicationError, errors } from '../errors.js';
import { FrameReader, decodeMessage, frame, readFirstFrame } from './frames.js';
import { type BatchItem, type HelloMessage, type ReplyMessage, type VineMessage, type WireRequest, VINE_PROTOCOL_VERSION } from './messages.js';
import { SendQueue } from './send-queue.js';

/** A request without its id (the connection numbers them). */
export type RequestBody = WireRequest extends infer R ? (R extends WireRequest ? Omit<R, 'id'> : never) : never;

export interface Address {
  host: string;
  port: number;
}

export interface WireOptions {
  /** Cluster name: a peer of another cluster is refused. */
  cluster: string;
  /** Largest frame sent or accepted, in bytes. */
  maxFrameBytes: number;
  /** Decoder limits for the peer's messages. */
  limits?: Partial<Limits>;
  /** How long a connection may take to say hello, in ms. */
  helloTimeoutMs: number;
}

/** Requests one connection may have in progress at once; past it a request is refused with ERR_LIMIT, so a peer cannot pile up unbounded work. */
export const MAX_IN_FLIGHT = 1024;

/** What a server does with an accepted connection. */
export interface RequestHandler {
  /** Answers a request with a record (or empty bytes); throws a ReplicationError to refuse it. */
  handle(request: WireRequest, from: string): Promise<Uint8Array>;
  /** Takes over a connection opened for a partition's anti-entropy. */
  sync(partition: number, socket: Socket, from: string): void;
}

/** Turns a thrown value into the reply's code and message. */
function errorReply(id: number, err: unknown): ReplyMessage {
  const coded = err instanceof ReplicationError ? err : errors.invalidArgument(String((err as Error)?.message ?? err));
  return { type: 'reply', id, code: coded.code, message: coded.message, record: new Uint8Array(0) };
}

/** The items of a frame: a batch's, or the frame's one message. */
function itemsOf(message: VineMessage): readonly VineMessage[] {
  return message.type === 'batch' ? message.items : [message];
}

/**
 * The server side of the vine protocol. Every connection opens with a
 * hello; another cluster or version is refused with a coded frame and
 * closed. Requests come alone or in batches and are answered in any order,
 * by id, the replies of one turn in one batch. A request the handler
 * refuses is answered with its coded error by itself; a frame that does not
 * decode disconnects that peer (after a `refused` frame saying why); the
 * node carries on.
 */
export class VineServer extends EventEmitter {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly nodeId: string,
    private readonly options: WireOptions,
    private readonly handler: RequestHandler,
  ) {
    super();
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<Address> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve({ host, port: typeof address === 'object' && address ? address.port : port });
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Cuts every open connection (the server keeps listening): what a network fault does. */
  cutConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private async accept(socket: Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    let hello: HelloMessage;
    try {
      const message = decodeMessage(await readFirstFrame(socket, this.options.maxFrameBytes, this.options.helloTimeoutMs), this.options.limits);
      if (message.type !== 'hello') throw errors.handshake(`expected hello, got ${message.type}`);
      if (message.version !== VINE_PROTOCOL_VERSION) throw errors.protocolVersion(VINE_PROTOCOL_VERSION, message.version);
      if (message.cluster !== this.options.cluster) throw errors.handshake(`peer is of cluster '${message.cluster}', not '${this.options.cluster}'`);
      if (message.purpose !== 'rpc' && message.purpose !== 'sync') throw errors.handshake(`unknown purpose '${message.purpose}'`);
      hello = message;
    } catch (err) {
      return this.refuse(socket, err);
    }
    socket.write(frame({ type: 'welcome', node: this.nodeId }));
    if (hello.purpose === 'sync') return this.handler.sync(hello.partition, socket, hello.node);
    const reader = new FrameReader(this.options.maxFrameBytes);
    const queue = new SendQueue(socket, this.options.maxFrameBytes);
    let inFlight = 0;
    let refused = false;
    const from = hello.node;
    const answer = (request: WireRequest) => {
      if (inFlight >= MAX_IN_FLIGHT) return queue.push(errorReply(request.id, errors.limit('requests in flight', inFlight + 1, MAX_IN_FLIGHT)));
      inFlight++;
      this.handler.handle(request, from).then(
        (record) => {
          inFlight--;
          queue.push({ type: 'reply', id: request.id, code: '', message: '', record });
        },
        (err) => {
          inFlight--;
          this.emit('requestError', err, from);
          queue.push(errorReply(request.id, err));
        },
      );
    };
    const onFrame = (bytes: Buffer) => {
      let items: readonly VineMessage[];
      try {
        items = itemsOf(decodeMessage(bytes, this.options.limits));
        for (const item of items) if (!isRequest(item)) throw errors.decode(`unexpected ${item.type} message`);
      } catch (err) {
        refused = true;
        return this.refuse(socket, err);
      }
      for (const item of items) answer(item as WireRequest);
    };
    socket.on('data', (chunk: Buffer) => {
      if (refused) return;
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        refused = true;
        return this.refuse(socket, err);
      }
      for (const bytes of frames) {
        if (refused) return;
        onFrame(bytes);
      }
    });
    socket.resume();
  }

  private refuse(socket: Socket, err: unknown, cause?: unknown): void {
    const coded = err instanceof ReplicationError ? err : errors.decode('bad input', cause ?? err);
    this.emit('peerError', coded);
    if (!socket.destroyed && socket.writable) socket.end(frame({ type: 'refused', code: coded.code, message: coded.message }));
    setTimeout(() => socket.destroy(), 200).unref();
  }
}

function isRequest(message: VineMessage): message is WireRequest {
  return message.type !== 'hello' && message.type !== 'welcome' && message.type !== 'refused' && message.type !== 'reply' && message.type !== 'batch';
}

interface Pending {
  resolve: (record: Uint8Array) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * One lazily opened connection to a peer, carrying many requests at once
 * (those of one turn in one batch frame). A failed or dropped connection
 * fails its pending requests with a coded error; the next request dials
 * again.
 */
export class VineClient {
  private socket: Socket | undefined;
  private queue: SendQueue | undefined;
  private ready: Promise<Socket> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    readonly address: Address,
    private readonly nodeId: string,
    private readonly options: WireOptions,
  ) {}

  /** Sends a request; resolves with the reply's record, rejects with its coded error, ERR_CLOSED or ERR_UNAVAILABLE on timeout. */
  request(body: RequestBody, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(errors.closed('the client'));
    if (this.pending.size >= MAX_IN_FLIGHT) return Promise.reject(errors.limit('requests in flight', this.pending.size + 1, MAX_IN_FLIGHT));
    // Connected: straight into this turn's batch, without waiting a turn for the connection.
    if (this.queue) return this.enqueue(this.queue, body, timeoutMs);
    return this.connect().then(() => (this.queue ? this.enqueue(this.queue, body, timeoutMs) : Promise.reject(errors.closed(`the connection to ${this.address.host}:${this.address.port}`))));
  }

  /** True while the connection is open: a request goes straight into this turn's batch. */
  get isConnected(): boolean {
    return this.queue !== undefined && !this.closed;
  }

  /** Resolves once the connection is open (dialling if needed); rejects if it cannot be opened. */
  async connected(): Promise<void> {
    if (this.closed) throw errors.closed('the client');
    if (!this.queue) await this.connect();
  }

  private enqueue(queue: SendQueue, body: RequestBody, timeoutMs: number): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(errors.unavailable(`${body.type} at ${this.address.host}:${this.address.port}`, 1, 0, 1));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      queue.push({ ...body, id } as BatchItem);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  private connect(): Promise<Socket> {
    return (this.ready ??= dial(this.address, this.hello('rpc', 0), this.options).then(
      (socket) => {
        this.socket = socket;
        this.queue = new SendQueue(socket, this.options.maxFrameBytes);
        const reader = new FrameReader(this.options.maxFrameBytes);
        const onFrame = (bytes: Buffer) => {
          try {
            const items = itemsOf(decodeMessage(bytes, this.options.limits));
            for (const message of items) {
              if (message.type === 'refused') throw errors.remote(message.code, message.message);
              if (message.type !== 'reply') throw errors.decode(`unexpected ${message.type} message`);
            }
            for (const message of items as ReplyMessage[]) {
              const pending = this.pending.get(message.id);
              if (!pending) continue;
              this.pending.delete(message.id);
              clearTimeout(pending.timer);
              if (message.code === '') pending.resolve(message.record);
              else pending.reject(errors.remote(message.code, message.message));
            }
          } catch (err) {
            this.failAll(err);
            socket.destroy();
          }
        };
        socket.on('data', (chunk: Buffer) => {
          let frames: Buffer[];
          try {
            frames = reader.push(chunk);
          } catch (err) {
            this.failAll(err);
            socket.destroy();
            return;
          }
          for (const bytes of frames) if (!socket.destroyed) onFrame(bytes);
        });
        socket.resume();
        socket.on('close', () => {
          if (this.socket === socket) {
            this.socket = undefined;
            this.queue = undefined;
            this.ready = undefined;
          }
          this.failAll(errors.closed(`the connection to ${this.address.host}:${this.address.port}`));
        });
        return socket;
      },
      (err) => {
        this.ready = undefined;
        throw err;
      },
    ));
  }

  private failAll(err: unknown): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(err);
    }
  }

  hello(purpose: 'rpc' | 'sync', partition: number): HelloMessage {
    return { type: 'hello', version: VINE_PROTOCOL_VERSION, cluster: this.options.cluster, node: this.nodeId, purpose, partition };
  }
}

/** Connects, says hello, and waits for the welcome; the socket comes back paused, ready to pipe. */
export function dial(address: Address, hello: HelloMessage, options: WireOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(address.port, address.host);
    socket.setNoDelay(true);
    const fail = (err: unknown) => {
      socket.destroy();
      reject(err instanceof ReplicationError ? err : errors.closed(`the connection to ${address.host}:${address.port} (${(err as Error)?.message})`));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(frame(hello));
      readFirstFrame(socket, options.maxFrameBytes, options.helloTimeoutMs).then((bytes) => {
        try {
          const message = decodeMessage(bytes, options.limits);
          if (message.type === 'refused') throw errors.remote(message.code, message.message);
          if (message.type !== 'welcome') throw errors.handshake(`expected welcome, got ${message.type}`);
          socket.off('error', fail);
          socket.on('error', () => socket.destroy());
          resolve(socket);
        } catch (err) {
          fail(err);
        }
      }, fail);
    });
  });
}
