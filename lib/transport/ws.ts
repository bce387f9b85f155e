import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import type { Replicable } from '../session/contract.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../session/contract.js';
import type { StreamOptions } from '../stream/duplex.js';
import { type ProtocolSource, createFrameProtocol } from '../stream/frame-protocol.js';
import { CLOSE_CODES, type MessageSocket, MessageLink } from './message-link.js';
import { type WebSocketClass, type WebSocketConnectOptions, WebSocketConnector } from './ws-client.js';

export { WebSocketConnector, type WebSocketConnectOptions } from './ws-client.js';

type Document = Replicable | ProtocolSource;

export interface WebSocketServeOptions extends StreamOptions {
  /**
   * The document a connection replicates, by the name in its URL
   * (`ws://host:port/<name>`, percent-decoded): a Map, or a function that
   * may create documents on demand. Undefined refuses the connection with
   * close code 4404, which a client takes as a permanent error.
   */
  documents: Map<string, Document> | ((name: string) => Document | undefined);
  /** Port to listen on (0: any free port). Ignored with `server`. Default 0. */
  port?: number;
  /** Address to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** An HTTP server to share (the WebSocket upgrade is served on it); it is not closed by `close()`. */
  server?: HttpServer;
  /** Path before the document name. Default `'/'`. */
  prefix?: string;
}

/**
 * A WebSocket server for many documents (rooms): each connection names its
 * document in the URL path and gets its own replication link to it.
 *
 * Events: `'connection'` (name), `'disconnected'` (name, error?) when a
 * connection ends, `'peerError'` (err, name) for a connection that failed.
 */
export class WebSocketHub extends EventEmitter {
  private readonly links = new Set<MessageLink>();

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly options: WebSocketServeOptions,
  ) {
    super();
    wss.on('connection', (socket, request) => this.accept(socket, request));
  }

  /** Starts a hub; resolves once it listens. */
  static listen(options: WebSocketServeOptions): Promise<WebSocketHub> {
    const maxPayload = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const wss = options.server
      ? new WebSocketServer({ server: options.server, maxPayload })
      : new WebSocketServer({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', maxPayload });
    const hub = new WebSocketHub(wss, options);
    if (options.server) return Promise.resolve(hub);
    return new Promise((resolve, reject) => {
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        resolve(hub);
      });
    });
  }

  /** The port listened on (of the shared HTTP server, if one was given). */
  get port(): number {
    const address = (this.options.server ?? this.wss).address() as AddressInfo;
    return address.port;
  }

  /** Connections open now. */
  get connections(): number {
    return this.links.size;
  }

  /** Closes every connection and stops listening. */
  close(): Promise<void> {
    for (const link of this.links) link.close();
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: NodeWebSocket, request: IncomingMessage): void {
    const name = this.documentName(request.url ?? '/');
    const documents = this.options.documents;
    const document = name === undefined ? undefined : typeof documents === 'function' ? documents(name) : documents.get(name);
    if (name === undefined || document === undefined) {
      socket.close(CLOSE_CODES.noDocument, JSON.stringify(name ?? request.url ?? '').slice(0, 120));
      return;
    }
    const link: MessageLink = new MessageLink(createFrameProtocol(document, this.options), socket as unknown as MessageSocket, {
      closed: ({ error }) => {
        this.links.delete(link);
        if (error) this.emit('peerError', error, name);
        this.emit('disconnected', name, error);
      },
    });
    this.links.add(link);
    this.emit('connection', name);
  }

  private documentName(url: string): string | undefined {
    const path = new URL(url, 'ws://localhost').pathname;
    const prefix = this.options.prefix ?? '/';
    if (!path.startsWith(prefix)) return undefined;
    try {
      const name = decodeURIComponent(path.slice(prefix.length));
      return name.length > 0 ? name : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Serves documents over WebSocket; see WebSocketHub. */
export function serveWebSocket(options: WebSocketServeOptions): Promise<WebSocketHub> {
  return WebSocketHub.listen(options);
}

/**
 * Replicates `replica` (a structure or a Doc) with the WebSocket server at
 * `url` (`ws://host:port/<document name>`), reconnecting with backoff. In
 * Node the `ws` package dials, unless `options.WebSocket` says otherwise.
 */
export function connectWebSocket(replica: Document, url: string, options: WebSocketConnectOptions = {}): WebSocketConnector {
  return new WebSocketConnector(replica, url, { ...options, WebSocket: options.WebSocket ?? (NodeWebSocket as unknown as WebSocketClass) });
}
