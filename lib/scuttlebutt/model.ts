import type { Timestamp } from '../clock/index.js';
import { compareStamps } from '../clock/index.js';
import { canonicalText } from '../codec/canonical.js';
import { errors } from '../errors.js';
import type { SessionOptions } from '../session/contract.js';
import { Scuttlebutt, type ScuttlebuttOptions, type UpdateRun } from './scuttlebutt.js';
import type { Update, UpdateCodec } from './update.js';
import { EntryBytes, KeyTable } from './key-table.js';
import { MAX_KEY_BYTES, type ModelColumns, columnsJson, columnsKey, type ModelUpdate, type ModelWireCodec, modelUpdateCodec, modelWireCodec } from './model-wire.js';
import { type ModelHost, ModelSession } from './model-session.js';

export { MAX_KEY_BYTES, type ModelUpdate } from './model-wire.js';

/** Metadata of an applied change, as passed to `'update'` listeners. */
export interface ChangeMeta {
  source: string;
  ts: Timestamp;
  /** True if this replica made the change. */
  local: boolean;
}

export type ModelListener = (key: string, value: unknown, meta: ChangeMeta) => void;

export interface ModelOptions extends ScuttlebuttOptions {}

/**
 * A last-writer-wins key/value map replicated by scuttlebutt. The latest
 * write of each key wins by (timestamp, replica id), the same on every
 * replica whatever the delivery order.
 *
 * Deletes are updates too (a delete marker), so a delete replicates like a
 * write and a late-arriving older write cannot bring the key back. A marker
 * is kept for as long as its key has no later write: it is what stops that
 * older write, and no replica can tell that every other replica, including
 * one offline for a month, has seen it. History is one update per key ever
 * written, live or deleted, never one per write.
 */
export class Model extends Scuttlebutt<ModelUpdate> implements ModelHost {
  readonly kind = 'model';
  readonly updateCodec: UpdateCodec<ModelUpdate> = modelUpdateCodec;
  /** @internal The latest write of every key, in columns and in the order applied (see KeyTable). */
  readonly table = new KeyTable();
  /** @internal Sessions that follow the table (see ModelSession). */
  readonly followers = new Set<ModelSession>();
  private wire: ModelWireCodec | undefined;
  private readonly stamp = new Float64Array(1); // the timestamp of applyUpdate() or of a local write, for applyEntry
  private readonly entry = new EntryBytes(); // a local write's key and value, for applyBytes
  private liveKeys = 0;
  private quietRun = false; // a run or a local write is being applied, and nothing listens (see ingestRun, write)
  private readonly watchers = new Map<string, Set<ModelListener>>();
  // With persistence: for each key whose latest update is not yet stored,
  // the update the disk holds for it (if any), and the same by source.
  private readonly shadowByKey = new Map<string, ModelUpdate>();
  private readonly shadowsBySource = new Map<string, Set<ModelUpdate>>();

  constructor(options: ModelOptions = {}) {
    super(options);
  }

  /** Sets `key` to `value` (any JSON value) and replicates it. */
  set(key: string, value: unknown): this {
    checkKey(key);
    // A plain string, the commonest value, goes in as the bytes of its JSON
    // text when nothing needs an update object, with no text made for it.
    if (typeof value === 'string' && !this.wantsObjects() && this.entry.encodePlainString(key, value)) this.writeQuietly(undefined, undefined);
    else this.write(key, canonicalText(value));
    return this;
  }

  /** Deletes `key` everywhere. Returns whether it was present here. */
  delete(key: string): boolean {
    checkKey(key);
    if (!this.has(key)) return false;
    this.write(key, undefined);
    return true;
  }

  /** True if a local write must be an update object: something needs one (see `needsObjects`), or someone listens. */
  private wantsObjects(): boolean {
    return this.needsObjects || this.watchers.size > 0 || this.listenerCount('update') > 0;
  }

