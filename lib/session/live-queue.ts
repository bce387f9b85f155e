/**
 * The live items waiting for one peer, in order, at most `limit` of them.
 * Past the limit the queue empties itself and reports it: the session then
 * falls back to a fresh catch-up from what the peer is known to have, so a
 * slow or stalled peer costs bounded memory however many writes it misses.
 *
 * A queue with a moving head: `shift()` on a long array is quadratic.
 */
export class LiveQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends `item`; returns false, having emptied the queue, if it was full. */
  push(item: T): boolean {
    if (this.length >= this.limit) {
      this.clear();
      return false;
    }
    this.items.push(item);
    return true;
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T; // let it be collected
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
