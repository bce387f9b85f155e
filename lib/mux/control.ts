import { type Codec, constant, string, struct, uint, union } from '../codec/index.js';
import type { PeerInfo, Session } from '../session/contract.js';

/** Channel 0 carries the control messages; structures get 1, 2, 3... */
export const CONTROL_CHANNEL = 0;

/**
 * What one side of a multiplexed connection tells the other about its
 * channels. Each side numbers the channels it opens itself; the two sides'
 * channels for the same structure name are paired by name.
 */
export type ControlMessage =
  /** We opened channel `channel` for the structure called `name`; its frames follow. */
  | { type: 'open'; channel: number; name: string }
  /** We closed channel `channel`: no frames follow on it, and its number is free. */
  | { type: 'close'; channel: number };

// ONLY APPEND TO THIS LIST: the tags are the wire format.
export const controlCodec: Codec<ControlMessage> = union<ControlMessage>({
  open: [0, struct({ type: constant('open' as const), channel: uint, name: string })],
  close: [1, struct({ type: constant('close' as const), channel: uint })],
});

/** What the control session reports to the multiplexer. */
export interface ControlHandler {
  /** The peer opened a channel. */
  opened(channel: number, name: string): void;
  /** The peer closed a channel. */
  closed(channel: number): void;
  /** `message` leaves in the next control frame: the channel it opens may send after it. */
  announced(message: ControlMessage): void;
}

/**
 * The session of the control channel. Its initial exchange is the list of
 * channels open when the connection starts, so once the control channel is
 * synced each side knows which structures the other has.
 *
 * It does not stand on the session skeleton (BaseSession): it replicates no
 * state, has no opening that asks for a catch-up, and relays nothing between
 * connections (channel numbers belong to one connection). Its queue holds
 * only what this side's own Doc did (an open or a close per structure added
 * or removed), not anything a peer sends.
 */
export class ControlSession implements Session<ControlMessage> {
  readonly codec = controlCodec;
  onWake?: () => void;
  initialSent = false;
  private started = false;
  private queue: ControlMessage[] = [];
  private head = 0;

  constructor(private readonly handler: ControlHandler) {}

  /** Queues a message for the peer. */
  send(message: ControlMessage): void {
    this.queue.push(message);
    if (this.started) this.onWake?.();
  }

  start(_peer: PeerInfo): void {
    this.started = true;
    this.onWake?.();
  }

  receive(message: ControlMessage): void {
    if (message.type === 'open') this.handler.opened(message.channel, message.name);
    else this.handler.closed(message.channel);
  }

  pull(): ControlMessage | undefined {
    if (!this.started) return undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.initialSent = true;
      return undefined;
    }
    const message = this.queue[this.head++]!;
    this.handler.announced(message);
    return message;
  }

  close(): void {
    this.queue = [];
    this.head = 0;
  }
}
