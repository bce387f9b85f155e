import { ReplicationError, errors } from '../errors.js';
import type { FrameProtocol } from '../stream/frame-protocol.js';

/**
 * The part of a WebSocket the link uses: the browser's own `WebSocket` and
 * the `ws` package's both have it. One message carries one frame, so no
 * length prefix is needed.
 */
export interface MessageSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
}

const OPEN = 1;
/** Frames sent in one go before the link yields to the event loop. */
const FRAMES_PER_TURN = 16;
/** The link stops sending while more than this many bytes wait in the socket: 1 MiB. */
const HIGH_WATER_BYTES = 1 << 20;
/** Close codes of our own (4000-4999 is the application range). */
export const CLOSE_CODES = {
  /** The connection failed with a coded error; the reason holds the code and message. */
  failed: 4000,
  /** The server has no document of the requested name. */
  noDocument: 4404,
} as const;

export interface MessageLinkEvents {
  /** The initial exchange is complete both ways. */
  synced?(): void;
  /** A frame arrived; `bytes` counts all frames so far. */
  received?(bytes: number): void;
  /** The link is over: `error` if it failed, `code` and `reason` from the close. */
  closed?(result: { error: ReplicationError | undefined; code: number; reason: string; byUs: boolean }): void;
}

/**
 * Drives a frame protocol over a WebSocket: one frame per binary message,
 * with backpressure on the socket's `bufferedAmount`. A failure sends the
 * peer an error frame and closes with code 4000; a non-live sync closes
 * with 1000 once done. Used by the WebSocket server and client, in Node and
 * in the browser alike.
 */
export class MessageLink {
  private scheduled = false;
  private done = false;
  private syncedReported = false;
  private failure: ReplicationError | undefined;
  private bytes = 0;
  private closedByUs = false;

  constructor(
    readonly protocol: FrameProtocol,
    private readonly socket: MessageSocket,
    private readonly events: MessageLinkEvents = {},
  ) {
    socket.binaryType = 'arraybuffer';
    protocol.onWake = () => this.schedule();
    socket.addEventListener('open', this.onOpen);
    socket.addEventListener('message', this.onMessage);
    socket.addEventListener('close', this.onClose);
    // An error is followed by 'close', which reports it.
    socket.addEventListener('error', this.onError);
    if (socket.readyState === OPEN) this.schedule();
  }

  /** Ends the link from our side, normally. */
  close(): void {
    this.closedByUs = true;
    this.protocol.close();
    this.socket.close(1000, 'closed');
  }

  private onOpen = () => this.schedule();
  private onError = () => {};

  private onMessage = (event: { data: unknown }) => {
    if (this.done || this.failure) return;
    const data = event.data;
    if (!(data instanceof ArrayBuffer)) {
      this.fail(errors.decode('text message on a binary link'));
      return;
    }
    const frame = new Uint8Array(data);
    this.bytes += frame.byteLength;
    if (frame.byteLength > this.protocol.options.maxFrameBytes) {
      this.fail(errors.frameTooLarge(this.protocol.options.maxFrameBytes, frame.byteLength));
      return;
    }
    try {
      this.protocol.receive(frame);
    } catch (err) {
      this.fail(coded(err));
      return;
    }
    this.events.received?.(this.bytes);
    if (this.protocol.peerFailure) {
      this.finish(1000, 'peer failed');
      return;
    }
    this.checkSynced();
    this.schedule();
  };

  private onClose = (event: { code: number; reason: string }) => {
    if (this.done) return;
    this.done = true;
    this.protocol.close();
    this.socket.removeEventListener('open', this.onOpen);
    this.socket.removeEventListener('message', this.onMessage);
    this.socket.removeEventListener('close', this.onClose);
    this.socket.removeEventListener('error', this.onError);
    const error = this.failure ?? this.protocol.peerFailure ?? closeError(event.code, event.reason);
    this.events.closed?.({ error, code: event.code, reason: String(event.reason ?? ''), byUs: this.closedByUs });
  };

  private schedule(nextTurn = false): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    if (nextTurn) setTimeout(() => this.flush(), 0);
    else queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.done || this.failure || this.socket.readyState !== OPEN) return;
    try {
      for (let sent = 0; ; sent++) {
        if (sent === FRAMES_PER_TURN || this.socket.bufferedAmount > HIGH_WATER_BYTES) {
          // The browser's WebSocket has no 'drain': look again on a later turn.
          this.schedule(true);
          break;
        }
        const frame = this.protocol.nextFrame();
        if (frame === undefined) break;
        this.socket.send(frame);
      }
    } catch (err) {
      this.fail(coded(err));
      return;
    }
    this.checkSynced();
    if (this.protocol.finished) this.finish(1000, 'done');
  }

  private checkSynced(): void {
    if (!this.syncedReported && this.protocol.synced) {
      this.syncedReported = true;
      this.events.synced?.();
    }
  }

  /** Tells the peer why in an error frame, then closes with code 4000. */
  private fail(err: ReplicationError): void {
    if (this.failure || this.done) return;
    this.failure = err;
    const frame = this.protocol.fail(err);
    if (frame && this.socket.readyState === OPEN) this.socket.send(frame);
    this.finish(CLOSE_CODES.failed, `${err.code}: ${err.message}`);
  }

  private finish(code: number, reason: string): void {
    this.protocol.close();
    // A close reason is at most 123 bytes.
    this.socket.close(code, truncate(reason, 120));
  }
}

/** What a close code the link did not cause itself says about the connection. */
function closeError(code: number, reason: string): ReplicationError | undefined {
  if (code === CLOSE_CODES.noDocument) return errors.handshake(`the server has no document: ${reason}`);
  if (code === CLOSE_CODES.failed) {
    const match = /^(ERR_[A-Z_]+): (.*)$/s.exec(reason);
    return match ? errors.remote(match[1]!, match[2]!) : errors.remote('ERR_REMOTE', reason);
  }
  return undefined;
}

function truncate(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = text.slice(0, maxBytes);
  while (encoder.encode(out).length > maxBytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}

function coded(err: unknown): ReplicationError {
  if (err instanceof ReplicationError) return err;
  return errors.decode(`unexpected failure: ${(err as Error)?.message ?? err}`, err);
}
