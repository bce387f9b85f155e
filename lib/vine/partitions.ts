import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import type { ValueEncoding } from '../codec/index.js';
import { errors } from '../errors.js';
import { MerkleStore } from '../merkle/store.js';
import type { ChangeEvent } from '../merkle/store-options.js';
import { RecordCache } from '../merkle/record-cache.js';
import { PARTITIONS } from './ring.js';

type AnyLevel = AbstractLevel<any, any, any>;

/**
 * Memory for the records a node's partitions wrote or read lately (one
 * budget for all of them): a key written again is not read back from the
 * database first. About 70,000 small records.
 */
export const RECORD_CACHE_BYTES = 16 << 20;

/** The root of a partition that holds nothing. */
export const ZERO_ROOT = Buffer.alloc(16);

export interface PartitionsOptions<V> {
  /** The node's database: each partition is a sublevel of it, and `meta` lists the partitions stored. */
  db: AnyLevel;
  meta: AbstractSublevel<any, any, string, string>;
  /** The node's id: the replica id of every partition's store. */
  id: string;
  depth: number;
  valueEncoding: ValueEncoding<V>;
  /** Every change of a key in any partition's store (watchers), once `listen()` was called. */
  onChange: (event: ChangeEvent<V>) => void;
}

/**
 * A node's share of the data: one MerkleStore per partition, opened on
 * first use, in sublevels of one database. It knows which partitions hold
 * data (kept in the metadata, so a restart knows without opening them) and
 * which are being handed over before they are dropped.
 */
export class Partitions<V> {
  private readonly stores = new Map<number, Promise<MerkleStore<V>>>();
  /** The stores of `stores` that are open: a request for one of them is queued without waiting a promise. */
  private readonly open = new Map<number, MerkleStore<V>>();
  /** Partitions this node has stored data in and not dropped. */
  readonly stored = new Set<number>();
  /** Partitions it no longer replicates and is handing over before dropping: it takes no requests for them meanwhile. */
  readonly retiring = new Set<number>();
  /** When each partition last took a write or a merge here (ms): anti-entropy paces the partitions being written. */
  readonly lastChange = new Map<number, number>();
  /** Shared by every partition's store. */
  readonly recordCache = new RecordCache(RECORD_CACHE_BYTES);
  /** Whether the stores' changes go to `onChange`: only once the node has a watcher, since a change event costs every write. */
  private listening = false;

  constructor(private readonly options: PartitionsOptions<V>) {}

  /** Reads which partitions hold data. */
  async load(): Promise<void> {
    for await (const key of this.options.meta.keys({ gte: 'partition/', lt: 'partition0' })) this.stored.add(Number(key.slice('partition/'.length)));
  }

  /** A partition being handed over before it is dropped takes no requests: the coordinator goes to another replica. */
  checkHeld(partition: number): void {
    if (this.retiring.has(partition)) throw errors.unavailable(`partition ${partition} (being handed over)`, 1, 0, 1);
  }

  async rootBytes(partition: number): Promise<Uint8Array> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= PARTITIONS) throw errors.invalidArgument(`no partition ${partition}`);
    if (this.retiring.has(partition)) return ZERO_ROOT;
    // A partition this node never stored anything in has the empty root; opening a store for it would cost a tree and a write.
    if (!this.stores.has(partition) && !this.stored.has(partition)) return ZERO_ROOT;
    const store = await this.store(partition);
    return store.tree ? store.tree.root : ZERO_ROOT;
  }

  store(partition: number): Promise<MerkleStore<V>> {
    let store = this.stores.get(partition);
    if (!store) {
      // Being dropped: its data is going away, so nothing may open it again until that is done.
      if (this.retiring.has(partition)) return Promise.reject(errors.unavailable(`partition ${partition} (being dropped)`, 1, 0, 1));
      const made = new MerkleStore<V>({
        db: this.options.db.sublevel(`p${partition}`, { keyEncoding: 'view', valueEncoding: 'view' }),
        name: `vine/${partition}`,
        id: this.options.id,
        depth: this.options.depth,
        valueEncoding: this.options.valueEncoding,
        recordCache: this.recordCache,
      });
      if (this.listening) made.on('change', this.options.onChange);
      const marked = this.stored.has(partition) ? Promise.resolve() : this.options.meta.put(`partition/${partition}`, '1');
      this.stored.add(partition);
      store = marked
        .then(() => made.open())
        .then(() => {
          if (this.stores.get(partition) === store) this.open.set(partition, made);
          return made;
        });
      this.stores.set(partition, store);
    }
    return store;
  }

  /** From now on every change in every partition goes to `onChange` (the node has a watcher). */
  listen(): void {
    if (this.listening) return;
    this.listening = true;
    for (const [partition, store] of this.stores) {
      // An open store at once (no write of this turn goes unheard), one still opening once it is.
      const made = this.open.get(partition);
      if (made) made.on('change', this.options.onChange);
      else void store.then((opened) => opened.on('change', this.options.onChange), () => undefined);
    }
  }

  /** The partition's store if it is open now (else undefined: `store()` opens it). */
  opened(partition: number): MerkleStore<V> | undefined {
    return this.open.get(partition);
  }

  /** Drops a partition's data, unless its root moved from `expected` (a write that was already under way when the hand-over began). True if dropped. */
  async drop(partition: number, expected: Buffer): Promise<boolean> {
    const opened = this.stores.get(partition);
    if (!opened) return false;
    const store = await opened;
    await store.flushed();
    if (!expected.equals(Buffer.from(store.tree!.root))) return false;
    this.stores.delete(partition);
    this.open.delete(partition);
    await store.close();
    await this.options.db.sublevel(`p${partition}`, { keyEncoding: 'view', valueEncoding: 'view' }).clear();
    await this.options.meta.del(`partition/${partition}`);
    this.stored.delete(partition);
    return true;
  }

  async close(): Promise<void> {
    for (const store of this.stores.values()) await (await store).close();
  }
}
