/** What `Deadlines` needs of time: a clock in ms and one-shot timers (injected by tests). */
export interface TimerHost {
  now(): number;
  setTimer(fire: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Real time: a monotonic clock and Node's timers. */
export const REAL_TIME: TimerHost = {
  now: () => performance.now(),
  setTimer: (fire, ms) => setTimeout(fire, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A deadline that has not fired: `cancel()` when the request settles first. */
export interface Deadline {
  cancel(): void;
}

interface Entry extends Deadline {
  at: number;
  fire: (() => void) | undefined;
}

/** Entries of one timeout, in deadline order (created in time order), read from `head` on. */
interface Queue {
  entries: Entry[];
  head: number;
}

/**
 * Request timeouts for a node with one timer instead of one per request.
 *
 * Why: a quorum write made three timers (its own and one per replica call),
 * each a `setTimeout` and a `clearTimeout` into Node's timer lists; at
 * thousands of requests a second that is a measurable share of a node's
 * CPU. Requests of one timeout are created in time order, so their
 * deadlines come in order too: a FIFO per distinct timeout holds them
 * sorted for free, and one timer set for the earliest head fires them all.
 * A cancelled deadline is only marked, and dropped when it reaches the head.
 * With nothing pending the timer is cleared, so an idle node holds no timer
 * (a process with nothing to do may exit, as with plain timers).
 */
export class Deadlines {
  private readonly queues = new Map<number, Queue>();
  /** Deadlines neither fired nor cancelled. */
  private live = 0;
  private timer: unknown;
  /** When the timer is set to fire (clock ms), if set. */
  private timerAt = Infinity;

  constructor(private readonly time: TimerHost = REAL_TIME) {}

  /** Calls `fire` once `timeoutMs` have passed, unless cancelled first. */
  add(timeoutMs: number, fire: () => void): Deadline {
    const at = this.time.now() + timeoutMs;
    let queue = this.queues.get(timeoutMs);
    if (!queue) this.queues.set(timeoutMs, (queue = { entries: [], head: 0 }));
    const entry: Entry = {
      at,
      fire,
      cancel: () => {
        if (entry.fire === undefined) return;
        entry.fire = undefined;
        if (--this.live === 0) this.reset();
      },
    };
    queue.entries.push(entry);
    this.live++;
    if (at < this.timerAt) this.arm(at);
    return entry;
  }

  /** Deadlines pending (for tests and reports). */
  get pending(): number {
    return this.live;
  }

  /** Nothing pending: forget every cancelled entry and clear the timer. */
  private reset(): void {
    this.queues.clear();
    if (this.timer !== undefined) this.time.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.time.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.time.setTimer(() => this.sweep(), Math.max(1, Math.ceil(at - this.time.now())));
  }

  /** Fires every deadline that has passed, then sets the timer for the earliest one left. */
  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.time.now();
    const due: Array<() => void> = [];
    let next = Infinity;
    for (const [timeout, queue] of this.queues) {
      const { entries } = queue;
      while (queue.head < entries.length) {
        const entry = entries[queue.head];
        if (entry.fire !== undefined && entry.at > now) break;
        queue.head++;
        if (entry.fire !== undefined) {
          due.push(entry.fire);
          entry.fire = undefined;
          this.live--;
        }
      }
      if (queue.head === entries.length) this.queues.delete(timeout);
      else {
        // Drop the consumed prefix now and then, so a busy queue does not grow without end.
        if (queue.head > 1024 && queue.head * 2 > entries.length) {
          queue.entries = entries.slice(queue.head);
          queue.head = 0;
        }
        next = Math.min(next, queue.entries[queue.head].at);
      }
    }
    if (next < Infinity && this.live > 0) this.arm(next);
    else if (this.live === 0) this.queues.clear();
    // Fired after the bookkeeping: a callback may add or cancel deadlines.
    for (const fire of due) fire();
  }
}

/** The deadlines every vine node and client of this process shares unless given its own: one timer for all. */
export const sharedDeadlines = new Deadlines();
