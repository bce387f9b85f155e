import { compareStamps } from '../clock/index.js';

/** One sibling as `get()` shows it. */
export interface SiblingView<V> {
  value: V;
  /** The replica that wrote it. */
  replica: string;
  /** Its hybrid-clock timestamp. */
  ts: number;
}

/** Picks or builds one value from several siblings. Must be deterministic so replicas agree. */
export type Resolver<V> = (siblings: SiblingView<V>[], key: string) => V;

/** Last writer wins: the sibling with the greatest (timestamp, replica id). */
export function lastWriterWins<V>(siblings: SiblingView<V>[]): V {
  let best = siblings[0];
  for (const s of siblings) if (compareStamps(s.ts, s.replica, best.ts, best.replica) > 0) best = s;
  return best.value;
}
