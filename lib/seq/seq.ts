import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS, type Limits, canonicalValue } from '../codec/index.js';
import { errors } from '../errors.js';
import { Replica } from '../session/replica.js';
import { SessionSet } from '../session/session-set.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { type Applied, type DeltaOp, SeqDocument } from './document.js';
import { SeqSession } from './session.js';
import { type Delta, decodeStateVector, decodeUpdate, encodeDelta, encodeStateVector } from './update-codec.js';

export interface SeqOptions {
  /** Document name; only replicas of the same name replicate. Default `'seq'`. */
  name?: string;
  /** Replica id for the handshake. Default `'seq-<clientId>'`. */
  id?: string;
  /**
   * Client id: a safe integer that no other replica of the document uses; it
   * names this replica's elements and breaks ties between concurrent inserts.
   * Default: 32 random bits from `random`.
   */
  clientId?: number;
  /** Uniform random numbers in [0, 1), for the default client id. Default: the system's CSPRNG. */
  random?: () => number;
  /**
   * Most runs (and deletions) that may wait for missing predecessors; past
   * it the waiting ones are dropped (the next sync brings them again), and
   * one update holding more is refused (ERR_LIMIT). Default 100,000.
   */
  maxPending?: number;
}

/** The payload of a `'change'` event. */
export interface SeqChange {
  /** True for this replica's own edits. */
  local: boolean;
  /** What changed, as retain / insert / delete steps over the previous content. */
  delta: DeltaOp[];
  /** For remote changes: the session or caller the update came from. */
  origin: unknown;
}

/**
 * A replicated sequence for collaborative editing: text (one element per
 * UTF-16 unit) and lists of JSON values. Concurrent inserts at the same place
 * are ordered the same way on every replica, and a run typed by one user is
 * never interleaved with another's (YATA; see document.ts).
 *
 * Events: `'change'` (SeqChange) after every local or remote change;
 * `'update'` (update: Buffer, origin) with the binary update of every change,
 * for storing or sending it elsewhere (apply it with `applyUpdate`).
 */
export class Seq extends Replica {
  readonly descriptor: Descriptor;
  readonly document: SeqDocument;
  /** @internal The live sessions: every new delta goes to each but the one it came from. */
  readonly peers = new SessionSet<Delta>();

  constructor(options: SeqOptions = {}) {
    super();
    const clientId = options.clientId ?? randomClientId(options.random);
    this.document = new SeqDocument({ clientId, maxPending: options.maxPending });
    this.descriptor = { kind: 'seq', name: options.name ?? 'seq', id: options.id ?? `seq-${clientId}` };
  }

  get clientId(): number {
    return this.document.clientId;
  }

  /** Number of elements (UTF-16 units of text plus values). */
  get length(): number {
    return this.document.length;
  }

  /**
   * Inserts at `index` (0 .. length): a string adds one element per UTF-16
   * unit; an array adds its values (JSON values, copied).
   */
  insert(index: number, content: string | readonly unknown[]): void {
    this.commit(this.document.insert(index, checkContent(content), this.wantOps()), true, undefined);
  }

  /** Appends text or values at the end. */
  push(content: string | readonly unknown[]): void {
    this.insert(this.document.length, content);
  }

  /** Deletes `count` elements (default 1) from `index`. */
  delete(index: number, count = 1): void {
    this.commit(this.document.delete(index, count, this.wantOps()), true, undefined);
  }

