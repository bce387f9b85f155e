import { sha256 } from '@noble/hashes/sha2.js';
import { type Timestamp, compareStamps } from '../clock/index.js';
import { type DecodeState, type EncodeState, encode, fixed, string, struct, uint } from '../codec/index.js';
import { checkJsonDepth } from '../codec/values.js';
import { canonicalText, checkCanonicalJson } from '../codec/canonical.js';
import { errors } from '../errors.js';
import type { Clock } from './messages.js';
import { Scuttlebutt, type ScuttlebuttOptions } from './scuttlebutt.js';
import type { Update, UpdateCodec } from './update.js';
import { SIGNATURE_BYTES, signing } from './signing.js';

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
  /** In a signed log: the author's Ed25519 signature of `hash`. */
  readonly signature?: Uint8Array;
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

const signatureCodec = fixed(SIGNATURE_BYTES);

/** An entry on the wire and on disk: the signature follows in a signed log (both sides agree on that in the handshake). */
function logEntryCodec(signed: boolean): UpdateCodec<LogEntry> {
  return {
    encodingLength: (e) => uint.encodingLength(e.seq) + HASH_BYTES + string.encodingLength(e.json) + (signed ? SIGNATURE_BYTES : 0),
    encode(e, state: EncodeState) {
      uint.encode(e.seq, state);
      fixed(HASH_BYTES).encode(e.prev, state);
      string.encode(e.json, state);
      if (signed) signatureCodec.encode(e.signature!, state);
    },
    decode(state: DecodeState, source: string, ts: Timestamp): LogEntry {
      const seq = uint.decode(state);
      const prev = Uint8Array.from(fixed(HASH_BYTES).decode(state));
      const json = string.decode(state);
      checkJsonDepth(json, state.limits.maxDepth);
      checkCanonicalJson(json);
      const signature = signed ? Uint8Array.from(signatureCodec.decode(state)) : undefined;
      return { source, ts, seq, prev, json, hash: entryHash(source, seq, ts, json, prev), signature };
    },
  };
}

export interface LogOptions extends ScuttlebuttOptions {
  /**
   * Entries are signed by their author (Ed25519) and every replica checks
   * the signature before it applies or relays an entry, so no relay can
   * forge or rewrite anyone's history. Authors' replica ids are their public
   * keys in hex. Peers must agree (a signed and an unsigned log refuse each
   * other). Default false.
   */
  signed?: boolean;
  /** This author's Ed25519 secret key (32 bytes; `signing.secretKey()` makes one). Its public key becomes the id. Needed to append to a signed log. */
  secretKey?: Uint8Array;
}

/**
 * An append-only event log replicated by scuttlebutt: the "immutable shared
 * ledger". Every replica holds every entry, read in one order on every
 * replica: by timestamp, then by source.
 */
export class Log extends Scuttlebutt<LogEntry> {
  readonly kind = 'log';
  readonly updateCodec: UpdateCodec<LogEntry>;
  readonly signed: boolean;
  private appending = false;
  private readonly secretKey: Uint8Array | undefined;
  private readonly ordered: LogEntry[] = []; // log order: timestamp, then source
  private readonly arrivals: LogEntry[] = []; // the order applied, for scans
  private readonly heads = new Map<string, LogEntry>();
  private readonly bySource = new Map<string, LogEntry[]>(); // each source's entries, by seq - 1

  constructor(options: LogOptions = {}) {
    const signed = options.signed ?? options.secretKey !== undefined;
    const id = options.secretKey === undefined ? options.id : signing.idOf(options.secretKey);
    if (options.secretKey !== undefined && options.id !== undefined && options.id !== id) {
      throw errors.invalidArgument('a signed log\'s id is its author\'s public key: leave id out, or give that key in hex');
    }
    super({ ...options, id });
    this.signed = signed;
    this.secretKey = options.secretKey;
    this.updateCodec = logEntryCodec(signed);
  }

  override get descriptor() {
    return { ...super.descriptor, params: this.signed ? 'signed=ed25519' : '' };
  }

  /** Appends a JSON value; returns the new entry's record. */
  append(value: unknown): LogRecord {
    const json = canonicalText(value);
    const head = this.heads.get(this.id);
    const seq = (head?.seq ?? 0) + 1;
    const prev = head?.hash ?? GENESIS;
    if (this.signed && !this.secretKey) throw errors.invalidArgument('appending to a signed log needs the author\'s secretKey');
    this.appending = true;
    let entry: LogEntry;
    try {
      entry = this.localUpdate((ts) => {
        const hash = entryHash(this.id, seq, ts, json, prev);
        return { source: this.id, ts, seq, prev, json, hash, signature: this.secretKey && signing.sign(hash, this.secretKey) };
      });
    } finally {
      this.appending = false;
    }
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

  protected override checkSeen(entry: LogEntry): void {
    const held = this.bySource.get(entry.source)?.[entry.seq - 1];
    if (held === undefined || !equalBytes(held.hash, entry.hash)) {
      throw errors.integrity(`log of ${entry.source}: entry ${entry.seq} is not the one held here (a replay out of place, or a fork)`);
    }
  }

  protected override validateUpdate(entry: LogEntry, origin?: unknown): void {
    // Checked before anything else looks at it, wherever it comes from (a
    // peer, the disk, a snapshot): a tampered database must not hand us
    // forged entries that we would then relay as verified. Only the entry
    // this replica has just signed is taken as it is.
    if (this.signed && !this.appending) signing.verify(entry.signature, entry.hash, entry.source);
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
    let entries = this.bySource.get(entry.source);
    if (!entries) this.bySource.set(entry.source, (entries = []));
    entries.push(entry);
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
