import type { DeltaReplicaOptions } from './delta-replica.js';
import { DeltaReplica } from './delta-replica.js';
import type { Delta } from './delta.js';
import type { DotMap, JoinTrace, StoreKind } from './dot-store.js';
import { ElementKeys } from './element-keys.js';

/** One key whose visible value a join changed; `undefined` means absent. */
export interface KeyChange {
  key: string;
  previous: unknown;
  current: unknown;
}

/**
 * The engine for structures keyed by element or key (the sets and the
 * map): it watches which keys a join touches, and hands the type the ones
 * whose visible value changed, to describe in its `'change'` event.
 */
export abstract class KeyedReplica<N, C> extends DeltaReplica<DotMap<N>, C> {
  private readonly touched = new Map<string, unknown>();
  private tracing = false;
  private readonly trace: JoinTrace<N>;

  constructor(kind: string, storeKind: StoreKind<DotMap<N>>, options: DeltaReplicaOptions, params = '') {
    super(kind, storeKind, options, params);
    const replica = this;
    this.trace = {
      before: (k, existing) => {
        if (this.tracing && !this.touched.has(k)) this.touched.set(k, this.read(existing));
      },
      get active() {
        return replica.tracing;
      },
    };
  }

  /** The visible value of one entry, `undefined` if the entry does not make the key present. */
  protected abstract read(entry: N | undefined): unknown;
  protected abstract describeKeys(changes: KeyChange[]): C | undefined;

  protected override joinStore(delta: Delta<DotMap<N>>): boolean {
    try {
      return this.storeKind.join(this.store, this.context, delta.store, delta.context, this.trace);
    } catch (err) {
      // A refused delta (the join undid what it took): no change to describe, and no tracing left on.
      this.tracing = false;
      this.touched.clear();
      throw err;
    }
  }

  protected snapshot(): unknown {
    this.touched.clear();
    this.tracing = true;
    return undefined;
  }

  protected describe(): C | undefined {
    this.tracing = false;
    const changes: KeyChange[] = [];
    for (const [key, previous] of this.touched) {
      const current = this.read(this.store.entries.get(key));
      if (!sameValue(previous, current)) changes.push({ key, previous, current });
    }
    this.touched.clear();
    return changes.length === 0 ? undefined : this.describeKeys(changes);
  }

  /** Keys in byte order, so every replica lists them alike. */
  protected sortedKeys(): string[] {
    return ElementKeys.sorted(this.store.entries.keys());
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
