import { type Codec, array, bool, bytes, constant, optional, readCount, string, struct, uint, union } from '../codec/index.js';
import { errors } from '../errors.js';

/**
 * Version of the vine protocol, carried in every hello. 2: `members` (a
 * client learns the ring and sends each request to a replica of its key)
 * and `batch` (many requests and replies in one frame).
 */
export const VINE_PROTOCOL_VERSION = 2;

/** Most items one batch frame may carry (as many as a connection may have in flight). */
export const MAX_BATCH_ITEMS = 1024;

/** The first frame on every connection: who is calling, from which cluster, and for what. */
export interface HelloMessage {
  type: 'hello';
  version: number;
  cluster: string;
  /** The caller's node id; `''` for a client that is not a member (the `tendril vine get` command). */
  node: string;
  /** `'rpc'` for requests and replies; `'sync'` hands the connection to a partition's MerkleStore stream. */
  purpose: string;
  /** The partition a sync connection is for. */
  partition: number;
}

/** The answer to an accepted hello. */
export interface WelcomeMessage {
  type: 'welcome';
  node: string;
}

/** A refusal of the whole connection (another cluster, bad hello); the connection closes after it. */
export interface RefusedMessage {
  type: 'refused';
  code: string;
  message: string;
}

/** Make a new version of a key at this replica (it is one of the key's replicas) and answer with the record. */
export interface WriteRequest {
  type: 'write';
  id: number;
  partition: number;
  key: string;
  /** The encoded value; absent deletes. */
  value: Uint8Array | undefined;
  /** The context from a read; absent replaces every version this replica holds. */
  context: string | undefined;
}

/** Merge a record made elsewhere; `hint` names the owner it is kept for when this node only stands in. */
export interface MergeRequest {
  type: 'merge';
  id: number;
  partition: number;
  key: string;
  record: Uint8Array;
  hint: string | undefined;
}

/** Answer with this replica's record of a key. */
export interface ReadRequest {
  type: 'read';
  id: number;
  partition: number;
  key: string;
}

/** A watched key changed: the record after the write. */
export interface NotifyRequest {
  type: 'notify';
  id: number;
  key: string;
  record: Uint8Array;
}

/** Run a whole quorum operation on this node as coordinator (how a client outside the cluster talks to it). */
export interface CoordinateRequest {
  type: 'coordinate';
  id: number;
  op: string;
  key: string;
  value: Uint8Array | undefined;
  context: string | undefined;
  n: number;
  r: number;
  w: number;
  timeout: number;
}

/** The answer to a request: `code` is `''` on success, a ReplicationError code otherwise. */
export interface ReplyMessage {
  type: 'reply';
  id: number;
  code: string;
  message: string;
  record: Uint8Array;
}

/** Answer with this node's root hash (16 bytes each, zeros for an empty one) of every listed partition, in order. */
export interface RootsRequest {
  type: 'roots';
  id: number;
  partitions: number[];
}

/** Answer with the members this node knows (`MembersReply`, encoded by `membersCodec`): a client places keys itself. */
export interface MembersRequest {
  type: 'members';
  id: number;
}

/** What a `members` request answers: the ring's inputs (every member, live or not, and the vnodes) and who is live. */
export interface MembersReply {
  vnodes: number;
  members: Array<{ id: string; host: string; port: number; live: boolean }>;
}

export const membersCodec: Codec<MembersReply> = struct({ vnodes: uint, members: array(struct({ id: string, host: string, port: uint, live: bool })) });

export type VineRequest = WriteRequest | MergeRequest | ReadRequest | NotifyRequest | CoordinateRequest | RootsRequest;
/** Every request a connection carries: the replica side's, and the one the coordinator answers. */
export type WireRequest = VineRequest | MembersRequest;
/** What a batch may carry: requests and replies, never a hello, a refusal or another batch. */
export type BatchItem = WireRequest | ReplyMessage;

/**
 * Many requests or replies in one frame: a busy connection sends what one
 * turn of the event loop produced as one frame, decoded in one pass. Each
 * item stands alone (a refused request is answered by itself); a batch that
 * does not decode disconnects the peer, as any malformed frame does.
 */
export interface BatchMessage {
  type: 'batch';
  items: BatchItem[];
}

export type VineMessage = HelloMessage | WelcomeMessage | RefusedMessage | WireRequest | ReplyMessage | BatchMessage;

// ONLY APPEND TO THIS LIST: the tags are the wire format.
const cases = {
  hello: [0, struct({ type: constant('hello' as const), version: uint, cluster: string, node: string, purpose: string, partition: uint })],
  welcome: [1, struct({ type: constant('welcome' as const), node: string })],
  refused: [2, struct({ type: constant('refused' as const), code: string, message: string })],
  write: [3, struct({ type: constant('write' as const), id: uint, partition: uint, key: string, value: optional(bytes), context: optional(string) })],
  merge: [4, struct({ type: constant('merge' as const), id: uint, partition: uint, key: string, record: bytes, hint: optional(string) })],
  read: [5, struct({ type: constant('read' as const), id: uint, partition: uint, key: string })],
  notify: [6, struct({ type: constant('notify' as const), id: uint, key: string, record: bytes })],
  coordinate: [
    7,
    struct({ type: constant('coordinate' as const), id: uint, op: string, key: string, value: optional(bytes), context: optional(string), n: uint, r: uint, w: uint, timeout: uint }),
  ],
  reply: [8, struct({ type: constant('reply' as const), id: uint, code: string, message: string, record: bytes })],
  roots: [9, struct({ type: constant('roots' as const), id: uint, partitions: array(uint) })],
  members: [10, struct({ type: constant('members' as const), id: uint })],
} satisfies { [K in Exclude<VineMessage['type'], 'batch'>]: [tag: number, codec: Codec<Extract<VineMessage, { type: K }>>] };

/** A batch's items: the request and reply cases, with the same tags. */
export const batchItemCodec: Codec<BatchItem> = union<BatchItem>({
  write: cases.write,
  merge: cases.merge,
  read: cases.read,
  notify: cases.notify,
  coordinate: cases.coordinate,
  reply: cases.reply,
  roots: cases.roots,
  members: cases.members,
});

/** A batch's items, at most MAX_BATCH_ITEMS: the count is checked before anything is allocated. */
const batchItems: Codec<BatchItem[]> = {
  encodingLength: (items) => uint.encodingLength(items.length) + items.reduce((sum, item) => sum + batchItemCodec.encodingLength(item), 0),
  encode(items, state) {
    uint.encode(items.length, state);
    for (const item of items) batchItemCodec.encode(item, state);
  },
  decode(state) {
    // Every item takes at least two bytes (its tag and its id).
    const count = readCount(state, 2);
    if (count > MAX_BATCH_ITEMS) throw errors.limit('batch items', count, MAX_BATCH_ITEMS);
    const items = new Array<BatchItem>(count);
    for (let i = 0; i < count; i++) items[i] = batchItemCodec.decode(state);
    return items;
  },
};

/** The tag of a batch frame (the frame writer lays batches out itself). */
export const BATCH_TAG = 11;

// ONLY APPEND TO THIS LIST: the tags are the wire format.
export const vineMessageCodec: Codec<VineMessage> = union<VineMessage>({
  ...cases,
  batch: [BATCH_TAG, struct({ type: constant('batch' as const), items: batchItems })],
});
