import { EventEmitter } from 'node:events';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import type { DisconnectInfo } from './reasons.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'synced' | 'disconnected';

/**
 * How far the initial exchange of a connection has come: the peer announces
 * how many updates its catch-up carries, and each one received counts.
 */
export interface Progress {
  /** Bytes received on this connection so far. */
  bytes: number;
  /**
   * Updates of the peer's catch-up received, of the total it announced (for
   * a Doc, summed over its channels), in each structure's unit: updates of a
   * Model or Log, dots of a CRDT, elements of a Seq, records of a
   * MerkleStore. Absent until the peer has announced its catch-up.
   */
  updates?: { done: number; total: number };
  /** For a Doc: channels synced, of the channels both sides hold. */
  channels?: { synced: number; total: number };
}

export interface ReconnectOptions {
  /** Reconnect after the connection drops or fails. Default true. */
  reconnect?: boolean;
  backoff?: BackoffOptions;
}

/** One connection attempt, made by a transport; `close()` ends it from our side. */
export interface Attempt {
  close(): void;
}

/** What a transport reports about the attempt it is making. */
export interface AttemptEvents {
  connected(): void;
  progress(progress: Progress): void;
  synced(): void;
  ended(info: DisconnectInfo): void;
}

/**
 * The reconnect loop every client transport shares: status events, backoff
 * between attempts (reset once an attempt syncs), a reason on every
 * disconnect, and a stop with `'error'` on a permanent error.
 *
 * Events: `'status'` (status, info?) on every change, and each status on
 * its own: `'connecting'`, `'connected'`, `'synced'`, `'disconnected'`
 * (DisconnectInfo); `'progress'` (Progress) during the initial exchange;
 * `'error'` (err) when the loop stops on a permanent error (a kind, name,
 * cluster or version mismatch); `'close'` once the loop has stopped.
 */
export abstract class Reconnector extends EventEmitter {
  status: ConnectionStatus = 'disconnected';
  /** The reason the last connection ended, if one has. */
  lastDisconnect: DisconnectInfo | undefined;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: Attempt | undefined;
  private stopped = false;

  constructor(private readonly reconnectOptions: ReconnectOptions) {
    super();
    // The first attempt starts once the caller has attached its listeners.
    queueMicrotask(() => this.dial());
  }

  /** Ends the current connection and stops reconnecting. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.current) this.current.close();
    else this.emit('close');
  }

  get closed(): boolean {
    return this.stopped;
  }

  /** Makes one attempt, reporting to `events`. */
  protected abstract open(events: AttemptEvents): Attempt;

  private dial(): void {
    if (this.stopped) return;
    this.setStatus('connecting');
    let ended = false;
    this.current = this.open({
      connected: () => !ended && this.setStatus('connected'),
      progress: (progress) => !ended && this.emit('progress', progress),
      synced: () => {
        if (ended) return;
        this.attempts = 0;
        this.setStatus('synced');
      },
      ended: (info) => {
        if (ended) return;
        ended = true;
        this.current = undefined;
        this.lastDisconnect = info;
        this.setStatus('disconnected', info);
        if (info.permanent || this.stopped || this.reconnectOptions.reconnect === false) {
          const failed = info.permanent && !this.stopped;
          this.stopped = true;
          try {
            if (failed) this.emit('error', info.error);
          } finally {
            this.emit('close');
          }
          return;
        }
        this.timer = setTimeout(() => this.dial(), backoffDelay(this.attempts++, this.reconnectOptions.backoff));
      },
    });
  }

  private setStatus(status: ConnectionStatus, info?: DisconnectInfo): void {
    this.status = status;
    this.emit('status', status, info);
    this.emit(status, info);
  }
}
