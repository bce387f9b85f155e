import { errors } from '../errors.js';
import { Item, sameId } from './item.js';
import { BlockIndex } from './block-index.js';
import { DIGEST_BUCKET, type DeleteDigest, type DeleteDigests, digestOf, forEachBucket, sameDigest } from './delete-digest.js';
import type { DecodedUpdate, Delta, RunSource, Struct } from './update-codec.js';

/** One change as listeners see it, in the Quill-delta style that Yjs uses too. */
export type DeltaOp = { retain: number } | { insert: string | unknown[] } | { delete: number };

/** A cached position: `index` is the number of visible elements before `item`. */
interface Marker {
  item: Item;
  index: number;
}

/** What applying something changed: the ids to relay and, if asked, the change for listeners. */
export interface Applied {
  delta: Delta;
  ops: DeltaOp[] | undefined;
}

export interface DocumentOptions {
  /** This replica's client id: a safe integer no other replica uses. */
  clientId: number;
  /** Most runs waiting for missing predecessors before updates are refused. Default 100,000. */
  maxPending?: number;
}

const MAX_MARKERS = 16;
/** A walk longer than this many runs from a marker leaves a new marker behind. */
const MARKER_REUSE_STEPS = 48;
const NO_RUNS: Item[] = [];
/**
 * Longest run grown by typing, in elements. Appending to a string makes a
 * rope that V8 flattens on the next slice; bounding runs bounds that copy.
 * The encoder joins such runs again, so the wire does not see the bound.
 */
const MAX_RUN = 256;

/**
 * The replicated list, with no I/O: local edits, and integration of remote
 * runs with the YATA algorithm (Nicolaescu et al., "Near Real-Time Peer-to-Peer
 * Shared Editing on Extensible Data Types", GROUP 2016), as Yjs implements it.
 *
 * How it works:
 * - Every element has an id `(client, clock)`; each client numbers its own
 *   elements 0, 1, 2, ... so a per-client clock (the state vector) says
 *   exactly which elements a replica has.
 * - Elements are stored in runs (`Item`): consecutive elements typed by one
 *   client, split only when an edit lands inside. A paragraph typed in one go
 *   is one object, and one record on the wire.
 * - Each run remembers its `origin` (the element left of it when it was
 *   inserted) and its `rightOrigin` (the element right of it). A replica
 *   places a remote run right after its origin; if other runs already sit
 *   between origin and rightOrigin (concurrent inserts at the same place),
 *   YATA's rule orders them: runs with the same origin are ordered by client
 *   id (lower client first), and a run whose origin lies inside a run already
 *   passed is kept after it. Every replica that has the same runs therefore
 *   builds the same order, whatever the delivery order.
 * - Because each typed element's origin is the element typed just before it,
 *   a run typed by one user stays together: another user's concurrent run at
 *   the same place goes wholly before or wholly after it, never in between.
 * - Deleted elements stay in the list as tombstones (length only, content
 *   dropped) so that later runs can still refer to them.
 * - Finding the run at an index uses a few cached positions (markers), so
 *   typing near the last edit costs O(1) instead of a scan from the start.
 *   A remote update drops the markers (its runs land at positions we do not
 *   know without a walk), so the first local edit after one walks from the
 *   start or from a fresh marker: O(runs), as in Yjs.
 * - Runs arrive in clock order per client; a run whose predecessor, origin or
 *   rightOrigin is still missing waits in a pending queue, and so does a
 *   deletion of elements not yet seen. Updates therefore apply in any order,
 *   any number of times, with the same result.
 */
export class SeqDocument implements RunSource {
  readonly clientId: number;
  /** Visible elements. */
  length = 0;
  /** First run in document order. */
  start: Item | null = null;

