import { decode } from '../codec/index.js';
import { errors } from '../errors.js';
import { decodeRecord, encodeRecord } from '../merkle/record.js';
import type { Resolver } from '../merkle/resolve.js';
import type { Checked, Coordinator } from './coordinator.js';
import type { CoordinateRequest, MergeRequest, VineRequest, WriteRequest } from './messages.js';
import type { MerkleStore } from '../merkle/store.js';
import type { NodeCore } from './node-core.js';
import { PARTITIONS, placeKey } from './ring.js';
import { type Watching, versionsOf } from './watching.js';

const EMPTY = new Uint8Array(0);
const NO_OPTIONS = Object.freeze({});
const toEmpty = (): Uint8Array => EMPTY;

/**
 * The replica side of a node: answers its peers' requests (and its own, as
 * coordinator) on the partitions it holds: make a write, merge a record
 * (or keep it as a hint for its owner), read, notify a watcher, coordinate
 * a request for a client, and the roots anti-entropy compares.
 */
export class ReplicaSide<V> {
  constructor(
    private readonly node: NodeCore<V>,
    private readonly watching: Watching<V>,
    private readonly coordinator: Coordinator<V>,
    private readonly resolver: Resolver<V> | undefined,
  ) {}

  /**
   * Answers one request from a peer (or from this node as coordinator).
   * Rejects with a coded error to refuse it; nothing is stored then. Writes
   * and merges to an open partition store are queued on it at once, with no
   * promise or async function in between (one of each per replica write).
   */
  handle(request: VineRequest, from: string, checked?: Checked): Promise<Uint8Array> {
    try {
      if (this.node.isClosed) throw errors.closed('the vine node');
      if (request.type === 'write') return this.write(request, checked);
      if (request.type === 'merge') return this.merge(request, checked);
      if (request.type === 'coordinate' && request.op === 'put' && request.value !== undefined) return this.coordinatePut(request, request.value);
      return this.answer(request, checked);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private write(request: WriteRequest, checked: Checked | undefined): Promise<Uint8Array> {
    const stored = this.checkPlacement(request.partition, request.key, checked);
    this.node.partitions.checkHeld(request.partition);
    if (request.value && request.value.length > this.node.maxValueBytes) throw errors.limit('value size', request.value.length, this.node.maxValueBytes);
    const options = request.context === undefined ? NO_OPTIONS : { context: request.context };
    // The record as written, not read back: one database round trip fewer per write.
    const write = (store: MerkleStore<V>): Promise<Uint8Array> => {
      this.node.partitions.lastChange.set(request.partition, Date.now());
      if (request.value === undefined) return store.delRecord(request.key, options, stored);
      // This node's own request: the value was checked at the door it came in by (the API, or a client's request).
      if (checked?.value) return store.putCheckedRecord(request.key, request.value, options, stored);
      // Stored as the bytes that came (checked by decoding once), not decoded, checked and encoded again.
      return store.putEncodedRecord(request.key, request.value, options, stored);
    };
    const open = this.node.partitions.opened(request.partition);
    return open ? write(open) : this.node.partitions.store(request.partition).then(write);
  }

  private merge(request: MergeRequest, checked: Checked | undefined): Promise<Uint8Array> {
    // The record is checked even when this node sends it to itself: it may be a peer's reply.
    const stored = this.checkPlacement(request.partition, request.key, checked);
    const record = decodeRecord(request.record);
    for (const sibling of record.siblings) {
      if (sibling.value.length > this.node.maxValueBytes) throw errors.limit('value size', sibling.value.length, this.node.maxValueBytes);
      decode(this.node.valueEncoding, sibling.value);
    }
    if (request.hint !== undefined) {
      if (request.hint === this.node.id || !this.node.membership?.members().some((m) => m.id === request.hint)) {
        throw errors.invalidArgument(`hint for an unknown node '${request.hint}'`);
      }
      return this.node.hints.add(request.hint, request.partition, request.key, record).then(toEmpty);
    }
    this.node.partitions.checkHeld(request.partition);
    // Stored as the bytes that came when the merge leaves exactly that record (the usual case: a new version).
    const merge = (store: MerkleStore<V>): Promise<Uint8Array> => {
      this.node.partitions.lastChange.set(request.partition, Date.now());
      return store.mergeEncoded(request.key, record, request.record, stored).then(toEmpty);
    };
    const open = this.node.partitions.opened(request.partition);
    return open ? merge(open) : this.node.partitions.store(request.partition).then(merge);
  }

  /** A client's write, coordinated here: its value checked once at this door. */
  private coordinatePut(request: CoordinateRequest, value: Uint8Array): Promise<Uint8Array> {
    checkKey(request.key);
    decode(this.node.valueEncoding, value);
    return this.coordinator.coordinateWriteBytes(request.key, value, { n: request.n, r: request.r, w: request.w, timeout: request.timeout, context: request.context });
  }

  /** The requests other than writes, merges and clients' puts. */
  private async answer(request: VineRequest, checked: Checked | undefined): Promise<Uint8Array> {
    switch (request.type) {
      case 'read': {
        this.checkPlacement(request.partition, request.key, checked);
        this.node.partitions.checkHeld(request.partition);
        return (await (await this.node.partitions.store(request.partition)).getRecord(request.key)) ?? EMPTY;
      }
      case 'notify': {
        checkKey(request.key);
        this.watching.deliver(request.key, versionsOf(request.key, decodeRecord(request.record), this.node.valueEncoding, this.resolver).values);
        return EMPTY;
      }
      case 'coordinate': {
        checkKey(request.key);
        const options = { n: request.n, r: request.r, w: request.w, timeout: request.timeout, context: request.context };
        if (request.op === 'get') return encodeRecord(await this.coordinator.coordinateRead(request.key, options));
        if (request.op === 'put' && request.value !== undefined) {
          decode(this.node.valueEncoding, request.value);
          return this.coordinator.coordinateWriteBytes(request.key, request.value, options);
        }
        if (request.op === 'del') return this.coordinator.coordinateWriteBytes(request.key, undefined, options);
        throw errors.invalidArgument(`unknown operation '${request.op}'`);
      }
      case 'roots': {
        if (request.partitions.length > PARTITIONS) throw errors.limit('partitions', request.partitions.length, PARTITIONS);
        const roots = await Promise.all(request.partitions.map((p) => this.node.partitions.rootBytes(p)));
        return Buffer.concat(roots);
      }
    }
    throw errors.invalidArgument(`unknown request '${(request as { type: string }).type}'`);
  }

  /** Refuses a key that is not a string or not in `partition`; returns its stored form. This node's own request was placed at its door: not hashed again. */
  private checkPlacement(partition: number, key: string, checked: Checked | undefined): Uint8Array {
    if (checked !== undefined) return checked.stored;
    checkKey(key);
    const placed = placeKey(key);
    if (partition !== placed.partition) throw errors.invalidArgument(`key is not in partition ${partition}`);
    return placed.stored;
  }
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw errors.invalidArgument('keys are strings');
  if (!key.isWellFormed()) throw errors.invalidArgument('key has lone surrogates');
}
