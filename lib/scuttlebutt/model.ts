import type { Timestamp } from '../clock/index.js';
import { compareStamps } from '../clock/index.js';
import { type DecodeState, type EncodeState, string, uint } from '../codec/index.js';
import { need } from '../codec/codec.js';
import { checkJsonDepth } from '../codec/values.js';
import { canonicalText, checkCanonicalJson } from '../codec/canonical.js';
import { decodeUtf8, uintLength, utf8Length, writeUint, writeUtf8 } from '../codec/primitives.js';
import { errors } from '../errors.js';
import { Scuttlebutt, type ScuttlebuttOptions } from './scuttlebutt.js';
import type { Update, UpdateCodec } from './update.js';
import { KeyTable } from './key-table.js';

/**
 * A set or a delete of one key. Values are kept as their JSON text: it is
 * what goes on the wire and to disk, it costs less memory than a parsed
 * object, and `get` hands out a fresh copy that no caller can mutate
 * behind the replica's back. `json === undefined` marks a delete.
 */
export interface ModelUpdate extends Update {
  readonly key: string;
  readonly json: string | undefined;
}

/** Metadata of an applied change, as passed to `'update'` listeners. */
export interface ChangeMeta {
  source: string;
  ts: Timestamp;
  /** True if this replica made the change. */
  local: boolean;
}

export type ModelListener = (key: string, value: unknown, meta: ChangeMeta) => void;

/** Longest key accepted, in bytes. */
export const MAX_KEY_BYTES = 4096;

// A value's JSON text goes with a length of text bytes + 1, so that 0 can mean "deleted".
const modelUpdateCodec: UpdateCodec<ModelUpdate> = {
  encodingLength(u) {
    const valueBytes = u.json === undefined ? 0 : utf8Length(u.json) + 1;
    return string.encodingLength(u.key) + uintLength(valueBytes) + (valueBytes && valueBytes - 1);
  },
  encode(u, state: EncodeState) {
    string.encode(u.key, state);
    if (u.json === undefined) {
      state.buffer[state.offset++] = 0;
      return;
    }
    // The text is canonical JSON (JSON.stringify's output, or checked on arrival): no lone surrogates.
    const length = utf8Length(u.json);
    state.offset = writeUint(state.buffer, state.offset, length + 1);
    state.offset += writeUtf8(state.buffer, u.json, state.offset, length);
  },
  decode(state: DecodeState, source: string, ts: Timestamp): ModelUpdate {
    const keyStart = state.offset;
    const key = string.decode(state);
    if (state.offset - keyStart > MAX_KEY_BYTES + 2) throw errors.limit('key bytes', state.offset - keyStart, MAX_KEY_BYTES);
    const marker = uint.decode(state);
    if (marker === 0) return { source, ts, key, json: undefined };
    const length = marker - 1;
    if (length > state.limits.maxBytes) throw errors.limit('value bytes', length, state.limits.maxBytes);
    need(state, length);
    const start = state.offset;
    state.offset += length;
    const json = decodeUtf8(state.buffer, start, state.offset);
    if (!isPlainAsciiString(state.buffer, start, state.offset)) validateJson(json, state.limits.maxDepth);
    return { source, ts, key, json };
  },
};

/**
 * True if the bytes are a JSON string of printable ASCII with no escapes,
 * the commonest value: canonical as it stands. One pass over bytes the
 * decoder has just read, cheaper than a regular expression over the string.
 */
function isPlainAsciiString(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2 || buf[start] !== 0x22 || buf[end - 1] !== 0x22) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const byte = buf[i]!;
    if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) return false;
  }
  return true;
}

// A JSON string with no escapes or control characters.
const PLAIN_JSON_STRING = /^"[^"\\\u0000-\u001f]*"$/;

/** Validates a peer's JSON text once on arrival, so that `get` can never throw. */
function validateJson(json: string, maxDepth: number): void {
  if (PLAIN_JSON_STRING.test(json)) return;
  checkJsonDepth(json, maxDepth);
  checkCanonicalJson(json);
}

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
export class Model extends Scuttlebutt<ModelUpdate> {
  readonly kind = 'model';
  readonly updateCodec = modelUpdateCodec;
  // The latest write of every key, in columns and in the order applied (see KeyTable).
  private readonly table = new KeyTable();
  private liveKeys = 0;
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
    const json = canonicalText(value);
    this.ingest({ source: this.id, ts: this.localStamp(), key, json });
    return this;
  }

  /** Deletes `key` everywhere. Returns whether it was present here. */
  delete(key: string): boolean {
    checkKey(key);
    if (!this.has(key)) return false;
    this.ingest({ source: this.id, ts: this.localStamp(), key, json: undefined });
    return true;
  }

  get(key: string): unknown {
    const slot = this.table.find(key);
    const json = slot < 0 ? undefined : this.table.jsonAt(slot);
    return json === undefined ? undefined : JSON.parse(json);
  }

  has(key: string): boolean {
    const slot = this.table.find(key);
    return slot >= 0 && this.table.jsonAt(slot) !== undefined;
  }

  get size(): number {
    return this.liveKeys;
  }

  *keys(): IterableIterator<string> {
    const { table } = this;
    for (let step = table.scan(), next = step.next(); !next.done; next = step.next()) {
      if (table.jsonAt(next.value) !== undefined) yield table.keyAt(next.value)!;
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
    return slot < 0 ? undefined : { source: table.sourceAt(slot), ts: table.stampAt(slot), deleted: table.jsonAt(slot) === undefined };
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

  /** The update held in `slot`, as an object (the store keeps none). */
  private updateAt(slot: number): ModelUpdate {
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
    const { table } = this;
    const key = update.key;
    const slot = table.find(key);
    let wasLive = false;
    if (slot >= 0) {
      if (compareStamps(table.stampAt(slot), table.sourceAt(slot), update.ts, update.source) > 0) return false;
      const current = this.updateAt(slot);
      wasLive = current.json !== undefined;
      this.supersede(current);
      if (this.holdsUnstored) this.shadow(current);
    }
    // A new slot, at the end: the table's order stays the order of application.
    table.put(key, update.json, update.source, update.ts, slot);
    this.liveKeys += (update.json !== undefined ? 1 : 0) - (wasLive ? 1 : 0);
    const watchers = this.watchers.size > 0 ? this.watchers.get(key) : undefined;
    // Parsing the value for listeners is most of the cost of applying an update: skip it when nobody listens.
    if (watchers || this.listenerCount('update') > 0) {
      const value = update.json === undefined ? undefined : JSON.parse(update.json);
      const meta: ChangeMeta = { source: update.source, ts: update.ts, local: origin === undefined && update.source === this.id };
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
