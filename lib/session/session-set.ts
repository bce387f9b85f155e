/** A session that takes live items from its replica. */
export interface LiveMember<T> {
  offer(item: T): void;
}

/**
 * The sessions of one replica: the fan-out of live items to every stream
 * but the one an item came from. Members are kept in an array that is
 * replaced, never mutated, on change: `relay` runs for every update, and an
 * indexed loop over a stable array allocates nothing, even when a member
 * leaves during the loop.
 */
export class SessionSet<T> {
  private members: readonly LiveMember<T>[] = [];

  /** Adds `member`; returns the function that removes it (idempotent). */
  add(member: LiveMember<T>): () => void {
    this.members = [...this.members, member];
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.members = this.members.filter((m) => m !== member);
    };
  }

  /** Offers `item` to every member but `origin`, the session it came from (none for a local write). */
  relay(item: T, origin?: unknown): void {
    const members = this.members;
    for (let i = 0; i < members.length; i++) if (members[i] !== origin) members[i].offer(item);
  }

  get size(): number {
    return this.members.length;
  }

  [Symbol.iterator](): Iterator<LiveMember<T>> {
    return this.members[Symbol.iterator]();
  }
}
