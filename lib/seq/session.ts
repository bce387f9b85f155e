import { type Codec, type Limits, bytes, constant, struct, union } from '../codec/index.js';
import { errors } from '../errors.js';
import type { PeerInfo, Session, SessionOptions } from '../session/contract.js';
import { type SeqDocument, normalizeRanges } from './document.js';
import {
  type Cursor,
  type Delta,
  decodeDeleteDigest,
  decodeStateVector,
  encodeChunk,
  encodeDeleteDigest,
  encodeDelta,
  encodeStateVector,
} from './update-codec.js';

/**
 * The two messages of the Seq protocol. Tags are part of the wire format:
 * append new cases, never renumber.
 * - `hello`: my state vector (per client, the next clock I expect) and a
 *   digest of my deletions (per client: count and 64-bit hash), sent by a
 *   side that accepts updates; the other side answers with the runs I lack
 *   and the deletions of clients whose digest differs from its own.
 * - `update`: runs and deleted ranges in the binary update format.
 */
export type SeqMessage = { type: 'hello'; stateVector: Uint8Array; deletes: Uint8Array } | { type: 'update'; update: Uint8Array };

export const seqMessageCodec: Codec<SeqMessage> = union<SeqMessage>({
  hello: [0, struct({ type: constant('hello' as const), stateVector: bytes, deletes: bytes })],
  update: [1, struct({ type: constant('update' as const), update: bytes })],
});

/** What a session needs from its Seq. */
export interface SeqHost {
  readonly document: SeqDocument;
  /** Decodes and applies a peer's update; what is new goes to the other sessions. */
  applyRemote(update: Uint8Array, limits: Limits, origin: object): void;
  /** Calls `listener` with every new delta (local or remote) and where it came from. */
  subscribe(listener: (delta: Delta, origin: unknown) => void): () => void;
}

/** Room for the message tag and the update's length prefix. */
const MESSAGE_OVERHEAD = 16;

/**
 * The Seq protocol towards one peer, without I/O. Opening exchange: each
 * side that accepts updates sends its state vector; each side that sends
 * updates answers a state vector with exactly the runs the peer lacks and
 * the deletions of runs it has, in chunks under the message size. Then live
 * deltas follow, relayed from the replica's other sessions and local edits,
 * never echoed back to the session they came from.
 */
export class SeqSession implements Session<SeqMessage> {
  readonly codec = seqMessageCodec;
  onWake?: () => void;

  private started = false;
  private helloDue = false;
  private helloReceived = false;
  private answering = false;
  private backlog: { delta: Delta; cursor: Cursor } | undefined;
  private backlogDone = false;
  private live: Delta[] = [];
  private liveHead = 0;
  private liveCursor: Cursor | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly budget: number;

  constructor(
    private readonly host: SeqHost,
    private readonly options: SessionOptions,
  ) {
    this.budget = Math.max(64, options.maxMessageBytes - MESSAGE_OVERHEAD);
  }

  start(peer: PeerInfo): void {
    this.started = true;
    this.helloDue = this.options.writable && peer.readable;
    this.answering = this.options.readable && peer.writable;
    this.backlogDone = !this.answering;
    if (this.answering && this.options.live) {
      this.unsubscribe = this.host.subscribe((delta, origin) => {
        if (origin === this) return;
        this.live.push(delta);
        this.onWake?.();
      });
    }
    this.onWake?.();
  }

  receive(message: SeqMessage): void {
    if (message.type === 'hello') {
      if (this.helloReceived) throw errors.decode('second hello from the peer');
      this.helloReceived = true;
      if (!this.answering) return;
      const vector = decodeStateVector(message.stateVector, this.options.limits);
      const digest = decodeDeleteDigest(message.deletes, this.options.limits);
      this.backlog = { delta: this.host.document.missing(vector, digest), cursor: { item: 0, clock: 0, del: 0 } };
      this.onWake?.();
      return;
    }
    if (!this.options.writable) throw errors.decode('the peer sent an update on a stream that does not accept them');
    this.host.applyRemote(message.update, this.options.limits, this);
  }

  pull(): SeqMessage | undefined {
    if (!this.started) return undefined;
    const document = this.host.document;
    if (this.helloDue) {
      this.helloDue = false;
      const stateVector = encodeStateVector(document.stateVector());
      return { type: 'hello', stateVector, deletes: encodeDeleteDigest(document.deleteDigest(), this.budget - stateVector.length - 8) };
    }
    if (this.backlog) {
      const chunk = encodeChunk(document, this.backlog.delta, this.backlog.cursor, this.budget);
      if (chunk) return { type: 'update', update: chunk };
      this.backlog = undefined;
      this.backlogDone = true;
    }
    // Live deltas wait for the answer to the peer's hello, which they would only precede.
    if (!this.backlogDone) return undefined;
    if (this.liveCursor === undefined && this.live.length - this.liveHead > 1) {
      // Several deltas waiting (a burst of typing): send them as one update,
      // in which consecutive keystrokes become a single run.
      const merged = mergeDeltas(this.live, this.liveHead);
      this.live = [merged];
      this.liveHead = 0;
    }
    while (this.liveHead < this.live.length) {
      const delta = this.live[this.liveHead];
      if (this.liveCursor === undefined) {
        delta.encoded ??= encodeDelta(document, delta);
        if (delta.encoded.length <= this.budget) {
          this.shiftLive();
          return { type: 'update', update: delta.encoded };
        }
        this.liveCursor = { item: 0, clock: 0, del: 0 };
      }
      const chunk = encodeChunk(document, delta, this.liveCursor, this.budget);
      if (chunk) return { type: 'update', update: chunk };
      this.liveCursor = undefined;
      this.shiftLive();
    }
    return undefined;
  }

  get initialSent(): boolean {
    return this.started && !this.helloDue && this.backlogDone;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.live = [];
    this.liveHead = 0;
    this.backlog = undefined;
  }

  private shiftLive(): void {
    this.liveHead++;
    if (this.liveHead === this.live.length) {
      this.live = [];
      this.liveHead = 0;
    }
  }
}

/** One delta holding the id ranges of `deltas[from..]`, sorted and joined. */
export function mergeDeltas(deltas: Delta[], from = 0): Delta {
  const items: number[] = [];
  const deletes: number[] = [];
  for (let i = from; i < deltas.length; i++) {
    const delta = deltas[i];
    for (let k = 0; k < delta.items.length; k += 3) items.push(delta.items[k], delta.items[k + 1], delta.items[k + 2] - delta.items[k + 1]);
    for (const n of delta.deletes) deletes.push(n);
  }
  const ranges = normalizeRanges(items);
  for (let k = 0; k < ranges.length; k += 3) ranges[k + 2] += ranges[k + 1];
  return { items: ranges, deletes: normalizeRanges(deletes) };
}
