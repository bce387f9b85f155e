import { ReplicationError, errors } from '../errors.js';
import type { MerkleMessage } from './messages.js';

/** Stop reading entries from the database while this many bytes wait to be pulled. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * What a Merkle session has to say and has not yet handed out, and the
 * asynchronous work that produces it. The database is asynchronous while a
 * session's `receive` and `pull` are not: reads and merges run in order on
 * one promise chain and push messages here; an error of that work is kept
 * in `failure`, for the session to throw from its next `pull()`. Producers
 * wait for `space()`, so a large exchange is read from the database only as
 * fast as the transport takes it.
 */
export class Outbox {
  /** The error that ended the session's work, if any. */
  failure: ReplicationError | undefined;
  private out: MerkleMessage[] = [];
  private head = 0;
  private bytes = 0;
  private spaceWaiter: (() => void) | undefined;
  private work: Promise<void> = Promise.resolve();
  private closed = false;

  /** `wake` tells the session's driver that `pull()` may have something new. */
  constructor(private readonly wake: () => void) {}

  /** Messages wait to be handed out. */
  get pending(): boolean {
    return this.head < this.out.length;
  }

  push(message: MerkleMessage): void {
    if (this.closed) return;
    this.out.push(message);
    this.bytes += sizeOf(message);
    this.wake();
  }

  /** The next message, in order; undefined if none waits. */
  shift(): MerkleMessage | undefined {
    if (this.head >= this.out.length) return undefined;
    const message = this.out[this.head];
    this.out[this.head++] = undefined as unknown as MerkleMessage;
    if (this.head > 1024 && this.head * 2 > this.out.length) {
      this.out = this.out.slice(this.head);
      this.head = 0;
    }
    this.bytes -= sizeOf(message);
    if (this.spaceWaiter && this.bytes < HIGH_WATER_BYTES / 2) {
      const resume = this.spaceWaiter;
      this.spaceWaiter = undefined;
      resume();
    }
    return message;
  }

  /** Resolves once the waiting messages are below the high-water mark. */
  space(): Promise<void> {
    if (this.bytes < HIGH_WATER_BYTES || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.spaceWaiter = resolve));
  }

  /** Runs `task` after the work queued before it; a failure ends the session. */
  enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(async () => {
      if (this.closed || this.failure) return;
      try {
        await task();
      } catch (err) {
        this.fail(err);
      }
      this.wake();
    });
  }

  /** Ends the session's work with `err` (coded), thrown from its next pull. */
  fail(err: unknown): void {
    if (this.closed || this.failure) return;
    this.failure = err instanceof ReplicationError ? err : errors.decode(`replication failed: ${(err as Error)?.message ?? err}`, err);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.out = [];
    this.head = 0;
    this.spaceWaiter?.();
    this.spaceWaiter = undefined;
  }
}

/** About what a message costs to hold and send, in bytes. */
export function sizeOf(message: MerkleMessage): number {
  switch (message.type) {
    case 'entry':
      return message.key.length + message.record.length + 4;
    case 'hashes':
      return message.hashes.length + message.parents.length * 3 + 4;
    case 'covered':
      return message.buckets.length * 2 + 4;
    case 'decoded':
      return message.positions.length * 5 + 4;
    default:
      return 4;
  }
}
