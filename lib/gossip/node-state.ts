import { memberRef } from './member-ref.js';

/** One published key of a node. */
export interface Entry {
  key: string;
  /** A JSON value, exactly as it decodes on every peer. */
  value: unknown;
  /** The node's version counter when the key was last set. */
  version: number;
  /** Wall-clock ms after which the key is gone everywhere; undefined for never. */
  expiresAt: number | undefined;
}

/**
 * Everything one node has published in one life: a versioned map of keys,
 * plus a heartbeat that is nothing but the version counter moving on.
 *
 * A life is a generation: a restarted process starts a higher generation, and
 * any generation beats every version of a lower one, so a restarted node's
 * fresh state is never shadowed by its old one. Within a generation, the
 * node's version counter orders every change; a peer that has version v of
 * the node has every key set at or before v (scuttlebutt: van Renesse et
 * al.), so one number per node is all a digest needs.
 */
export class NodeState {
  /** Highest version of this generation: the last key set or heartbeat. */
  version = 0;
  /**
   * Highest version of any key set or taken in this life (expired ones
   * included, so it never goes back): past it, the version moved by
   * heartbeats alone, which digests carry without deltas.
   */
  keysVersion = 0;
  /** Keys in version order, oldest first (a re-set key moves to the end). */
  readonly entries = new Map<string, Entry>();
  /** This life's reference in digests (`memberRef`), kept with the generation. */
  ref: number;
  refCheck: number;

  constructor(
    readonly id: string,
    public address: string,
    /** Changes only through `rebirth`, which keeps `ref` with it. */
    public generation: number,
  ) {
    ({ ref: this.ref, refCheck: this.refCheck } = memberRef(id, generation));
  }

  /** The owner sets a key: the next version. */
  set(key: string, value: unknown, expiresAt: number | undefined): Entry {
    const entry: Entry = { key, value, version: ++this.version, expiresAt };
    this.keysVersion = entry.version;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** The owner's heartbeat: the version moves on with no key changed. */
  beat(): void {
    this.version++;
  }

  /** Entries newer than `version`, oldest first, as the scuttlebutt order requires. */
  entriesAbove(version: number): Entry[] {
    const above: Entry[] = [];
    for (const entry of this.entries.values()) if (entry.version > version) above.push(entry);
    // Map order is version order for the owner; a peer's copy can drift when
    // runs overlap, and a cut run must be a prefix in version order.
    return above.sort((a, b) => a.version - b.version);
  }

  /**
   * Applies a peer's run of this node's changes, `entries` (oldest first)
   * covering versions (from, to]. The caller has checked that we hold `from`.
   * Returns the entries that changed a value.
   */
  apply(to: number, entries: readonly Entry[], now: number): Entry[] {
    const changed: Entry[] = [];
    for (const entry of entries) {
      if (entry.version > this.keysVersion) this.keysVersion = entry.version;
      const current = this.entries.get(entry.key);
      if (current && current.version >= entry.version) continue;
      this.entries.delete(entry.key);
      // An entry that expired in transit is dropped, like an expired one here.
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) continue;
      this.entries.set(entry.key, entry);
      changed.push(entry);
    }
    if (to > this.version) this.version = to;
    return changed;
  }

  /** Drops keys that have expired by `now`; returns them. */
  expire(now: number): Entry[] {
    const gone: Entry[] = [];
    for (const entry of this.entries.values()) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) gone.push(entry);
    }
    for (const entry of gone) this.entries.delete(entry.key);
    return gone;
  }

  /** A new life: a higher generation, every key re-issued at fresh versions. */
  rebirth(generation: number): void {
    const keys = [...this.entries.values()];
    this.generation = generation;
    ({ ref: this.ref, refCheck: this.refCheck } = memberRef(this.id, generation));
    this.version = 0;
    this.keysVersion = 0;
    this.entries.clear();
    for (const entry of keys) this.set(entry.key, entry.value, entry.expiresAt);
  }
}
