import { errors } from '../errors.js';
import { type Codec, array, bool, bytes, constant, string, struct, uint, union } from '../codec/index.js';

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

export type MerkleMessage = HashesMessage | EntryMessage | CoveredMessage | EndMessage;

// ONLY APPEND TO THIS LIST: the tags are the wire format.
export const merkleMessageCodec: Codec<MerkleMessage> = union<MerkleMessage>({
  hashes: [0, struct({ type: constant('hashes' as const), level: uint, parents: ascending, hashes: bytes, last: bool })],
  entry: [1, struct({ type: constant('entry' as const), key: string, record: bytes })],
  covered: [2, struct({ type: constant('covered' as const), buckets: ascending, last: bool })],
  end: [3, struct({ type: constant('end' as const) })],
});