  /**
   * A local write: as an update object if anything needs one or anyone
   * listens, else straight into the table (see `writeQuietly`).
   */
  private write(key: string, json: string | undefined): void {
    if (this.wantsObjects()) {
      const stamp = this.stamp;
      this.localStampInto(stamp, 0);
      this.ingest({ source: this.id, ts: stamp[0], key, json });
      return;
    }
    // As bytes, by a peer's update's path, unless the value is long.
    if (this.entry.encode(key, json)) this.writeQuietly(undefined, undefined);
    else this.writeQuietly(key, json);
  }

  /**
   * A local write with no update object, when nothing needs one (see
   * `beginLocal`), where no code of anyone else's runs until it is applied:
   * the key and value encoded in `entry` (`key` undefined), or `key` and
   * `json` as text (a long value).
   */
  private writeQuietly(key: string | undefined, json: string | undefined): void {
    const stamp = this.stamp;
    this.localStampInto(stamp, 0);
    if (!this.beginLocal(stamp, 0)) return;
    let retained: boolean;
    this.quietRun = true;
    try {
      const entry = this.entry;
      if (key === undefined) retained = this.applyBytes(entry.bytes, 0, entry.keyEnd, entry.jsonStart, entry.jsonEnd, this.id, stamp, 0, undefined);
      else retained = this.applyEntry(key, json, this.id, stamp, 0, undefined);
    } finally {
      this.quietRun = false;
    }
    this.endLocal(retained);
  }

  get(key: string): unknown {
    const slot = this.table.find(key);
    const json = slot < 0 ? undefined : this.table.jsonAt(slot);
    return json === undefined ? undefined : JSON.parse(json);
  }

  has(key: string): boolean {
    const slot = this.table.find(key);
    return slot >= 0 && this.table.hasJsonAt(slot);
  }

  get size(): number {
    return this.liveKeys;
  }

  *keys(): IterableIterator<string> {
    const { table } = this;
    for (let step = table.scan(), next = step.next(); !next.done; next = step.next()) {
      if (table.hasJsonAt(next.value)) yield table.keyAt(next.value)!;
    }
  }

  *entries(): IterableIterator<[string, unknown]> {
    const { table } = this;
    for (let step = table.scan(), next = step.next(); !next.done; next = step.next()) {
      const json = table.jsonAt(next.value);
      if (json !== undefined) yield [table.keyAt(next.value)!, JSON.parse(json)];
    }
  }

  /** The metadata of the write that holds `key` now (a delete marker included). */
  meta(key: string): { source: string; ts: Timestamp; deleted: boolean } | undefined {
    const { table } = this;
    const slot = table.find(key);
    return slot < 0 ? undefined : { source: table.sourceAt(slot), ts: table.stampAt(slot), deleted: !table.hasJsonAt(slot) };
  }

