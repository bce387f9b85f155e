import { hashOf } from '../key-hash.js';

// An index entry holds its key's slot plus one, so that a new index, all zeros, is empty without a pass over it.
const EMPTY = 0;
/** An index entry whose key was deleted: lookups probe past it, inserts may reuse it. */
const DELETED = -1;
const MIN_CAPACITY = 16;
/**
 * Keys a bulk insert takes per call of its inner loop. A full sync into a
 * fresh process runs this loop before it is optimized: a loop that runs
 * long in one call is compiled twice (once for later calls, once more to
 * enter the running loop, "on-stack replacement"), and short runs leave
 * only the first.
 */
const RUN = 64;

/**
 * A map from string keys to values with the part of `Map`'s interface the
 * dot stores use, built for large tables filled from the wire: the keys and
 * values live in two arrays in insertion order (a deleted key leaves a hole,
 * removed once holes outnumber keys), each key's hash in a third, and the
 * index is an open-addressed table of slots in one Int32Array, at most half
 * full. A lookup reads an index entry, that slot's hash and, only where
 * the hashes agree, the key; a miss remembers where it stopped, so the
 * insert that usually follows it costs no second probe. The index holds
 * only slots (four bytes an entry, not eight with the hash beside them):
 * filling a large table from the wire costs a cache miss per key in the
 * index, and a smaller index misses less and is faster to grow, while the
 * hashes it then reads are a quarter of its size and mostly cached. A JavaScript `Map` was the main cost of a full
 * sync into a set (a lookup and an insert per element, each a few cache
 * misses in a large table, and a 28-byte entry per key).
 *
 * Iteration follows insertion order, as `Map`'s does; an entry deleted
 * during a `forEach` is skipped, one added is visited. Holes are only
 * removed by an insert while no `forEach` runs; an iterator (`keys()` and
 * the like) that sees them removed under it throws rather than skip or
 * repeat entries.
 *
 * The hash is seeded per process (keys come from peers: with a hash anyone
 * can compute, a peer could send keys that all land in one run of the
 * index, and each lookup would walk all of them).
 */
export class KeyMap<V> {
  private keyColumn: (string | undefined)[] = [];
  private valueColumn: (V | undefined)[] = [];
  private hashColumn = new Int32Array(MIN_CAPACITY);
  /** Slots used, holes included. */
  private slots = 0;
  /** Keys held. */
  private live = 0;
  /** Index entries taken by a key or marked deleted: what the load factor counts. */
  private used = 0;
  private index = new Int32Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  /** Bumped when the slots are renumbered: an iterator under way then stops. */
  private epoch = 0;
  private iterating = 0;
  // The last key `find` missed, its hash and the index entry an insert of it takes (a deleted one if it passed any, else the free one it stopped at).
  private missedKey: string | undefined;
  private missedHash = 0;
  private missedAt = 0;
  /** The sum of `weigh` over the values, kept as they change. */
  private total = 0;

  /**
   * `weigh`, if given, weighs a value (a set element's dot count, say): the
   * map keeps the sum over its values as they are set and deleted, so
   * `weight` costs nothing. Values must then never change in place.
   */
  constructor(private readonly weigh?: (value: V) => number) {}

  /** The sum of `weigh` over the values; undefined without a `weigh`. */
  get weight(): number | undefined {
    return this.weigh === undefined ? undefined : this.total;
  }

  get size(): number {
    return this.live;
  }

