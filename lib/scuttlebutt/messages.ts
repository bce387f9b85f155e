import { errors } from '../errors.js';
import { type Codec, type DecodeState, type EncodeState, array, constant, readCount, string, struct, uint, union } from '../codec/index.js';
import type { Timestamp } from '../clock/index.js';
import type { Update, UpdateCodec } from './update.js';

/** What a replica has seen: the high-water timestamp of every source. */
export type Clock = Map<string, Timestamp>;

export interface DigestMessage {
  type: 'digest';
  clock: { source: string; ts: Timestamp }[];
}

/** A run of updates from one source, in timestamp order. */
export interface UpdatesMessage<U extends Update> {
  type: 'updates';
  source: string;
  updates: U[];
  /** The encoded size of `source` and `updates`, if the sender measured it while taking them (it must be exact). */
  bytes?: number;
}

export type ScuttlebuttMessage<U extends Update> = DigestMessage | UpdatesMessage<U>;

const digestCodec = struct({
  type: constant('digest' as const),
  clock: array(struct({ source: string, ts: uint })),
});

/**
 * Updates of one source share its id once, and timestamps go as deltas
 * from the previous one (each update's `ts` is greater than the last), so
 * a batch costs a byte or two of metadata per update.
 */
function updatesCodec<U extends Update>(payload: UpdateCodec<U>): Codec<UpdatesMessage<U>> {
  return {
    encodingLength(m) {
      if (m.bytes !== undefined) return m.bytes;
      let length = string.encodingLength(m.source) + uint.encodingLength(m.updates.length);
      let previous = 0;
      for (const u of m.updates) {
        length += uint.encodingLength(u.ts - previous) + payload.encodingLength(u);
        previous = u.ts;
      }
      return length;
    },
    encode(m, state: EncodeState) {
      const start = state.offset;
      string.encode(m.source, state);
      uint.encode(m.updates.length, state);
      let previous = 0;
      for (const u of m.updates) {
        uint.encode(u.ts - previous, state);
        payload.encode(u, state);
        previous = u.ts;
      }
      // A frame is sized by the measured length: a wrong one would cut the frame short unseen (typed arrays drop writes past their end).
      if (m.bytes !== undefined && state.offset - start !== m.bytes) throw new Error(`updates message measured ${m.bytes} bytes, encoded ${state.offset - start}`);
    },
    decode(state: DecodeState) {
      const source = string.decode(state);
      const count = readCount(state, 2);
      const updates = new Array<U>(count);
      let ts = 0;
      for (let i = 0; i < count; i++) {
        ts = readStamp(state, i, ts);
        updates[i] = payload.decode(state, source, ts);
      }
      return { type: 'updates', source, updates };
    },
  };
}

/**
 * Reads the timestamp of the `i`th update of a batch, sent as its delta
 * from `previous` (the one before it, 0 for the first), and checks it.
 */
export function readStamp(state: DecodeState, i: number, previous: Timestamp): Timestamp {
  const delta = uint.decode(state);
  // Timestamps start at 1: senders skip what a peer's digest covers, and a
  // source missing from a digest counts as 0, so an update at 0 would be
  // accepted here and never sent on.
  if (delta === 0) throw errors.decode(i === 0 ? 'timestamps start at 1' : 'timestamps within a batch must increase');
  const ts = previous + delta;
  if (ts > Number.MAX_SAFE_INTEGER) throw errors.decode('timestamp out of range');
  return ts;
}

/** The union tag of an updates message (a fast codec writes it too). */
export const UPDATES_TAG = 1;

/** Message tags are wire format: ONLY APPEND. */
export function messageCodec<U extends Update>(payload: UpdateCodec<U>): Codec<ScuttlebuttMessage<U>> {
  return union<ScuttlebuttMessage<U>>({
    digest: [0, digestCodec],
    updates: [UPDATES_TAG, updatesCodec(payload)],
  } as any);
}
