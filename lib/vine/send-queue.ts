import type { Socket } from 'node:net';
import { type EncodeState, uint } from '../codec/index.js';
import { BATCH_TAG, type BatchItem, MAX_BATCH_ITEMS, batchItemCodec } from './messages.js';

/**
 * A connection's outgoing requests or replies, written once per turn of the
 * event loop (in setImmediate, after the loop's whole I/O phase): whatever
 * the turn produced for this peer leaves as one batch frame in one socket
 * write. A frame per request and per reply, each encoded, written and
 * decoded on its own, was a large share of a request's cost.
 */
export class SendQueue {
  private items: BatchItem[] = [];
  private scheduled = false;

  constructor(
    private readonly socket: Socket,
    private readonly maxFrameBytes: number,
  ) {}

  push(item: BatchItem): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    schedule(this);
  }

  /** @internal Writes what the turn produced (called once per turn by the shared flush). */
  flush(): void {
    this.scheduled = false;
    const items = this.items;
    this.items = [];
    if (this.socket.writable) this.socket.write(encodeFrames(items, this.maxFrameBytes));
  }
}

/** The queues with items this turn: one `setImmediate` flushes them all (not one per connection). */
let due: SendQueue[] = [];

function schedule(queue: SendQueue): void {
  if (due.length === 0) setImmediate(flushAll);
  due.push(queue);
}

function flushAll(): void {
  const queues = due;
  due = [];
  for (const queue of queues) {
    try {
      queue.flush();
    } catch (err) {
      // One connection's failure is its own: the others still get their frames.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

/**
 * The frames carrying `items`, in order, in one buffer: a lone item as a
 * plain frame, more as batches of at most MAX_BATCH_ITEMS items and
 * `maxFrameBytes` each. An item too large for a frame goes alone, and the
 * peer refuses it as it would have unbatched.
 */
export function encodeFrames(items: readonly BatchItem[], maxFrameBytes: number): Buffer {
  const lengths = items.map((item) => batchItemCodec.encodingLength(item));
  // Groups as [first item, end, body length].
  const groups: Array<[number, number, number]> = [];
  for (let start = 0; start < items.length; ) {
    let end = start + 1;
    let sum = lengths[start];
    // The batch's tag and item count take at most 1 + 2 bytes.
    while (end < items.length && end - start < MAX_BATCH_ITEMS && 3 + sum + lengths[end] <= maxFrameBytes) sum += lengths[end++];
    const count = end - start;
    groups.push([start, end, count === 1 ? sum : uint.encodingLength(BATCH_TAG) + uint.encodingLength(count) + sum]);
    start = end;
  }
  let total = 0;
  for (const [, , body] of groups) total += uint.encodingLength(body) + body;
  const state: EncodeState = { buffer: Buffer.allocUnsafe(total), offset: 0 };
  for (const [start, end, body] of groups) {
    uint.encode(body, state);
    if (end - start > 1) {
      uint.encode(BATCH_TAG, state);
      uint.encode(end - start, state);
    }
    for (let i = start; i < end; i++) batchItemCodec.encode(items[i], state);
  }
  if (state.offset !== total) throw new Error(`frames took ${state.offset} bytes, not ${total}`);
  return state.buffer;
}
