import type { DecodeState, EncodeState } from '../codec/index.js';
import type { Timestamp } from '../clock/index.js';

/**
 * One change made by one replica (its `source`), at hybrid-logical time
 * `ts`. Every replica applies a source's updates in `ts` order, so one
 * high-water timestamp per source says everything it has seen from it.
 */
export interface Update {
  readonly source: string;
  readonly ts: Timestamp;
}

/**
 * How a structure's updates travel: the engine writes the source and the
 * timestamp; this codec writes the rest of the update.
 */
export interface UpdateCodec<U extends Update> {
  encodingLength(update: U): number;
  encode(update: U, state: EncodeState): void;
  decode(state: DecodeState, source: string, ts: Timestamp): U;
}
