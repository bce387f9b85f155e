import { AbstractIterator, AbstractLevel } from 'abstract-level';

type Level = AbstractLevel<any, any, any>;

/** Keys and values cross to the database underneath as bytes, whatever its own default encodings are. */
const VIEWS = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const RANGE_OPTIONS = ['gt', 'gte', 'lt', 'lte'] as const;

interface IteratorOptions {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  limit?: number;
  keys?: boolean;
  values?: boolean;
}

/** The range and direction of an iterator or a clear, as the database underneath takes them. */
function rangeOf(options: IteratorOptions): Record<string, unknown> {
  const range: Record<string, unknown> = { ...VIEWS, reverse: options.reverse === true, limit: options.limit ?? -1 };
  for (const name of RANGE_OPTIONS) if (options[name] !== undefined) range[name] = options[name];
  return range;
}

/** An iterator of the database underneath, seen through a `ForwardingLevel`. */
class ForwardingIterator extends AbstractIterator<any, Uint8Array, Uint8Array> {
  constructor(
    db: ForwardingLevel,
    options: IteratorOptions,
    private readonly inner: ReturnType<Level['iterator']>,
  ) {
    super(db, options as never);
  }

  async _next(): Promise<[Uint8Array, Uint8Array] | undefined> {
    return (await this.inner.next()) as [Uint8Array, Uint8Array] | undefined;
  }

  async _nextv(size: number): Promise<Array<[Uint8Array, Uint8Array]>> {
    return (await this.inner.nextv(size)) as Array<[Uint8Array, Uint8Array]>;
  }

  async _all(): Promise<Array<[Uint8Array, Uint8Array]>> {
    return (await this.inner.all()) as Array<[Uint8Array, Uint8Array]>;
  }

  _seek(target: Uint8Array): void {
    this.inner.seek(target, { keyEncoding: 'view' } as never);
  }

  async _close(): Promise<void> {
    await this.inner.close();
  }
}

/**
 * A database that passes every operation on to another one (`inner`), as
 * bytes, and is a separate object: something can be installed on it (turn
 * batching, `batchByTurn`) without changing the caller's database, which
 * other code may be using. Keys and values written through it land in
 * `inner` unchanged, so data written with and without it is the same.
 * Closing it does not close `inner`: whoever opened that closes it.
 * (Explicit snapshots are not forwarded; nothing that uses it takes them.)
 */
export class ForwardingLevel extends AbstractLevel<Uint8Array, Uint8Array, Uint8Array> {
  constructor(readonly inner: Level) {
    super({ encodings: { view: true }, seek: true, permanence: inner.supports.permanence, createIfMissing: false, errorIfExists: false }, VIEWS);
  }

  async _open(): Promise<void> {
    await this.inner.open();
  }

  async _close(): Promise<void> {
    // The caller's database stays open: the caller opened it and closes it.
  }

  async _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.inner.get(key, VIEWS)) as Uint8Array | undefined;
  }

  async _getMany(keys: Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    return (await this.inner.getMany(keys, VIEWS)) as Array<Uint8Array | undefined>;
  }

  async _put(key: Uint8Array, value: Uint8Array, options: { sync?: boolean }): Promise<void> {
    await this.inner.put(key, value, options.sync === true ? ({ ...VIEWS, sync: true } as never) : VIEWS);
  }

  async _del(key: Uint8Array, options: { sync?: boolean }): Promise<void> {
    await this.inner.del(key, options.sync === true ? ({ keyEncoding: 'view', sync: true } as never) : { keyEncoding: 'view' });
  }

  async _batch(operations: Array<{ type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }>, options: { sync?: boolean }): Promise<void> {
    const ops = operations.map((op) => (op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value, ...VIEWS } : { type: 'del' as const, key: op.key, keyEncoding: 'view' }));
    // Options only when syncing: abstract-level copies a batch's options into every operation.
    if (options.sync === true) await this.inner.batch(ops as never[], { sync: true } as never);
    else await this.inner.batch(ops as never[]);
  }

  _iterator(options: IteratorOptions): ForwardingIterator {
    return new ForwardingIterator(this, options, this.inner.iterator(rangeOf(options) as never));
  }

  async _clear(options: IteratorOptions): Promise<void> {
    const { valueEncoding: _unused, ...range } = rangeOf(options);
    await this.inner.clear(range as never);
  }
}
