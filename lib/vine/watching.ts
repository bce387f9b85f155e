import { type ValueEncoding, decode } from '../codec/index.js';
import { type KeyRecord, encodeContext } from '../merkle/record.js';
import type { Resolver } from '../merkle/resolve.js';
import { backoffDelay } from '../transport/backoff.js';
import type { NodeCore } from './node-core.js';

/** Most keys a node lists in its published watch set; past it, it asks for every key and filters itself. */
const MAX_WATCHED_KEYS = 256;
/** Times a notify to a watcher is tried before it is given up. */
const NOTIFY_ATTEMPTS = 5;

/** What `get()` returns: as `MerkleStore.get`. */
export interface VineVersions<V> {
  key: string;
  values: V[];
  value: V | undefined;
  conflict: boolean;
  context: string;
}

/** What `'data'` listeners receive beside the value. */
export interface DataEvent<V> {
  key: string;
  values: V[];
  conflict: boolean;
}

/**
 * The view of a record a reader gets. Siblings with byte-identical values
 * are shown once: a write retried at a second replica after the first one
 * failed to answer (it may have written after all) leaves two dots for one
 * value, which is no conflict to the reader. The context covers both.
 */
export function versionsOf<V>(key: string, record: KeyRecord, valueEncoding: ValueEncoding<V>, resolver: Resolver<V> | undefined): VineVersions<V> {
  const seen = new Set<string>();
  const distinct = record.siblings.filter((s) => {
    const bytes = Buffer.from(s.value).toString('base64');
    if (seen.has(bytes)) return false;
    seen.add(bytes);
    return true;
  });
  const siblings = distinct.map((s) => ({ value: decode(valueEncoding, s.value), replica: s.id, ts: s.ts }));
  const values = siblings.map((s) => s.value);
  let value: V | undefined;
  if (siblings.length === 1) value = values[0];
  else if (siblings.length > 1 && resolver) value = resolver(siblings, key);
  return { key, values, value, conflict: siblings.length > 1, context: encodeContext(record.context) };
}

/** Values with duplicates (by their JSON form) removed; see `versionsOf`. */
export function distinctValues<V>(values: V[]): V[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const text = JSON.stringify(v) ?? String(v);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

/**
 * A node's watchers across the cluster: the keys watched here (published
 * by gossip), the parsed watch sets of the other members, the notifies a
 * coordinator sends to them after a write, and the `'data'` events, fired
 * once per distinct value.
 */
export class Watching<V> {
  /** Local watchers: the keys, and whether every key is watched. */
  private readonly watched = new Set<string>();
  private watchAll = false;
  /** Each member's published watch set, parsed, with the text it was parsed from. */
  private readonly peerWatches = new Map<string, { state: string; keys: Set<string> }>();
  /** What was last delivered per watched key, so a change seen twice (notify and replica) fires once. */
  private readonly delivered = new Map<string, string>();
  /** Retries waiting to run (notifies), cleared on stop. */
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(
    private readonly node: NodeCore<V>,
    private readonly resolver: Resolver<V> | undefined,
  ) {}

  /** Watches `key` (or every key with `'*'`). */
  watch(key: string): void {
    if (key === '*') this.watchAll = true;
    else this.watched.add(key);
    this.publish();
  }

  /** Whether this node watches `key`. */
  /** Whether this node watches any key. */
  get watchesAny(): boolean {
    return this.watchAll || this.watched.size > 0;
  }

  watchesHere(key: string): boolean {
    return this.watchAll || this.watched.has(key);
  }

  publish(): void {
    if (!this.node.membership) return;
    const keys = this.watchAll || this.watched.size > MAX_WATCHED_KEYS ? ['*'] : [...this.watched];
    this.node.membership.setLocalState('watch', JSON.stringify(keys));
  }

  /** A member was removed for good. */
  forget(member: string): void {
    this.peerWatches.delete(member);
  }

  stop(): void {
    for (const timer of this.pending) clearTimeout(timer);
  }

  private watches(member: string, key: string): boolean {
    if (member === this.node.id) return this.watchesHere(key);
    const state = this.node.membership?.peerState(member, 'watch');
    if (!state) return false;
    // Parsed once per published state, not once per write.
    let parsed = this.peerWatches.get(member);
    if (parsed?.state !== state) {
      let keys: Set<string>;
      try {
        const list = JSON.parse(state) as unknown;
        keys = new Set(Array.isArray(list) ? list.filter((k): k is string => typeof k === 'string') : []);
      } catch {
        keys = new Set();
      }
      parsed = { state, keys };
      this.peerWatches.set(member, parsed);
    }
    return parsed.keys.has('*') || parsed.keys.has(key);
  }

  notifyWatchers(key: string, record: Uint8Array): void {
    for (const member of this.node.membership?.members() ?? []) {
      if (!this.node.isLive(member.id) || !this.watches(member.id, key)) continue;
      this.notify(member.id, key, record, 0);
    }
  }

  /**
   * Sends one notify; a lost one (connection cut, timeout) is sent again
   * after a backoff while the watcher is live and still watches the key, up
   * to NOTIFY_ATTEMPTS times. The watcher fires once per distinct value, so
   * a repeat that did arrive twice is harmless.
   */
  private notify(member: string, key: string, record: Uint8Array, attempt: number): void {
    this.node.call(member, { type: 'notify', key, record }, this.node.timeout).catch(() => {
      if (attempt + 1 >= NOTIFY_ATTEMPTS) return;
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        if (!this.node.isClosed && this.node.isLive(member) && this.watches(member, key)) this.notify(member, key, record, attempt + 1);
      }, backoffDelay(attempt, { initialMs: 100, maxMs: 2000 }));
      timer.unref();
      this.pending.add(timer);
    });
  }

  deliver(key: string, values: V[]): void {
    if (!this.watchesHere(key) || values.length === 0) return;
    const signature = JSON.stringify(values);
    if (this.delivered.get(key) === signature) return;
    this.delivered.set(key, signature);
    const conflict = values.length > 1;
    const value = values.length === 1 ? values[0] : this.resolver ? this.resolver(values.map((v) => ({ value: v, replica: '', ts: 0 })), key) : undefined;
    this.node.emit('data', key, value, { key, values, conflict } satisfies DataEvent<V>);
  }
}
