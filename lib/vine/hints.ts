import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { type KeyRecord, decodeRecord, encodeRecord, mergeRecords } from '../merkle/record.js';

type AnyLevel = AbstractLevel<any, any, any>;

/** One write kept for an owner that was down. */
export interface Hint {
  owner: string;
  partition: number;
  key: string;
  record: Uint8Array;
}

const SEP = '\u0000';

/**
 * Hinted handoff bookkeeping, on disk: records this node holds for other
 * owners, stored apart from its own partitions so anti-entropy never
 * mistakes them for its data. A second hint for the same owner and key is
 * merged into the first, so a backlog is bounded by keys, not writes. A hint
 * is removed only if it is unchanged since it was handed off, so a write
 * that arrives during the handoff is kept for the next one.
 */
export class HintStore {
  private readonly db: AbstractSublevel<any, any, string, Uint8Array>;
  /** Hints per owner, kept in memory as a count for the backlog figure. */
  private readonly counts = new Map<string, number>();
  private loaded: Promise<void> | undefined;
  /** Serialises read-modify-write of each hint (hints of different keys go side by side, so their database work shares round trips). */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(parent: AnyLevel) {
    this.db = parent.sublevel<string, Uint8Array>('hints', { keyEncoding: 'utf8', valueEncoding: 'view' });
  }

  /** Counts the stored hints once (after a restart they are still there). */
  load(): Promise<void> {
    return (this.loaded ??= (async () => {
      for await (const key of this.db.keys()) {
        const owner = key.slice(0, key.indexOf(SEP));
        this.counts.set(owner, (this.counts.get(owner) ?? 0) + 1);
      }
    })());
  }

  /** Hints held, per owner. */
  backlog(): Map<string, number> {
    return new Map([...this.counts].filter(([, n]) => n > 0));
  }

  get size(): number {
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  /** Keeps `record` for `owner`, merged with any hint already held for that key. */
  add(owner: string, partition: number, key: string, record: KeyRecord): Promise<void> {
    const id = hintKey(owner, partition, key);
    return this.serial(id, async () => {
      await this.load();
      const before = await this.db.get(id);
      const merged = before ? mergeRecords(decodeRecord(before), record) : record;
      await this.db.put(id, encodeRecord(merged));
      if (!before) this.counts.set(owner, (this.counts.get(owner) ?? 0) + 1);
    });
  }

  /** The hints held for `owner`, up to `limit` at a time. */
  async take(owner: string, limit: number): Promise<Hint[]> {
    await this.load();
    const out: Hint[] = [];
    const prefix = owner + SEP;
    for await (const [id, record] of this.db.iterator({ gte: prefix, lt: owner + '\u0001', limit })) {
      const rest = id.slice(prefix.length);
      const cut = rest.indexOf(SEP);
      out.push({ owner, partition: Number(rest.slice(0, cut)), key: rest.slice(cut + 1), record });
    }
    return out;
  }

  /** Drops a hint that was handed off, unless it changed meanwhile. */
  remove(hint: Hint): Promise<boolean> {
    const id = hintKey(hint.owner, hint.partition, hint.key);
    return this.serial(id, async () => {
      const now = await this.db.get(id);
      if (!now || !Buffer.from(now).equals(Buffer.from(hint.record))) return false;
      await this.db.del(id);
      this.counts.set(hint.owner, (this.counts.get(hint.owner) ?? 1) - 1);
      return true;
    });
  }

  /** Drops every hint for an owner removed from the cluster for good (its ranges are re-replicated instead). */
  forget(owner: string): Promise<number> {
    return this.serial(owner, async () => {
      await this.load();
      let dropped = 0;
      for await (const id of this.db.keys({ gte: owner + SEP, lt: owner + '\u0001' })) {
        await this.serial(id, () => this.db.del(id));
        dropped++;
      }
      this.counts.delete(owner);
      return dropped;
    });
  }

  private serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const next = (this.chains.get(id) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }
}

function hintKey(owner: string, partition: number, key: string): string {
  return `${owner}${SEP}${String(partition).padStart(3, '0')}${SEP}${key}`;
}
