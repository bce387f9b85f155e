import { errors } from '../errors.js';
import { LiveQueue } from '../session/live-queue.js';
import type { LiveMember, SessionSet } from '../session/session-set.js';
import type { EntryMessage } from './messages.js';
import type { Outbox } from './outbox.js';

/**
 * Most live writes queued for one peer. A Merkle session cannot restart its
 * walk (or its symbols) in the middle of a connection, so a peer that falls
 * further behind is disconnected with ERR_LIMIT: the next connection's sync
 * brings it up to date, at the cost of what differs only.
 */
const MAX_QUEUED = 1 << 16;

/** A live write for a peer: the key and its record as stored. */
export interface LiveEntry {
  key: string;
  record: Uint8Array;
}

/**
 * A Merkle session's live writes for its peer: its place in the store's
 * fan-out, and the skeleton's bounded queue, whose overflow ends the
 * session through its outbox.
 */
export class LiveEntries {
  private readonly queue: LiveQueue<LiveEntry>;
  private leave: (() => void) | undefined;

  constructor(
    maxQueued: number | undefined,
    private readonly outbox: Outbox,
  ) {
    this.queue = new LiveQueue(maxQueued ?? MAX_QUEUED);
  }

  /** Live writes waiting. */
  get length(): number {
    return this.queue.length;
  }

  /** Takes every record that changes in the store from now on, as `member` of its fan-out. */
  join(peers: SessionSet<LiveEntry>, member: LiveMember<LiveEntry>): void {
    this.leave = peers.add(member);
  }

  offer(entry: LiveEntry): void {
    if (!this.queue.push(entry)) this.outbox.fail(errors.limit('live writes queued for a peer that does not read (reconnect to resync)', this.queue.limit + 1, this.queue.limit));
  }

  /** The next live write as a message, if one waits. */
  next(): EntryMessage | undefined {
    const entry = this.queue.shift();
    return entry && { type: 'entry', key: entry.key, record: entry.record };
  }

  /** Leaves the fan-out and hands what waits to `to`, in order. */
  handOver(to: { offer(entry: LiveEntry): void }): void {
    this.leave?.();
    this.leave = undefined;
    for (let entry = this.queue.shift(); entry; entry = this.queue.shift()) to.offer(entry);
  }

  /** Leaves the fan-out and drops what waits. */
  close(): void {
    this.leave?.();
    this.leave = undefined;
    this.queue.clear();
  }
}
