import { type Codec, array, constant, float64, json, optional, string, struct, uint, union } from '../codec/index.js';
import type { Entry } from './node-state.js';
import { type DigestEntry, type RelativeEntry, digestEntriesCodec, relativeEntriesCodec } from './digest-codec.js';

export type { DigestEntry, RelativeEntry };

/**
 * Sent first by both sides of an exchange: every member we hold (live or
 * dead, not removed) by its 6-byte reference, how far we have seen it and
 * whether its keys changed lately, sorted by version (see
 * `digestEntriesCodec`); plus our receive window (the paper's flow control):
 * how many bytes of deltas, and how many members new to us, we take in this
 * exchange.
 */
export interface DigestMessage {
  type: 'digest';
  windowBytes: number;
  windowMembers: number;
  nodes: DigestEntry[];
}

/**
 * The digest of the side that answers (the one with the greater id, once
 * the other's digest has arrived): our version of each member the peer's
 * digest named, relative to the peer's and in its order (about a byte
 * each), and in full the members it did not name. The two digests of an
 * exchange then cost about 8 bytes per member instead of 14.
 */
export interface ReplyMessage {
  type: 'reply';
  windowBytes: number;
  windowMembers: number;
  relative: (RelativeEntry | undefined)[];
  extra: DigestEntry[];
}

/**
 * A run of one member's changes: the keys set in versions (from, version],
 * oldest first. `version` past the last key is the member's heartbeat.
 * `address` travels only when the receiver does not know this life yet.
 */
export interface DeltasMessage {
  type: 'deltas';
  id: string;
  generation: number;
  address: string | undefined;
  from: number;
  version: number;
  entries: Entry[];
}

/**
 * One push-pull averaging step of the aggregates: the sender's current
 * share of the count indicator, and of each named value and its presence.
 */
export interface AggregateMessage {
  type: 'aggregate';
  epoch: number;
  count: number;
  values: { name: string; value: number; presence: number }[];
}

export type GossipMessage = DigestMessage | ReplyMessage | DeltasMessage | AggregateMessage;

const entryCodec: Codec<Entry> = struct({ key: string, version: uint, expiresAt: optional(uint), value: json }) as Codec<Entry>;

/**
 * Message tags are wire format: ONLY APPEND. Tag 0 was the first digest
 * (an id string and two counters per member): retired, never to be reused.
 */
export const gossipCodec: Codec<GossipMessage> = union<GossipMessage>({
  digest: [
    3,
    struct({
      type: constant('digest' as const),
      windowBytes: uint,
      windowMembers: uint,
      nodes: digestEntriesCodec,
    }),
  ],
  deltas: [
    1,
    struct({
      type: constant('deltas' as const),
      id: string,
      generation: uint,
      address: optional(string),
      from: uint,
      version: uint,
      entries: array(entryCodec, 4),
    }),
  ],
  reply: [
    4,
    struct({
      type: constant('reply' as const),
      windowBytes: uint,
      windowMembers: uint,
      relative: relativeEntriesCodec,
      extra: digestEntriesCodec,
    }),
  ],
  aggregate: [
    2,
    struct({
      type: constant('aggregate' as const),
      epoch: uint,
      count: float64,
      values: array(struct({ name: string, value: float64, presence: float64 }), 17),
    }),
  ],
});

/** Encoded size of one entry inside a deltas message. */
export function entryLength(entry: Entry): number {
  return entryCodec.encodingLength(entry);
}
