/**
 * Work to run at a virtual time. A hot path passes an object of its own
 * (one datagram in flight is one object whose label is computed only when
 * it runs) rather than a closure and a label string: at 100,000 nodes the
 * events pending within a round are what the heap holds.
 */
export interface Task {
  run(): void;
  readonly label: string;
}

/** A scheduled event; pass it to `cancel()` to drop it. */
export interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly task: Task;
  cancelled: boolean;
}

/**
 * The virtual clock and the event queue. Time only moves when the next event
 * runs; events at the same instant run in the order they were scheduled
 * (a binary heap on (time, sequence number)), so a run never depends on the
 * host's timing.
 *
 * Every executed event is folded into `traceHash` (its time and label), so two
 * runs can be compared event for event without keeping the whole trace.
 */
export class Scheduler {
  /** Virtual time, in ms since the start of the run. */
  now = 0;
  /** Events executed so far. */
  executed = 0;
  /** FNV-1a over "time label" of every executed event. */
  traceHash = 0x811c9dc5;
  /** When set, every executed event is also appended here as "time label". */
  trace: string[] | undefined;

  private heap: Timer[] = [];
  private seq = 0;

  /** Runs `run` after `delay` ms of virtual time (0 = later in this instant). */
  schedule(delay: number, run: (() => void) | Task, label = ''): Timer {
    if (!(delay >= 0)) throw new RangeError(`bad delay ${delay}`);
    return this.at(this.now + delay, run, label);
  }

  /** Runs `run` (a function with its `label`, or a task) at virtual time `at` (not before now). */
  at(at: number, run: (() => void) | Task, label = ''): Timer {
    const task = typeof run === 'function' ? { run, label } : run;
    const timer: Timer = { at: Math.max(at, this.now), seq: this.seq++, task, cancelled: false };
    this.push(timer);
    return timer;
  }

  cancel(timer: Timer | undefined): void {
    if (timer) timer.cancelled = true;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Runs the next event; false if there is none. */
  step(): boolean {
    const timer = this.pop();
    if (!timer) return false;
    if (timer.cancelled) return true;
    this.now = timer.at;
    this.executed++;
    this.record(timer);
    timer.task.run();
    return true;
  }

  /** Runs every event up to and including time `until`, then sets the clock to `until`. */
  runUntil(until: number): void {
    while (this.heap.length > 0 && this.heap[0]!.at <= until) this.step();
    if (until > this.now) this.now = until;
  }

  /**
   * `runUntil` for code that finishes its work on promises: after every
   * event, waits for a turn of the host's event loop, so every promise
   * chain the event started (an in-memory database's reads and writes)
   * settles before virtual time moves on. Only work that never waits on
   * real I/O or real timers stays deterministic this way.
   */
  async runUntilAsync(until: number, afterEach?: () => void): Promise<void> {
    await settle();
    while (this.heap.length > 0 && this.heap[0]!.at <= until) {
      this.step();
      await settle();
      afterEach?.();
    }
    if (until > this.now) this.now = until;
  }

  /** Runs until the queue is empty or `limit` time is reached. */
  runUntilIdle(limit = Infinity): void {
    while (this.heap.length > 0 && this.heap[0]!.at <= limit) this.step();
  }

  private record(timer: Timer): void {
    const line = `${timer.at} ${timer.task.label}`;
    this.trace?.push(line);
    let h = this.traceHash;
    for (let i = 0; i < line.length; i++) {
      h ^= line.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    this.traceHash = h;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