  /**
   * A plain object of every live key, in sorted key order so that replicas
   * holding the same data serialise byte for byte alike. Safe for any key:
   * `__proto__` stays data.
   */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries([...this.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Calls `listener` for every change to `key`; returns a function that stops it. */
  watch(key: string, listener: ModelListener): () => void {
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(key);
    };
  }

  /** @internal The session's codec: the engine's wire format, with updates in columns too. */
  get wireCodec(): ModelWireCodec {
    return (this.wire ??= modelWireCodec(this.messageCodec));
  }

  override openSession(options: SessionOptions): ModelSession {
    return new ModelSession(this, options);
  }

  /** @internal True while updates are relayed only once stored. */
  get storesFirst(): boolean {
    return this.holdsUnstored;
  }

  override holdUntilStored(): () => void {
    const release = super.holdUntilStored();
    // Everything applied so far counts as stored: sessions following the table queue what their peer lacks of it, and go on from the queue.
    for (const session of [...this.followers]) session.stopFollowing();
    return release;
  }

  /** @internal The update held in `slot`, as an object (the store keeps none). */
  updateAt(slot: number): ModelUpdate {
    const { table } = this;
    return { source: table.sourceAt(slot), ts: table.stampAt(slot), key: table.keyAt(slot)!, json: table.jsonAt(slot) };
  }

  /** True if `slot` holds `update` (an update is known by its source and timestamp). */
  private holds(slot: number, update: Update): boolean {
    return slot >= 0 && this.table.stampAt(slot) === update.ts && this.table.sourceAt(slot) === update.source;
  }

  /** `update` (not yet stored) replaces `current`: if the disk holds `current`, remember it until the key is stored again. */
  private shadow(current: ModelUpdate): void {
    if (this.isHeld(current.source, current.ts)) return; // the disk holds what it held before `current`, already remembered (or nothing)
    this.setShadow(current.key, current);
  }

  private setShadow(key: string, stored: ModelUpdate | undefined): void {
    const old = this.shadowByKey.get(key);
    if (old) {
      const set = this.shadowsBySource.get(old.source)!;
      set.delete(old);
      if (set.size === 0) this.shadowsBySource.delete(old.source);
      this.shadowByKey.delete(key);
    }
    if (!stored) return;
    this.shadowByKey.set(key, stored);
    let set = this.shadowsBySource.get(stored.source);
    if (!set) this.shadowsBySource.set(stored.source, (set = new Set()));
    set.add(stored);
  }

  protected override shadowed(source: string): Iterable<ModelUpdate> | undefined {
    return this.shadowsBySource.get(source);
  }

  protected override everyShadowed(): Iterable<ModelUpdate> {
    return this.shadowByKey.values();
  }

  protected override stored(update: ModelUpdate): void {
    const current = this.holds(this.table.find(update.key), update);
    if (this.shadowByKey.size === 0 && current) return;
    // The disk now holds `update` for its key: it is the shadow if something newer, not yet stored, replaced it.
    this.setShadow(update.key, current ? undefined : update);
  }

  protected retained(): Iterator<ModelUpdate> & Iterable<ModelUpdate> {
    // Live, as the table's scan is: a key written during the scan comes again at the end.
    const slots = this.table.scan();
    const scan: Iterator<ModelUpdate> & Iterable<ModelUpdate> = {
      next: () => {
        const next = slots.next();
        return next.done ? { done: true, value: undefined } : { done: false, value: this.updateAt(next.value) };
      },
      [Symbol.iterator]: () => scan,
    };
    return scan;
  }

  override isRetained(update: ModelUpdate): boolean {
    const slot = this.table.find(update.key);
    if (slot < 0) return false;
    // An update replaced by one not yet stored still goes out: if the process
    // dies before its successor reaches the disk, the restarted replica holds
    // this one, and a peer must hold it too.
    return this.holds(slot, update) || this.isHeld(this.table.sourceAt(slot), this.table.stampAt(slot));
  }

  protected applyUpdate(update: ModelUpdate, origin: unknown): boolean {
    this.stamp[0] = update.ts;
    return this.applyEntry(update.key, update.json, update.source, this.stamp, 0, origin);
  }

  /**
   * A peer's run, applied as the engine applies it; when nothing listens
   * as it begins (no `'update'` listener, no watcher, no observer, nothing
   * stored first), nothing can start listening before it ends (no code of
   * anyone else's runs while a run is applied without objects), so applying
   * each entry need not ask again.
   */
  override ingestRun(run: UpdateRun, origin: unknown): void {
    if (this.watchers.size > 0 || this.observed || this.holdsUnstored || this.listenerCount('update') > 0) return super.ingestRun(run, origin);
    this.quietRun = true;
    try {
      super.ingestRun(run, origin);
    } finally {
      this.quietRun = false;
    }
  }

  protected override runUpdate(run: UpdateRun, i: number): ModelUpdate {
    const columns = run as ModelColumns;
    return { source: columns.source, ts: columns.stamps[i], key: columnsKey(columns, i), json: columnsJson(columns, i) };
  }

  protected override applyRunEntry(run: UpdateRun, i: number, origin: unknown): boolean {
    const m = run as ModelColumns;
    // The key and value go from the frame's bytes into the table's: no string is made for them.
    return this.applyBytes(m.buffer, m.keyStarts[i], m.keyEnds[i], m.jsonStarts[i], m.jsonEnds[i], m.source, m.stamps, i, origin);
  }

  /**
   * `applyEntry` of a key and a value given as UTF-8 bytes (`bytes[keyStart,
   * keyEnd)` and `bytes[jsonStart, jsonEnd)`, -1 for a delete), checked as a
   * peer's are. Nothing may write into `bytes` until it returns: observers
   * (persistence) may run in between, so a local write comes here only when
   * nothing observes.
   */
  private applyBytes(bytes: Buffer, keyStart: number, keyEnd: number, jsonStart: number, jsonEnd: number, source: string, stamps: ArrayLike<Timestamp>, at: number, origin: unknown): boolean {
    const { table } = this;
    const slot = table.findBytes(bytes, keyStart, keyEnd);
    const wasLive = slot >= 0 && table.hasJsonAt(slot);
    if (slot >= 0 && !this.replaces(slot, source, stamps, at)) return false;
    const put = table.putBytes(bytes, keyStart, keyEnd, jsonStart, jsonEnd, source, stamps, at, slot);
    this.liveKeys += (jsonStart >= 0 ? 1 : 0) - (wasLive ? 1 : 0);
    return this.quietRun || this.applied(put, origin);
  }

  /**
   * Applies a write of `key` at the timestamp `stamps[at]`, as an update or
   * as one entry of a run. The timestamp is passed in its array: a double
   * passed to a call that is not inlined is boxed, an allocation per key.
   */
  private applyEntry(key: string, json: string | undefined, source: string, stamps: ArrayLike<Timestamp>, at: number, origin: unknown): boolean {
    const { table } = this;
    const ts = stamps[at];
    const slot = table.find(key);
    const wasLive = slot >= 0 && table.hasJsonAt(slot);
    if (slot >= 0 && !this.replaces(slot, source, stamps, at)) return false;
    // A new slot, at the end: the table's order stays the order of application.
    // (A replaced key's observers ran since `ts` was read, and one of them might write: put `ts` itself then.)
    const put = slot < 0 ? table.putFrom(key, json, source, stamps, at, slot) : table.put(key, json, source, ts, slot);
    this.liveKeys += (json !== undefined ? 1 : 0) - (wasLive ? 1 : 0);
    return this.quietRun || this.applied(put, origin);
  }

  /** Whether a write by `source` at `stamps[at]` replaces what `slot` holds; if so, what it replaces is superseded. */
  private replaces(slot: number, source: string, stamps: ArrayLike<Timestamp>, at: number): boolean {
    const { table } = this;
    if (compareStamps(table.stampAt(slot), table.sourceAt(slot), stamps[at], source) > 0) return false;
    if (this.observed || this.holdsUnstored) {
      const current = this.updateAt(slot);
      this.supersede(current);
      if (this.holdsUnstored) this.shadow(current);
    } else {
      this.supersedeUnobserved(table.sourceAt(slot));
    }
    return true;
  }

  /** A write is in the table at `slot`, and listeners may be told (no run or write applied quietly): tells them, if any. Returns true (the write is retained). */
  private applied(slot: number, origin: unknown): boolean {
    const listening = this.listenerCount('update') > 0;
    if (this.watchers.size === 0 && !listening) return true;
    const { table } = this;
    const key = table.keyAt(slot)!;
    const watchers = this.watchers.get(key);
    // Parsing the value for listeners is most of the cost of applying an update: skip it when nobody listens.
    if (watchers || listening) {
      const json = table.jsonAt(slot);
      const value = json === undefined ? undefined : JSON.parse(json);
      const source = table.sourceAt(slot);
      const meta: ChangeMeta = { source, ts: table.stampAt(slot), local: origin === undefined && source === this.id };
      this.emit('update', key, value, meta);
      if (watchers) for (const listener of watchers) listener(key, value, meta);
    }
    return true;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string') throw errors.invalidArgument('keys are strings');
  // The wire's UTF-8 cannot carry a lone surrogate: peers would get another key.
  if (!key.isWellFormed()) throw errors.invalidArgument('key has a lone surrogate');
  // A UTF-16 unit is at most 3 UTF-8 bytes: short keys need no count.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) throw errors.invalidArgument(`key longer than ${MAX_KEY_BYTES} bytes`);
}
