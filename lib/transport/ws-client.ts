import type { Replicable } from '../session/contract.js';
import type { StreamOptions } from '../stream/duplex.js';
import { type ProtocolSource, createFrameProtocol } from '../stream/frame-protocol.js';
import { type MessageSocket, MessageLink } from './message-link.js';
import { progressOf } from './progress.js';
import { disconnectInfo, isPermanent } from './reasons.js';
import { type Attempt, type AttemptEvents, type ReconnectOptions, Reconnector } from './reconnector.js';

/** A WebSocket class: the browser's own, or the `ws` package's in Node. */
export type WebSocketClass = new (url: string) => MessageSocket;

export interface WebSocketConnectOptions extends StreamOptions, ReconnectOptions {
  /** The WebSocket class to dial with. Default: the global `WebSocket` (browsers, Node 22+). */
  WebSocket?: WebSocketClass;
}

/**
 * Replicates `replica` (a structure or a Doc) with the WebSocket server at
 * `url`, whose path names the document: `ws://host:port/<name>`. Reconnects
 * with backoff; see Reconnector for the events (`'connecting'`,
 * `'connected'`, `'progress'`, `'synced'`, `'disconnected'` with a reason,
 * `'error'` on a permanent error, which stops the loop).
 */
export class WebSocketConnector extends Reconnector {
  private readonly WebSocket: WebSocketClass;

  constructor(
    private readonly replica: Replicable | ProtocolSource,
    readonly url: string,
    private readonly options: WebSocketConnectOptions = {},
  ) {
    super(options);
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (!WebSocketClass) throw new TypeError('no WebSocket class: pass options.WebSocket (in Node 20: the ws package\'s)');
    this.WebSocket = WebSocketClass;
  }

  protected open(events: AttemptEvents): Attempt {
    let socket: MessageSocket;
    try {
      socket = new this.WebSocket(this.url);
    } catch (err) {
      // A URL the WebSocket class refuses (not ws: or wss:, malformed) will not get better.
      queueMicrotask(() => events.ended({ reason: `cannot dial ${JSON.stringify(this.url)}: ${(err as Error).message}`, error: err as Error, permanent: true }));
      return { close: () => {} };
    }
    const protocol = createFrameProtocol(this.replica, this.options);
    let socketError: Error | undefined;
    let synced = false;
    socket.addEventListener('open', () => events.connected());
    socket.addEventListener('error', (event: { error?: unknown; message?: string }) => {
      socketError ??= event.error instanceof Error ? event.error : new Error(event.message || `could not connect to ${this.url}`);
    });
    const link = new MessageLink(protocol, socket, {
      synced: () => {
        synced = true;
        events.synced();
      },
      received: (bytes) => !synced && events.progress(progressOf(protocol, bytes)),
      closed: ({ error, code, reason, byUs }) => {
        const info = disconnectInfo({ closedByUs: byUs, socketError: error ? undefined : wsError(socketError), streamError: error, synced });
        if (!error && !socketError && !byUs && code !== 1000 && code !== 1005) info.reason += ` (close code ${code}${reason ? `: ${reason}` : ''})`;
        info.permanent = isPermanent(error);
        events.ended(info);
      },
    });
    return { close: () => link.close() };
  }
}

/** The `ws` package reports a non-WebSocket HTTP server as "Unexpected server response: 200": say what that means. */
function wsError(err: Error | undefined): Error | undefined {
  const status = err && /Unexpected server response: (\d+)/.exec(err.message)?.[1];
  if (!status) return err;
  return Object.assign(new Error(`an HTTP server answered with status ${status} instead of a WebSocket, not a tendril peer`), { cause: err });
}

/** Dials `url` with the global WebSocket (browsers); in Node, use the `connectWebSocket` of the main entry. */
export function connectWebSocket(replica: Replicable | ProtocolSource, url: string, options: WebSocketConnectOptions = {}): WebSocketConnector {
  return new WebSocketConnector(replica, url, options);
}