  private readonly clients = new Map<number, Item[]>();
  private readonly maxPending: number;
  private markers: Marker[] = [];
  private nextMarker = 0;
  private tx = 0;
  private readonly pending = new Map<number, { list: Struct[]; pos: number }>();
  private pendingCount = 0;
  /** Deletions of elements not seen yet, per client: flat (clock, len) pairs. */
  private readonly pendingDeletes = new Map<number, number[]>();
  private pendingDeleteCount = 0;
  /** Pending runs' clients that wait for `client`'s clock to advance, by `client`. */
  private readonly blocked = new Map<number, Set<number>>();
  /** Visible elements before any run, in O(runs / 64 + 128): what change events need. */
  private readonly index = new BlockIndex();
  /**
   * @internal How remote change events are described: from the touched runs
   * (`'touched'`), by a walk of the list (`'walk'`), or the cheaper of the
   * two for the update at hand (`'auto'`, the default). `'touched-general'`
   * is `'touched'` without its shortcut for one touched run. Tests force each.
   */
  describeWith: 'auto' | 'touched' | 'touched-general' | 'walk' = 'auto';
  /** While a remote update is applied for listeners: every run it inserted or deleted (and the parts they were cut into). */
  private touched: Item[] | undefined;
  // The result of the last locate(), kept in fields to avoid allocating.
  private foundItem: Item | null = null;
  private foundIndex = 0;

  constructor(options: DocumentOptions) {
    if (!Number.isSafeInteger(options.clientId) || options.clientId < 0) throw errors.invalidArgument(`invalid client id ${options.clientId}`);
    this.clientId = options.clientId;
    this.maxPending = options.maxPending ?? 100_000;
  }

  // ---- the run store -------------------------------------------------------

  runsOf(client: number): Item[] {
    return this.clients.get(client) ?? NO_RUNS;
  }