  /**
   * Moves the element at `from` so that it ends up at index `to`. This is a
   * delete and an insert of the same value in one update: if two replicas
   * move the same element concurrently, both copies survive.
   */
  move(from: number, to: number): void {
    const length = this.document.length;
    if (!Number.isInteger(from) || from < 0 || from >= length) throw errors.invalidArgument(`move from ${from} outside 0..${length - 1}`);
    if (!Number.isInteger(to) || to < 0 || to >= length) throw errors.invalidArgument(`move to ${to} outside 0..${length - 1}`);
    if (from === to) return;
    const value = this.document.get(from);
    const content = typeof value === 'string' && this.isTextAt(from) ? value : [value];
    const wantOps = this.wantOps();
    const removed = this.document.delete(from, 1, wantOps)!;
    const added = this.document.insert(to, content, wantOps)!;
    if (wantOps) this.emit('change', { local: true, delta: removed.ops!, origin: undefined } satisfies SeqChange);
    this.commit({ delta: { items: added.delta.items, deletes: removed.delta.deletes }, ops: added.ops }, true, undefined);
  }

  /** The element at `index`, or undefined. */
  get(index: number): unknown {
    return this.document.get(index);
  }

  /** The text: text elements as they are, values converted with String(). */
  override toString(): string {
    return this.document.toString();
  }

  /** Every element in order: one-unit strings for text, the values themselves otherwise. */
  toArray(): unknown[] {
    return this.document.toArray();
  }

  value(): unknown[] {
    return this.document.toArray();
  }

  toJSON(): unknown[] {
    return this.document.toArray();
  }

  /** This replica's state vector, encoded: what to pass to a peer's `encodeState`. */
  stateVector(): Buffer {
    return encodeStateVector(this.document.stateVector());
  }

  /**
   * The update holding everything that a replica with state vector
   * `stateVector` lacks; with no argument, the whole document (load it into
   * a fresh replica with `applyUpdate`). It is in the column form, the
   * smaller one for many runs (column-codec.ts); `'update'` events are in
   * the row form. `applyUpdate` takes both.
   */
  encodeState(stateVector?: Uint8Array): Buffer {
    const vector = stateVector === undefined ? new Map<number, number>() : decodeStateVector(stateVector);
    return encodeDelta(this.document, this.document.missing(vector), 'columns');
  }

  /** Applies an update from `encodeState` or an `'update'` event, in any order, any number of times. */
  applyUpdate(update: Uint8Array, origin?: unknown, limits: Partial<Limits> = {}): void {
    this.applyRemote(update, { ...DEFAULT_LIMITS, ...limits }, origin ?? null);
  }

  /** @internal used by sessions. */
  applyRemote(update: Uint8Array, limits: Limits, origin: unknown): number {
    const decoded = decodeUpdate(update, limits);
    this.commit(this.document.apply(decoded, this.wantOps()), false, origin);
    let elements = 0;
    for (const struct of decoded.structs) elements += struct.len;
    return elements;
  }

  openSession(options: SessionOptions): SeqSession {
    return new SeqSession(this, options);
  }

  private wantOps(): boolean {
    return this.listenerCount('change') > 0;
  }

  private isTextAt(index: number): boolean {
    return this.document.isTextAt(index);
  }

  private commit(applied: Applied | undefined, local: boolean, origin: unknown): void {
    if (applied === undefined) return;
    const delta = applied.delta;
    this.peers.relay(delta, origin);
    if (this.listenerCount('update') > 0) {
      delta.encoded ??= encodeDelta(this.document, delta);
      this.emit('update', delta.encoded, origin);
    }
    if (applied.ops) this.emit('change', { local, delta: applied.ops, origin } satisfies SeqChange);
  }
}

function checkContent(content: string | readonly unknown[]): string | unknown[] {
  if (typeof content === 'string') {
    if (!content.isWellFormed()) throw errors.invalidArgument('text has lone surrogates');
    return content;
  }
  if (!Array.isArray(content)) throw errors.invalidArgument('insert takes a string or an array of values');
  // A copy of exactly what peers will decode, so later changes to the
  // caller's objects cannot make replicas differ; -0, Infinity, Dates... are refused.
  return canonicalValue(content).value as unknown[];
}

function randomClientId(random?: () => number): number {
  if (random) return Math.floor(random() * 0x100000000);
  return randomBytes(4).readUInt32LE(0);
}
