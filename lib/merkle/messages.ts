import { errors } from '../errors.js';
import { type Codec, array, bool, bytes, constant, string, struct, uint, union } from '../codec/index.js';
import { type SymbolBatch, symbolBatchCodec } from '../reconcile/codec.js';

/**
 * A strictly ascending list of node or bucket indices, sent as the first
 * index and then the gaps, so a run of neighbours costs a byte each.
 * Decoding fails with ERR_DECODE on a list that does not ascend.
 */
export const ascending: Codec<number[]> = (() => {
  const gaps = array(uint);
  const toGaps = (list: number[]) => list.map((v, i) => (i === 0 ? v : v - list[i - 1]));
  return {
    encodingLength: (list) => gaps.encodingLength(toGaps(list)),
    encode: (list, state) => gaps.encode(toGaps(list), state),
    decode(state) {
      const list = gaps.decode(state);
      for (let i = 1; i < list.length; i++) {
        if (list[i] === 0) throw errors.decode('index list does not ascend');
        list[i] += list[i - 1];
        if (!Number.isSafeInteger(list[i])) throw errors.decode('index out of range');
      }
      return list;
    },
  };
})();

/**
 * One level of the tree walk: for each parent (a node of `level - 1` that
 * differed), the sender's hashes of its two children at `level`, side by
 * side in `hashes`. Level 0 carries the root alone and no parents. `last`
 * marks the final message of the level.
 */
export interface HashesMessage {
  type: 'hashes';
  level: number;
  parents: number[];
  hashes: Uint8Array;
  last: boolean;
}

/** One key's whole record (see record.ts): walk results and live writes alike. */
export interface EntryMessage {
  type: 'entry';
  key: string;
  record: Uint8Array;
}

/**
 * Sent by the side that found the differing buckets, after its entries for
 * them: "these buckets differ, and I have sent you all I hold in them". The
 * peer answers with its own entries in those buckets that differ.
 */
export interface CoveredMessage {
  type: 'covered';
  buckets: number[];
  last: boolean;
}

/** The answering side has sent all its entries: the walk is over. */
export interface EndMessage {
  type: 'end';
}

/**
 * Rateless mode (rateless-session.ts): coded symbols of the sender's
 * entries, in order. `budget` is the most symbols the sender will send in
 * this sync; a peer that cannot decode within it (or that does not
 * reconcile this way) answers `fallback`, and the sync is a Merkle walk.
 */
export interface SymbolsMessage {
  type: 'symbols';
  budget: number;
  batch: SymbolBatch;
}

/**
 * Rateless mode: the decoder has taken `received` symbols and is not done
 * yet; it asks for symbols up to index `wanted` (exclusive) in all.
 */
export interface ProgressMessage {
  type: 'progress';
  received: number;
  wanted: number;
}

/**
 * Rateless mode: the decoder has the difference and has sent its own
 * differing entries; these are the key positions of the entries it lacks
 * or holds in another version. `last` marks the final message of the list.
 */
export interface DecodedMessage {
  type: 'decoded';
  positions: number[];
  last: boolean;
}

/** Rateless mode: "walk the tree instead" (the difference is beyond the budget, or this side does not decode symbols). */
export interface FallbackMessage {
  type: 'fallback';
}

/**
 * Rateless mode: the decoder's difference sketch (lib/reconcile/sketch.ts),
 * sent right after the handshake so the sender can size its stream: the
 * decoder's item count and its 128 counters, each modulo 256.
 */
export interface SketchMessage {
  type: 'sketch';
  items: number;
  counts: Uint8Array;
}

/**
 * Rateless mode: the sender will stream symbols up to index `end`
 * (exclusive) without hearing more; sent once, when the sketch has told it
 * how many to send. Past `end` the decoder asks with `progress`.
 */
export interface WindowMessage {
  type: 'window';
  end: number;
}

export type MerkleMessage = HashesMessage | EntryMessage | CoveredMessage | EndMessage | SymbolsMessage | ProgressMessage | DecodedMessage | FallbackMessage | SketchMessage | WindowMessage;

// ONLY APPEND TO THIS LIST: the tags are the wire format.
export const merkleMessageCodec: Codec<MerkleMessage> = union<MerkleMessage>({
  hashes: [0, struct({ type: constant('hashes' as const), level: uint, parents: ascending, hashes: bytes, last: bool })],
  entry: [1, struct({ type: constant('entry' as const), key: string, record: bytes })],
  covered: [2, struct({ type: constant('covered' as const), buckets: ascending, last: bool })],
  end: [3, struct({ type: constant('end' as const) })],
  symbols: [4, struct({ type: constant('symbols' as const), budget: uint, batch: symbolBatchCodec })],
  progress: [5, struct({ type: constant('progress' as const), received: uint, wanted: uint })],
  decoded: [6, struct({ type: constant('decoded' as const), positions: ascending, last: bool })],
  fallback: [7, struct({ type: constant('fallback' as const) })],
  sketch: [8, struct({ type: constant('sketch' as const), items: uint, counts: bytes })],
  window: [9, struct({ type: constant('window' as const), end: uint })],
});