  /** Index of the run holding `clock` in its client's runs (binary search). */
  indexOf(client: number, clock: number): number {
    const runs = this.runsOf(client);
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const run = runs[mid];
      if (clock < run.clock) hi = mid - 1;
      else if (clock >= run.clock + run.len) lo = mid + 1;
      else return mid;
    }
    throw new Error(`no run holds ${client}:${clock}`);
  }

  /** Clock of the next element expected from `client`. */
  nextClock(client: number): number {
    const runs = this.clients.get(client);
    if (runs === undefined || runs.length === 0) return 0;
    const last = runs[runs.length - 1];
    return last.clock + last.len;
  }

  stateVector(): Map<number, number> {
    const vector = new Map<number, number>();
    for (const client of this.clients.keys()) vector.set(client, this.nextClock(client));
    return vector;
  }

  /** Runs waiting for something they depend on. */
  get pendingRuns(): number {
    return this.pendingCount;
  }

  private find(client: number, clock: number): Item {
    return this.runsOf(client)[this.indexOf(client, clock)];
  }

  private splitRun(item: Item, offset: number): Item {
    const runs = this.clients.get(item.client)!;
    const index = this.indexOf(item.client, item.clock);
    const right = item.split(offset);
    runs.splice(index + 1, 0, right);
    this.index.splitOff(right);
    if (this.touched !== undefined && (item.born === this.tx || item.died === this.tx)) this.touched.push(right);
    return right;
  }

  /** The run that starts at `(client, clock)`, splitting if needed. */
  private cleanStart(client: number, clock: number): Item {
    const item = this.find(client, clock);
    return item.clock === clock ? item : this.splitRun(item, clock - item.clock);
  }

  /** The run that ends at `(client, clock)`, splitting if needed. */
  private cleanEnd(client: number, clock: number): Item {
    const item = this.find(client, clock);
    if (clock < item.clock + item.len - 1) this.splitRun(item, clock - item.clock + 1);
    return item;
  }

  private link(item: Item, left: Item | null): void {
    const right = left ? left.right : this.start;
    item.left = left;
    item.right = right;
    if (left) left.right = item;
    else this.start = item;
    if (right) right.left = item;
    this.index.added(item);
  }

  private runsFor(client: number): Item[] {
    let runs = this.clients.get(client);
    if (runs === undefined) {
      runs = [];
      this.clients.set(client, runs);
    }
    return runs;
  }

  // ---- positions -----------------------------------------------------------

  /** Finds the visible run holding element `i` (0 <= i < length) into foundItem/foundIndex. */
  private locate(i: number): void {
    let item = this.start!;
    let index = 0;
    let best: Marker | undefined;
    let distance = i;
    for (const marker of this.markers) {
      const d = Math.abs(marker.index - i);
      if (d < distance) {
        distance = d;
        best = marker;
      }
    }
    if (best) {
      item = best.item;
      index = best.index;
    }
    let steps = 0;
    if (index > i) {
      while (index > i) {
        item = item.left!;
        if (!item.deleted) index -= item.len;
        steps++;
      }
    } else {
      while (true) {
        if (!item.deleted) {
          if (i < index + item.len) break;
          index += item.len;
        }
        item = item.right!;
        steps++;
      }
    }
    if (best && steps < MARKER_REUSE_STEPS) {
      best.item = item;
      best.index = index;
    } else if (steps > 0 || best === undefined) {
      if (this.markers.length < MAX_MARKERS) this.markers.push({ item, index });
      else {
        const marker = this.markers[this.nextMarker];
        this.nextMarker = (this.nextMarker + 1) % MAX_MARKERS;
        marker.item = item;
        marker.index = index;
      }
    }
    this.foundItem = item;
    this.foundIndex = index;
  }

  /** Reads element `i`. */
  get(i: number): string | unknown {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined;
    this.locate(i);
    const content = this.foundItem!.content!;
    return content[i - this.foundIndex];
  }

  /** True if element `i` is a text element (a UTF-16 unit), false for a value. */
  isTextAt(i: number): boolean {
    this.locate(i);
    return typeof this.foundItem!.content === 'string';
  }

  // ---- local edits ---------------------------------------------------------

  /** Inserts text (one element per UTF-16 unit) or values at `index`. */
  insert(index: number, content: string | unknown[], wantOps: boolean): Applied | undefined {
    if (!Number.isInteger(index) || index < 0 || index > this.length) {
      throw errors.invalidArgument(`insert index ${index} outside 0..${this.length}`);
    }
    const n = content.length;
    if (n === 0) return undefined;
    const tx = ++this.tx;
    let left: Item | null = null;
    if (index > 0) {
      this.locate(index - 1);
      const item = this.foundItem!;
      const offset = index - this.foundIndex;
      if (offset < item.len) {
        if (typeof item.content === 'string' && isHighSurrogate(item.content.charCodeAt(offset - 1))) {
          throw errors.invalidArgument(`index ${index} is inside a surrogate pair`);
        }
        this.splitRun(item, offset);
      }
      left = item;
    }
    const right = left ? left.right : this.start;
    const rightClient = right ? right.client : -1;
    const rightClock = right ? right.clock : 0;
    const client = this.clientId;
    const clock = this.nextClock(client);
    if (
      left !== null &&
      left.client === client &&
      left.clock + left.len === clock &&
      left.len < MAX_RUN &&
      !left.deleted &&
      left.rightClient === rightClient &&
      left.rightClock === rightClock &&
      typeof left.content === typeof content
    ) {
      // Typing on at the end of our own run: grow it instead of adding one.
      left.content = typeof content === 'string' ? (left.content as string) + content : (left.content as unknown[]).concat(content);
      left.len += n;
      this.index.changed(left, n);
    } else {
      const item = new Item(client, clock, n, content, left ? left.client : -1, left ? left.clock + left.len - 1 : 0, rightClient, rightClock, tx);
      this.link(item, left);
      this.runsFor(client).push(item);
    }
    this.length += n;
    for (const marker of this.markers) if (marker.index >= index) marker.index += n;
    const ops: DeltaOp[] | undefined = wantOps ? (index > 0 ? [{ retain: index }, { insert: content }] : [{ insert: content }]) : undefined;
    return { delta: { items: [client, clock, clock + n], deletes: [] }, ops };
  }

  /** Deletes `count` elements from `index`. */
  delete(index: number, count: number, wantOps: boolean): Applied | undefined {
    if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || count < 0 || index + count > this.length) {
      throw errors.invalidArgument(`delete range ${index}+${count} outside 0..${this.length}`);
    }
    if (count === 0) return undefined;
    const tx = ++this.tx;
    this.locate(index);
    let item: Item | null = this.foundItem!;
    const offset = index - this.foundIndex;
    if (offset > 0) {
      if (typeof item.content === 'string' && isHighSurrogate(item.content.charCodeAt(offset - 1))) {
        throw errors.invalidArgument(`index ${index} is inside a surrogate pair`);
      }
      item = this.splitRun(item, offset);
    }
    const deletes: number[] = [];
    let remaining = count;
    let first: Item | null = null;
    while (remaining > 0 && item !== null) {
      if (item.deleted) {
        item = item.right;
        continue;
      }
      if (item.len > remaining) {
        if (typeof item.content === 'string' && isHighSurrogate(item.content.charCodeAt(remaining - 1))) {
          throw errors.invalidArgument(`index ${index + count} is inside a surrogate pair`);
        }
        this.splitRun(item, remaining);
      }
      this.tombstone(item, tx, deletes);
      first ??= item;
      remaining -= item.len;
      item = item.right;
    }
    // Tombstones that were split apart by edits join again when they can.
    let last = item;
    for (let t = first!.left ?? first!; t !== null && t !== last; ) {
      const right: Item | null = t.right;
      if (right === null) break;
      if (this.canJoin(t, right)) {
        if (right === last) last = last.right;
        this.join(t, right);
      } else t = right;
    }
    this.length -= count;
    for (const marker of this.markers) if (marker.index > index) marker.index = Math.max(index, marker.index - count);
    const ops: DeltaOp[] | undefined = wantOps ? (index > 0 ? [{ retain: index }, { delete: count }] : [{ delete: count }]) : undefined;
    return { delta: { items: [], deletes: normalizeRanges(deletes) }, ops };
  }

  private tombstone(item: Item, tx: number, deletes: number[]): void {
    this.index.changed(item, -item.len);
    this.touched?.push(item);
    item.deleted = true;
    item.died = tx;
    item.content = null;
    const n = deletes.length;
    if (n > 0 && deletes[n - 3] === item.client && deletes[n - 2] + deletes[n - 1] === item.clock) deletes[n - 1] += item.len;
    else deletes.push(item.client, item.clock, item.len);
  }

  // ---- remote updates ------------------------------------------------------

  /**
   * Applies a decoded update. Runs and deletions whose dependencies are
   * missing wait until they arrive. Returns what was new (to relay to other
   * peers and to tell listeners), or undefined if nothing was.
   */
  apply(update: DecodedUpdate, wantOps: boolean): Applied | undefined {
    if (update.structs.length > this.maxPending) throw errors.limit('runs in one update', update.structs.length, this.maxPending);
    if (update.deletes.length / 3 > this.maxPending) throw errors.limit('deletions in one update', update.deletes.length / 3, this.maxPending);
    // Waiting state that would pass its bound is dropped, not the update:
    // refusing would leave a replica whose queue a peer filled with runs that
    // can never apply unable to take any update again. Nothing dropped was
    // applied, so the state vector does not claim it, and the next sync
    // from whoever holds it brings it again with what it depends on.
    if (this.pendingCount + update.structs.length > this.maxPending || this.pendingDeleteCount + update.deletes.length / 3 > this.maxPending) this.dropPending();
    const tx = ++this.tx;
    this.touched = wantOps ? [] : undefined;
    try {
      return this.applyTx(update, tx);
    } finally {
      this.touched = undefined;
    }
  }

  private applyTx(update: DecodedUpdate, tx: number): Applied | undefined {
    const dirty = new Set<number>();
    for (const struct of update.structs) {
      this.addPending(struct);
      dirty.add(struct.client);
    }
    const items: number[] = [];
    const added: Item[] = [];
    if (this.pendingCount > 0) this.integratePending(dirty, tx, items, added);
    const deletes: number[] = [];
    let toDelete = update.deletes;
    // Only the waiting deletions of clients that just grew can apply now:
    // the rest are not looked at, so waiting state costs nothing per update.
    if (this.pendingDeleteCount > 0) {
      const due: number[] = [];
      for (let i = 0; i < items.length; i += 3) {
        const client = items[i];
        const waiting = this.pendingDeletes.get(client);
        if (waiting === undefined) continue;
        this.pendingDeletes.delete(client);
        this.pendingDeleteCount -= waiting.length / 2;
        for (let j = 0; j < waiting.length; j += 2) due.push(client, waiting[j], waiting[j + 1]);
      }
      if (due.length > 0) toDelete = toDelete.concat(due);
    }
    this.applyDeletes(toDelete, tx, deletes);
    if (added.length === 0 && deletes.length === 0) return undefined;
    this.markers = [];
    const touched = this.touched;
    // Each touched run costs up to a block's walk: an update touching more runs than there are blocks is cheaper to describe in one walk.
    const walk = this.describeWith === 'walk' || (this.describeWith === 'auto' && touched !== undefined && touched.length > this.index.size);
    const ops = touched === undefined ? undefined : walk ? this.describe(tx) : this.describeTouched(tx, touched);
    for (const item of added) this.mergeIntoLeft(item);
    return { delta: { items, deletes: normalizeRanges(deletes) }, ops };
  }

  /** Forgets every run and deletion that waits (see `apply`). */
  private dropPending(): void {
    this.pending.clear();
    this.pendingCount = 0;
    this.pendingDeletes.clear();
    this.pendingDeleteCount = 0;
    this.blocked.clear();
  }

  private addPending(struct: Struct): void {
    let queue = this.pending.get(struct.client);
    if (queue === undefined) {
      queue = { list: [], pos: 0 };
      this.pending.set(struct.client, queue);
    }
    const list = queue.list;
    let at = list.length;
    while (at > queue.pos && list[at - 1].clock > struct.clock) at--;
    if (at === list.length) list.push(struct);
    else list.splice(at, 0, struct);
    this.pendingCount++;
  }

  /**
   * Integrates the pending runs that can go in now. Only the queues of
   * `dirty` clients are looked at, and a queue whose head waits for another
   * client's clock is woken only when that client grows: a run that can
   * never apply is never looked at again, and out-of-order delivery costs
   * each run a constant number of looks (plus its sorted insertion).
   */
  private integratePending(dirty: Set<number>, tx: number, items: number[], added: Item[]): void {
    const wake = (client: number) => {
      const waiters = this.blocked.get(client);
      if (waiters === undefined) return;
      this.blocked.delete(client);
      for (const w of waiters) dirty.add(w);
    };
    const block = (on: number, client: number) => {
      let waiters = this.blocked.get(on);
      if (waiters === undefined) this.blocked.set(on, (waiters = new Set()));
      waiters.add(client);
    };
    while (dirty.size > 0) {
      const client: number = dirty.values().next().value!;
      dirty.delete(client);
      const queue = this.pending.get(client);
      if (queue === undefined) continue;
      const list = queue.list;
      let grew = false;
      while (queue.pos < list.length) {
        const struct = list[queue.pos];
        const next = this.nextClock(client);
        if (struct.clock + struct.len <= next) {
          // Already have all of it: a duplicate.
          queue.pos++;
          this.pendingCount--;
          continue;
        }
        if (struct.clock > next) {
          block(client, client);
          break;
        }
        const offset = next - struct.clock;
        if (offset === 0 && struct.originClient !== -1 && struct.originClock >= this.nextClock(struct.originClient)) {
          block(struct.originClient, client);
          break;
        }
        if (struct.rightClient !== -1 && struct.rightClock >= this.nextClock(struct.rightClient)) {
          block(struct.rightClient, client);
          break;
        }
        const item = this.integrate(struct, offset, tx);
        added.push(item);
        const n = items.length;
        if (n > 0 && items[n - 3] === client && items[n - 1] === item.clock) items[n - 1] += item.len;
        else items.push(client, item.clock, item.clock + item.len);
        queue.pos++;
        this.pendingCount--;
        grew = true;
      }
      if (queue.pos === list.length) this.pending.delete(client);
      else if (queue.pos > 64 && queue.pos * 2 > list.length) {
        queue.list = list.slice(queue.pos);
        queue.pos = 0;
      }
      if (grew) wake(client);
    }
  }

  /** Places one run (from `offset` on) with YATA and links it in. */
  private integrate(struct: Struct, offset: number, tx: number): Item {
    const client = struct.client;
    const clock = struct.clock + offset;
    const len = struct.len - offset;
    const content = struct.content === null || offset === 0 ? struct.content : struct.content.slice(offset);
    const originClient = offset > 0 ? client : struct.originClient;
    const originClock = offset > 0 ? clock - 1 : struct.originClock;
    const rightClient = struct.rightClient;
    const rightClock = struct.rightClock;
    let left = originClient === -1 ? null : this.cleanEnd(originClient, originClock);
    const right = rightClient === -1 ? null : this.cleanStart(rightClient, rightClock);
    if ((left === null && right !== this.start) || (left !== null && left.right !== right)) {
      // Concurrent inserts sit between our origin and rightOrigin: order them.
      // `before` holds every run passed so far, `conflicting` those passed
      // since the last run we decided to go after.
      let o = left ? left.right : this.start;
      const conflicting = new Set<Item>();
      const before = new Set<Item>();
      while (o !== null && o !== right) {
        before.add(o);
        conflicting.add(o);
        if (sameId(originClient, originClock, o.originClient, o.originClock)) {
          // Same origin: the lower client id goes first.
          if (o.client < client) {
            left = o;
            conflicting.clear();
          } else if (sameId(rightClient, rightClock, o.rightClient, o.rightClock)) {
            // Same origin and rightOrigin, and we go first: stop here.
            break;
          }
        } else if (o.originClient !== -1 && before.has(this.find(o.originClient, o.originClock))) {
          // o hangs off a run we already passed: it belongs to that run's group.
          if (!conflicting.has(this.find(o.originClient, o.originClock))) {
            left = o;
            conflicting.clear();
          }
        } else {
          break;
        }
        o = o.right;
      }
    }
    const item = new Item(client, clock, len, content, originClient, originClock, rightClient, rightClock, tx);
    if (content === null) {
      item.deleted = true;
      item.died = tx;
    } else {
      this.length += len;
    }
    this.link(item, left);
    this.runsFor(client).push(item);
    this.touched?.push(item);
    return item;
  }

  private applyDeletes(ranges: number[], tx: number, deletes: number[]): void {
    for (let r = 0; r < ranges.length; r += 3) {
      const client = ranges[r];
      const clock = ranges[r + 1];
      let end = clock + ranges[r + 2];
      const known = this.nextClock(client);
      if (end > known) {
        // Elements we have not seen yet: delete them when they arrive.
        const from = Math.max(clock, known);
        let waiting = this.pendingDeletes.get(client);
        if (waiting === undefined) this.pendingDeletes.set(client, (waiting = []));
        waiting.push(from, end - from);
        this.pendingDeleteCount++;
        end = known;
      }
      if (clock >= end) continue;
      const runs = this.runsOf(client);
      let k = this.indexOf(client, clock);
      while (k < runs.length && runs[k].clock < end) {
        let item = runs[k];
        if (!item.deleted) {
          // A deletion never splits a surrogate pair (a peer's range may try
          // to): it takes both halves, alike on every replica, as a local
          // delete would refuse to take one.
          if (item.clock < clock) {
            let at = clock - item.clock;
            if (typeof item.content === 'string' && isHighSurrogate(item.content.charCodeAt(at - 1))) at--;
            if (at > 0) {
              item = this.splitRun(item, at);
              k++;
            }
          }
          let cut = end - item.clock;
          if (cut < item.len && typeof item.content === 'string' && isHighSurrogate(item.content.charCodeAt(cut - 1))) cut++;
          if (item.len > cut) this.splitRun(item, cut);
          this.length -= item.len;
          this.tombstone(item, tx, deletes);
        }
        k++;
      }
    }
  }

  /** Describes transaction `tx` as delta ops, in one walk over the list. */
  private describe(tx: number): DeltaOp[] {
    const ops: DeltaOp[] = [];
    let retain = 0;
    for (let item = this.start; item !== null; item = item.right) {
      if (item.born === tx) {
        if (item.deleted) continue;
        if (retain > 0) {
          ops.push({ retain });
          retain = 0;
        }
        const last = ops[ops.length - 1] as { insert?: string | unknown[] } | undefined;
        if (last?.insert !== undefined && typeof last.insert === typeof item.content) {
          last.insert = typeof item.content === 'string' ? (last.insert as string) + item.content : (last.insert as unknown[]).concat(item.content);
        } else {
          ops.push({ insert: item.content! });
        }
      } else if (item.deleted) {
        if (item.died !== tx) continue;
        if (retain > 0) {
          ops.push({ retain });
          retain = 0;
        }
        const last = ops[ops.length - 1] as { delete?: number } | undefined;
        if (last?.delete !== undefined) last.delete += item.len;
        else ops.push({ delete: item.len });
      } else {
        retain += item.len;
      }
    }
    return ops;
  }

  /**
   * Describes transaction `tx` from the runs it touched alone: each one's
   * index comes from the block index, so the cost follows the update, not
   * the document. Gives the same ops as `describe`.
   */
  private describeTouched(tx: number, touched: Item[]): DeltaOp[] {
    // Most live updates (a keystroke, a deletion inside one run) touch one run.
    if (touched.length === 1 && this.describeWith !== 'touched-general') return this.describeOne(tx, touched[0]);
    const changes: Array<{ item: Item; pos: number; rank: number; index: number }> = [];
    const blocks = this.index;
    for (const item of touched) {
      const born = item.born === tx;
      // Inserted and deleted by the same update: listeners never saw it.
      if (born ? item.deleted : item.died !== tx) continue;
      blocks.place(item);
      changes.push({ item, pos: blocks.placePos, rank: blocks.placeRank, index: blocks.placeIndex });
    }
    changes.sort((a, b) => a.pos - b.pos || a.rank - b.rank);
    const ops: DeltaOp[] = [];
    let cursor = 0; // position reached in the previous content
    let inserted = 0; // elements inserted before the current run
    let removed = 0; // elements deleted before the current run
    let previous: Item | null = null;
    for (const { item, index } of changes) {
      // A run touched twice (cut, then deleted) sorts next to itself.
      if (item === previous) continue;
      previous = item;
      // Elements of the previous content before this run: visible now, minus those inserted, plus those deleted.
      const before = index - inserted + removed;
      if (before > cursor) {
        ops.push({ retain: before - cursor });
        cursor = before;
      }
      const last = ops[ops.length - 1] as { insert?: string | unknown[]; delete?: number } | undefined;
      if (item.born === tx) {
        if (last?.insert !== undefined && typeof last.insert === typeof item.content) {
          last.insert = typeof item.content === 'string' ? (last.insert as string) + item.content : (last.insert as unknown[]).concat(item.content);
        } else ops.push({ insert: item.content! });
        inserted += item.len;
      } else {
        if (last?.delete !== undefined) last.delete += item.len;
        else ops.push({ delete: item.len });
        removed += item.len;
        cursor += item.len;
      }
    }
    return ops;
  }

  /** `describeTouched` for an update that touched one run: its index alone says where. */
  private describeOne(tx: number, item: Item): DeltaOp[] {
    const born = item.born === tx;
    if (born ? item.deleted : item.died !== tx) return [];
    const op: DeltaOp = born ? { insert: item.content! } : { delete: item.len };
    const index = this.index.indexOf(item);
    return index > 0 ? [{ retain: index }, op] : [op];
  }

  /** Joins a freshly integrated run to its left neighbour when it simply continues it. */
  private mergeIntoLeft(item: Item): void {
    if (item.len > 0 && item.left !== null && this.canJoin(item.left, item)) this.join(item.left, item);
  }

  /**
   * True if `right` directly follows `left` and only continues it: same
   * client, next clock, its origin is left's last element, same rightOrigin,
   * both deleted or both of the same kind. Joining such runs loses nothing.
   */
  private canJoin(left: Item, right: Item): boolean {
    return (
      left.right === right &&
      left.client === right.client &&
      left.clock + left.len === right.clock &&
      right.originClient === right.client &&
      right.originClock === right.clock - 1 &&
      left.rightClient === right.rightClient &&
      left.rightClock === right.rightClock &&
      left.deleted === right.deleted &&
      (left.deleted || (typeof left.content === typeof right.content && left.len + right.len <= MAX_RUN))
    );
  }

  private join(left: Item, right: Item): void {
    this.index.joining(left, right);
    const runs = this.clients.get(right.client)!;
    runs.splice(this.indexOf(right.client, right.clock), 1);
    for (const marker of this.markers) {
      if (marker.item === right) {
        marker.item = left;
        marker.index -= left.visible;
      }
    }
    if (left.content !== null) {
      left.content = typeof left.content === 'string' ? left.content + (right.content as string) : left.content.concat(right.content as unknown[]);
    }
    left.len += right.len;
    left.right = right.right;
    if (right.right) right.right.left = left;
    right.len = 0; // marks it joined away
  }

  // ---- reading and syncing -------------------------------------------------

  /**
   * What a peer with state vector `vector` is missing: runs it has not seen,
   * and deletions of runs it has. With the peer's `digest` (see
   * `deleteDigest`), a client's deletions are left out when the peer already
   * holds exactly the same ones, so a reconnect does not resend them all.
   */
  missing(vector: Map<number, number>, digest?: DeleteDigests): Delta {
    const items: number[] = [];
    const deletes: number[] = [];
    const ranges: number[] = [];
    const clients = [...this.clients.keys()].sort((a, b) => a - b);
    for (const client of clients) {
      const from = vector.get(client) ?? 0;
      const to = this.nextClock(client);
      if (from < to) items.push(client, from, to);
      ranges.length = 0;
      this.deletedRanges(client, from, ranges);
      if (digest === undefined) {
        for (const n of ranges) deletes.push(n);
        continue;
      }
      const theirs = digest.get(client);
      forEachBucket(ranges, (bucket, start, end) => {
        if (sameDigest(digestOf(ranges, start, end, bucket), theirs?.get(bucket))) return;
        for (let i = start; i < end; i += 3) deletes.push(client, ranges[i + 1], ranges[i + 2]);
      });
    }
    return { items, deletes };
  }

  /** Appends this client's deleted ranges below clock `limit` to `out`, as maximal triples. */
  private deletedRanges(client: number, limit: number, out: number[]): void {
    for (const run of this.clients.get(client) ?? NO_RUNS) {
      if (run.clock >= limit) break;
      if (run.deleted) appendRange(out, client, run.clock, Math.min(run.len, limit - run.clock));
    }
  }

  /**
   * A summary of the deleted ranges: per client, and per bucket of
   * `DIGEST_BUCKET` clocks in which ranges start, their number and a 64-bit
   * hash. A peer compares it with its own and sends only the ranges of
   * buckets that differ: if every bucket matches, both hold the same ranges.
   */
  deleteDigest(): DeleteDigests {
    const digests: DeleteDigests = new Map();
    const ranges: number[] = [];
    for (const client of this.clients.keys()) {
      ranges.length = 0;
      this.deletedRanges(client, Number.MAX_SAFE_INTEGER, ranges);
      if (ranges.length === 0) continue;
      const buckets = new Map<number, DeleteDigest>();
      forEachBucket(ranges, (bucket, start, end) => buckets.set(bucket, digestOf(ranges, start, end, bucket)));
      digests.set(client, buckets);
    }
    return digests;
  }

  toString(): string {
    let text = '';
    for (let item = this.start; item !== null; item = item.right) {
      if (item.deleted) continue;
      text += typeof item.content === 'string' ? item.content : item.content!.map(String).join('');
    }
    return text;
  }

  toArray(): unknown[] {
    const result: unknown[] = [];
    for (let item = this.start; item !== null; item = item.right) {
      if (item.deleted) continue;
      // One element per UTF-16 unit, as indices count them.
      const content = item.content!;
      for (let i = 0; i < content.length; i++) result.push(content[i]);
    }
    return result;
  }

  /**
   * @internal For tests: true if the block index gives every run's index as
   * a walk of the list does, with contiguous blocks; each run is looked up
   * from the finger (the previous run) and by a walk of its block alone,
   * which also checks its rank.
   */
  indexConsistent(): boolean {
    let index = 0;
    let rank = 0;
    const closed = new Set<unknown>();
    for (let item = this.start; item !== null; item = item.right) {
      if (item.block === null || closed.has(item.block)) return false;
      if (item.left !== null && item.left.block !== item.block) {
        closed.add(item.left.block);
        rank = 0;
      }
      if (this.index.indexOf(item) !== index) return false;
      const walked = this.index.walkedPlace(item);
      if (walked.index !== index || walked.rank !== rank) return false;
      index += item.visible;
      rank++;
    }
    return index === this.length;
  }

  /** Number of runs in the list, tombstones included (a measure of metadata). */
  get runCount(): number {
    let n = 0;
    for (const runs of this.clients.values()) n += runs.length;
    return n;
  }
}

function appendRange(out: number[], client: number, clock: number, len: number): void {
  const n = out.length;
  if (n > 0 && out[n - 3] === client && out[n - 2] + out[n - 1] === clock) out[n - 1] += len;
  else out.push(client, clock, len);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Sorts `[client, clock, length]` triples by client and clock and joins touching ones. */
export function normalizeRanges(ranges: number[]): number[] {
  if (ranges.length <= 3) return ranges;
  const triples: [number, number, number][] = [];
  for (let i = 0; i < ranges.length; i += 3) triples.push([ranges[i], ranges[i + 1], ranges[i + 2]]);
  triples.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  for (const [client, clock, len] of triples) {
    const n = out.length;
    if (n > 0 && out[n - 3] === client && out[n - 2] + out[n - 1] >= clock) {
      out[n - 1] = Math.max(out[n - 2] + out[n - 1], clock + len) - out[n - 2];
    } else out.push(client, clock, len);
  }
  return out;
}
