import { sha256 } from '@noble/hashes/sha2.js';
import { type Timestamp, compareStamps } from '../clock/index.js';
import { type DecodeState, type EncodeState, encode, fixed, string, struct, uint } from '../codec/index.js';
import { checkJsonDepth } from '../codec/values.js';
import { canonicalValue, checkCanonicalJson } from '../codec/canonical.js';
import { errors } from '../errors.js';
import type { Clock } from './messages.js';
import { Scuttlebutt, type ScuttlebuttOptions } from './scuttlebutt.js';
import type { Update, UpdateCodec } from './update.js';

const HASH_BYTES = 32;
const GENESIS = new Uint8Array(HASH_BYTES);

/**
 * One entry of the log. Entries of a source are numbered 1, 2, 3... and each
 * carries the hash of the one before it (`prev`), so a source's history is a
 * hash chain: an entry that does not extend the chain we hold is refused.
 */
export interface LogEntry extends Update {
  readonly seq: number;
  readonly prev: Uint8Array;
  readonly json: string;
  /** SHA-256 of the entry's fields and `prev`; computed on arrival, never trusted from the wire. */
  readonly hash: Uint8Array;
}

/** What `'append'` listeners and readers get. */
export interface LogRecord {
  source: string;
  seq: number;
  ts: Timestamp;
  value: unknown;
}

const hashedFields = struct({ prev: fixed(HASH_BYTES), source: string, seq: uint, ts: uint, json: string });

function entryHash(source: string, seq: number, ts: Timestamp, json: string, prev: Uint8Array): Uint8Array {
  return sha256(encode(hashedFields, { prev, source, seq, ts, json }));
}

const logEntryCodec: UpdateCodec<LogEntry> = {
  encodingLength: (e) => uint.encodingLength(e.seq) + HASH_BYTES + string.encodingLength(e.json),
  encode(e, state: EncodeState) {
    uint.encode(e.seq, state);
    fixed(HASH_BYTES).encode(e.prev, state);
    string.encode(e.json, state);
  },
  decode(state: DecodeState, source: string, ts: Timestamp): LogEntry {
    const seq = uint.decode(state);
    const prev = Uint8Array.from(fixed(HASH_BYTES).decode(state));
    const json = string.decode(state);
    checkJsonDepth(json, state.limits.maxDepth);
    checkCanonicalJson(json);
    return { source, ts, seq, prev, json, hash: entryHash(source, seq, ts, json, prev) };
  },
};

/**
 * An append-only event log replicated by scuttlebutt: the "immutable shared
 * ledger". Every replica holds every entry, read in one order on every
 * replica: by timestamp, then by source.
 */
export class Log extends Scuttlebutt<LogEntry> {
  readonly kind = 'log';
  readonly updateCodec = logEntryCodec;
  private readonly ordered: LogEntry[] = []; // log order: timestamp, then source
  private readonly arrivals: LogEntry[] = []; // the order applied, for scans
  private readonly heads = new Map<string, LogEntry>();

  constructor(options: ScuttlebuttOptions = {}) {
    super(options);
  }

  /** Appends a JSON value; returns the new entry's record. */
  append(value: unknown): LogRecord {
    const json = canonicalValue(value).text;
    const head = this.heads.get(this.id);
    const seq = (head?.seq ?? 0) + 1;
    const prev = head?.hash ?? GENESIS;
    const entry = this.localUpdate((ts) => ({ source: this.id, ts, seq, prev, json, hash: entryHash(this.id, seq, ts, json, prev) }));
    return record(entry);
  }

  get length(): number {
    return this.ordered.length;
  }

  /** Every entry in log order, or only those a replica at `clock` lacks. */
  *entries(since?: Clock): IterableIterator<LogRecord> {
    for (const entry of this.ordered) {
      if (since && entry.ts <= (since.get(entry.source) ?? 0)) continue;
      yield record(entry);
    }
  }

  toJSON(): LogRecord[] {
    return [...this.entries()];
  }

  protected override validateUpdate(entry: LogEntry): void {
    const head = this.heads.get(entry.source);
    const expected = (head?.seq ?? 0) + 1;
    if (entry.seq !== expected) {
      throw errors.integrity(`log of ${entry.source}: entry ${entry.seq} arrived where ${expected} was due`);
    }
    if (!equalBytes(entry.prev, head?.hash ?? GENESIS)) {
      throw errors.integrity(`log of ${entry.source}: entry ${entry.seq} does not extend the chain held here`);
    }
  }

  protected *retained(): Generator<LogEntry> {
    // By index, so entries appended while the scan runs are visited too.
    for (let i = 0; i < this.arrivals.length; i++) yield this.arrivals[i];
  }

  protected applyUpdate(entry: LogEntry, origin: unknown): boolean {
    this.heads.set(entry.source, entry);
    this.arrivals.push(entry);
    // Entries mostly arrive in order: search back from the end for the slot.
    let i = this.ordered.length;
    while (i > 0 && compareStamps(this.ordered[i - 1].ts, this.ordered[i - 1].source, entry.ts, entry.source) > 0) i--;
    this.ordered.splice(i, 0, entry);
    if (this.listenerCount('append') > 0) this.emit('append', record(entry), { local: origin === undefined && entry.source === this.id });
    return true;
  }
}

function record(entry: LogEntry): LogRecord {
  return { source: entry.source, seq: entry.seq, ts: entry.ts, value: JSON.parse(entry.json) };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