  /** The slot that holds `key`, or -1. */
  private find(key: string): number {
    const hash = hashOf(key);
    const index = this.index;
    const mask = this.mask;
    let reuse = -1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === EMPTY) {
        this.missedKey = key;
        this.missedHash = hash;
        this.missedAt = reuse >= 0 ? reuse : i;
        return -1;
      }
      if (entry === DELETED) {
        if (reuse < 0) reuse = i;
        continue;
      }
      if (this.hashColumn[entry - 1] === hash && this.keyColumn[entry - 1] === key) return entry - 1;
    }
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  get(key: string): V | undefined {
    const slot = this.find(key);
    return slot < 0 ? undefined : this.valueColumn[slot];
  }

  set(key: string, value: V): this {
    const slot = key === this.missedKey ? -1 : this.find(key);
    if (slot >= 0) {
      if (this.weigh !== undefined) this.total += this.weigh(value) - this.weigh(this.valueColumn[slot] as V);
      this.valueColumn[slot] = value;
      return this;
    }
    this.append(key, value);
    return this;
  }

  /**
   * Adds `key` if it is absent: true if it was added, false (and nothing
   * changed) if it was there. One probe for both the check and the insert.
   */
  add(key: string, value: V): boolean {
    if (this.find(key) >= 0) return false;
    this.append(key, value);
    return true;
  }

  /**
   * The bulk path of a join: inserts `keys[from...]` with their `values`,
   * in order, while each is absent, and returns the position of the first
   * one already present (which is not inserted), or `keys.length`. The
   * index is grown once for all of them, and each key costs one probe.
   * `hashes`, if given, holds each key's `hashOf`, computed as it was read;
   * `weight`, if given, the sum of `weigh` over `values[from...]` (a delta
   * counts its dots as it is read), so that values are weighed one by one
   * only where the insert stops short.
   */
  insertAbsent(keys: readonly string[], values: readonly V[], from = 0, hashes?: Int32Array, weight?: number): number {
    const count = keys.length - from;
    if (count <= 0) return keys.length;
    this.missedKey = undefined;
    if (this.slots - this.live > this.live + MIN_CAPACITY && this.iterating === 0) this.rebuild(this.mask + 1);
    // A bulk insert is usually one piece of a long catch-up: the index grows four times over, so a table filled from empty is rebuilt half as often (it is then at least an eighth full).
    if (2 * (this.used + count) > this.mask + 1) this.rebuild(4 * (this.mask + 1), this.live + count);
    if (this.slots + count > this.hashColumn.length) {
      let length = 2 * this.hashColumn.length;
      while (length < this.slots + count) length *= 2;
      const grown = new Int32Array(length);
      grown.set(this.hashColumn);
      this.hashColumn = grown;
    }
    const weigh = weight === undefined ? this.weigh : undefined;
    // In runs of at most RUN keys, each a call of its own (see RUN).
    let j = from;
    while (j < keys.length) {
      const to = j + RUN < keys.length ? j + RUN : keys.length;
      const stop = this.insertRun(keys, values, hashes, j, to, weigh);
      if (stop < to) {
        j = stop;
        break;
      }
      j = to;
    }
    if (weight !== undefined && this.weigh !== undefined) {
      if (j === keys.length) this.total += weight;
      else for (let k = from; k < j; k++) this.total += this.weigh(values[k]);
    }
    return j;
  }

  /** `insertAbsent` of `keys[from..to)`, with the index and the hash column already large enough for them. */
  private insertRun(keys: readonly string[], values: readonly V[], hashes: Int32Array | undefined, from: number, to: number, weigh: ((value: V) => number) | undefined): number {
    const index = this.index;
    const mask = this.mask;
    const keyColumn = this.keyColumn;
    const valueColumn = this.valueColumn;
    const hashColumn = this.hashColumn;
    let slot = this.slots;
    let used = this.used;
    let j = from;
    try {
      for (; j < to; j++) {
        const key = keys[j];
        const hash = hashes === undefined ? hashOf(key) : hashes[j];
        let reuse = -1;
        let i = hash & mask;
        for (; ; i = (i + 1) & mask) {
          const at = index[i];
          if (at === EMPTY) break;
          if (at === DELETED) {
            if (reuse < 0) reuse = i;
          } else if (hashColumn[at - 1] === hash && keyColumn[at - 1] === key) return j;
        }
        if (reuse >= 0) i = reuse;
        else used++;
        index[i] = slot + 1;
        keyColumn[slot] = key;
        valueColumn[slot] = values[j];
        hashColumn[slot] = hash;
        if (weigh !== undefined) this.total += weigh(values[j]);
        slot++;
      }
      return j;
    } finally {
      this.used = used;
      this.live += slot - this.slots;
      this.slots = slot;
    }
  }

  /** Inserts `key`, which the last `find` missed. */
  private append(key: string, value: V): void {
    // Holes outnumber keys: the columns are compacted (and the index rebuilt), unless a forEach would lose its place.
    if (this.slots - this.live > this.live + MIN_CAPACITY && this.iterating === 0) this.rebuild(this.mask + 1);
    // Keep the index at most half full, counting deleted entries.
    else if (2 * (this.used + 1) > this.mask + 1) this.rebuild(2 * (this.mask + 1));
    let hash: number;
    let at: number;
    if (key === this.missedKey) {
      hash = this.missedHash;
      at = this.missedAt;
    } else {
      hash = hashOf(key);
      at = this.freeEntry(hash);
    }
    this.missedKey = undefined;
    const slot = this.slots++;
    this.keyColumn[slot] = key;
    this.valueColumn[slot] = value;
    if (this.weigh !== undefined) this.total += this.weigh(value);
    if (slot >= this.hashColumn.length) {
      const grown = new Int32Array(2 * this.hashColumn.length);
      grown.set(this.hashColumn);
      this.hashColumn = grown;
    }
    this.hashColumn[slot] = hash;
    const index = this.index;
    if (index[at] === EMPTY) this.used++;
    index[at] = slot + 1;
    this.live++;
  }

  /** The index entry an insert of a key with `hash` (known absent) takes. */
  private freeEntry(hash: number): number {
    const index = this.index;
    let i = hash & this.mask;
    while (index[i] > 0) i = (i + 1) & this.mask;
    return i;
  }

  delete(key: string): boolean {
    const slot = this.find(key);
    this.missedKey = undefined;
    if (slot < 0) return false;
    const hash = this.hashColumn[slot];
    const index = this.index;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      if (index[i] === slot + 1) {
        index[i] = DELETED;
        break;
      }
    }
    if (this.weigh !== undefined) this.total -= this.weigh(this.valueColumn[slot] as V);
    this.keyColumn[slot] = undefined;
    this.valueColumn[slot] = undefined;
    this.live--;
    return true;
  }

  clear(): void {
    this.keyColumn = [];
    this.valueColumn = [];
    this.hashColumn = new Int32Array(MIN_CAPACITY);
    this.slots = this.live = this.used = this.total = 0;
    this.index = new Int32Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    this.missedKey = undefined;
    this.epoch++;
  }

  /**
   * Moves the keys down over the holes (keeping their order) and builds an
   * index of at least `capacity` entries, large enough to be at most half
   * full, without deleted entries.
   */
  private rebuild(capacity: number, room = this.live): void {
    this.missedKey = undefined;
    let renumbered = false;
    // Not while a forEach runs: it would lose its place (holes are skipped by every reader meanwhile).
    if (this.slots > this.live && this.iterating === 0) {
      renumbered = true;
      const keys = this.keyColumn;
      const values = this.valueColumn;
      const hashes = this.hashColumn;
      let to = 0;
      for (let from = 0; from < this.slots; from++) {
        const key = keys[from];
        if (key === undefined) continue;
        keys[to] = key;
        values[to] = values[from];
        hashes[to] = hashes[from];
        to++;
      }
      keys.length = to;
      values.length = to;
      this.slots = to;
      this.epoch++;
    }
    // The least power of two at least `capacity` that holds `room` keys at most half full, in steps taken every time (no loop whose body may
    // never have run): V8 throws compiled code away at a step it never saw run, and local adds (doubling) compile this before a catch-up grows it further.
    capacity = Math.max(capacity, MIN_CAPACITY, 1 << (32 - Math.clz32(2 * room + 1)));
    const index = new Int32Array(capacity);
    const mask = capacity - 1;
    if (renumbered) {
      const hashes = this.hashColumn;
      for (let slot = 0; slot < this.slots; slot++) {
        if (this.keyColumn[slot] === undefined) continue;
        let i = hashes[slot] & mask;
        while (index[i] !== EMPTY) i = (i + 1) & mask;
        index[i] = slot + 1;
      }
    } else {
      // The slots are as the old index has them: it is read in its own
      // order, so the entries land in the new one in a few ascending runs
      // (a key's place there is its place in the old one, give or take
      // its probes, plus a multiple of the old size) rather than at
      // random: a growing index is written through the cache, not past it.
      const old = this.index;
      const hashes = this.hashColumn;
      for (let e = 0; e < old.length; e++) {
        const entry = old[e];
        if (entry <= 0) continue;
        const hash = hashes[entry - 1];
        let i = hash & mask;
        while (index[i] !== EMPTY) i = (i + 1) & mask;
        index[i] = entry;
      }
    }
    this.index = index;
    this.mask = mask;
    this.used = this.live;
  }

  /** Calls `fn` for each entry in insertion order (as `Map#forEach`, without the third argument). */
  forEach(fn: (value: V, key: string) => void): void {
    const keys = this.keyColumn;
    const values = this.valueColumn;
    this.iterating++;
    try {
      // `slots` read each time: entries added meanwhile are visited, as a Map's are.
      for (let slot = 0; slot < this.slots; slot++) {
        const key = keys[slot];
        if (key !== undefined) fn(values[slot] as V, key);
      }
    } finally {
      this.iterating--;
    }
  }

  /**
   * The keys and values in insertion order as the map's own two arrays,
   * where they have no holes (nothing deleted since the last compaction);
   * else undefined. Only to be read, and only before the map next changes:
   * a whole map is then copied by `slice`s, without a loop per entry.
   */
  denseColumns(): [readonly string[], readonly V[]] | undefined {
    if (this.slots !== this.live) return undefined;
    // The columns are never longer than `slots` without holes: they grow by appends and shrink on compaction.
    if (this.keyColumn.length !== this.slots || this.valueColumn.length !== this.slots) return undefined;
    return [this.keyColumn as readonly string[], this.valueColumn as readonly V[]];
  }

  /** Copies the keys and values, in insertion order, into `keys` and `values` from position 0; returns how many. One tight loop, no call per entry. */
  copyInto(keys: string[], values: V[]): number {
    const keyColumn = this.keyColumn;
    const valueColumn = this.valueColumn;
    let n = 0;
    for (let slot = 0; slot < this.slots; slot++) {
      const key = keyColumn[slot];
      if (key === undefined) continue;
      keys[n] = key;
      values[n++] = valueColumn[slot] as V;
    }
    return n;
  }

  /** The sum of `fn` over the values. */
  sumValues(fn: (value: V) => number): number {
    const keyColumn = this.keyColumn;
    const valueColumn = this.valueColumn;
    let sum = 0;
    for (let slot = 0; slot < this.slots; slot++) if (keyColumn[slot] !== undefined) sum += fn(valueColumn[slot] as V);
    return sum;
  }

  private *slotsInOrder(): Generator<number> {
    const epoch = this.epoch;
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.epoch !== epoch) throw new Error('KeyMap compacted during iteration');
      if (this.keyColumn[slot] !== undefined) yield slot;
    }
  }

  *keys(): IterableIterator<string> {
    for (const slot of this.slotsInOrder()) yield this.keyColumn[slot]!;
  }

  *values(): IterableIterator<V> {
    for (const slot of this.slotsInOrder()) yield this.valueColumn[slot] as V;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const slot of this.slotsInOrder()) yield [this.keyColumn[slot]!, this.valueColumn[slot] as V];
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}
