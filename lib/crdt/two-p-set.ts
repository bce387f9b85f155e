import { dotKey } from './causal-context.js';
import { bool } from '../codec/index.js';
import type { Delta } from './delta.js';
import { type DotFun, type DotMap, dotFun, dotMap, dotMapOf } from './dot-store.js';
import { ElementKeys } from './element-keys.js';
import type { Embeddable } from './embeddable.js';
import { assertGrowOnly } from './g-set.js';
import { type SetHandle, type SetOptions, SetReplica } from './set-replica.js';

/** Per element: the dots of its adds (`false`) and of its removes (`true`). */
type Marks = DotFun<boolean>;

function present(marks: Marks | undefined): boolean {
  if (marks === undefined) return false;
  let added = false;
  for (const e of marks.values()) {
    if (e.value) return false;
    added = true;
  }
  return added;
}

/**
 * The two-phase set: an element can be added, and removed once, forever;
 * adding it again does nothing. Removal needs a tombstone per removed element
 * (that is the type's definition); use `ORSet` where elements come and go.
 */
export function twoPSetEmbedded(keys: ElementKeys = new ElementKeys()): Embeddable<DotMap<Marks>, SetHandle> {
  const marks = dotFun(bool);
  const store = dotMap(keys.codec, marks);
  const liveKeys = (s: DotMap<Marks>) => ElementKeys.sorted([...s.entries].filter(([, m]) => present(m)).map(([k]) => k));
  return {
    kind: 'twopset',
    store,
    read: (s) => liveKeys(s).map((k) => keys.valueOf(k)),
    handle: (mint) => {
      const mark = (value: unknown, removed: boolean) => {
        const key = keys.keyOf(value);
        const current = mint.current().entries.get(key);
        if (removed ? !present(current) : current !== undefined) return false;
        const dot = mint.dot();
        const entry: Marks = new Map([[dotKey(dot.replica, dot.seq), { replica: dot.replica, seq: dot.seq, value: removed }]]);
        mint.emit(dotMapOf(marks, [[key, entry]]), []);
        return true;
      };
      return {
        add: (value) => mark(value, false),
        remove: (value) => mark(value, true),
        has: (value) => present(mint.current().entries.get(keys.keyOf(value))),
        values: () => liveKeys(mint.current()).map((k) => keys.valueOf(k)),
        get size() {
          return liveKeys(mint.current()).length;
        },
      };
    },
  };
}

/** A two-phase set. `kind` `'twopset'`. */
export class TwoPSet extends SetReplica<Marks> {
  static embedded(options: { valueEncoding?: SetOptions['valueEncoding'] } = {}) {
    return twoPSetEmbedded(new ElementKeys(options.valueEncoding));
  }

  constructor(options: SetOptions = {}) {
    super('twopset', twoPSetEmbedded, options);
  }

  /** Adds `value` unless it was ever added or removed; true if it was absent. */
  add(value: unknown): boolean {
    const key = this.keys.keyOf(value);
    if (this.store.entries.has(key)) return false;
    this.markOwn(key, false);
    return true;
  }

  /** Removes `value` for good; true if it was present. */
  remove(value: unknown): boolean {
    const key = this.keys.keyOf(value);
    if (!present(this.store.entries.get(key))) return false;
    this.markOwn(key, true);
    return true;
  }

  /**
   * Both: one more mark (an add, or a remove) on `key` under our next dot.
   * While nobody taps or listens, straight onto the store and the context,
   * and into the batch of local changes when a session waits; otherwise as
   * one committed delta. The key's marks are copied, never changed in
   * place: a piece of the store may be on its way to a peer.
   */
  private markOwn(key: string, removed: boolean): void {
    const dot = this.nextDot();
    const name = dotKey(dot.replica, dot.seq);
    const entry = { replica: dot.replica, seq: dot.seq, value: removed };
    if (!this.quiet) return this.commitKey(key, new Map([[name, entry]]), []);
    const marks: Marks = new Map(this.store.entries.get(key));
    marks.set(name, entry);
    this.store.entries.set(key, marks);
    this.store.dotIndex?.set(dot.replica, dot.seq, key);
    this.context.add(dot.replica, dot.seq);
    const batch = this.localBatch();
    if (batch === undefined) return;
    const batched: Marks = new Map(batch.store.entries.get(key));
    batched.set(name, entry);
    batch.store.entries.set(key, batched);
    batch.context.add(dot.replica, dot.seq);
    this.localDone(key.length + 8);
  }

  override get size(): number {
    let n = 0;
    for (const marks of this.store.entries.values()) if (present(marks)) n++;
    return n;
  }

  /** True if `value` was removed (and so can never be added again). */
  removed(value: unknown): boolean {
    const marks = this.store.entries.get(this.keys.keyOf(value));
    return marks !== undefined && [...marks.values()].some((e) => e.value);
  }

  protected read(entry: Marks | undefined): unknown {
    return present(entry) ? true : undefined;
  }

  protected override validateDelta(delta: Delta<DotMap<Marks>>): void {
    assertGrowOnly(this.storeKind, delta);
  }
}
