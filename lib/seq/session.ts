import { type Codec, type Limits, bytes, constant, struct, union } from '../codec/index.js';
import { errors } from '../errors.js';
import { BaseSession } from '../session/base-session.js';
import type { SessionOptions } from '../session/contract.js';
import type { SessionSet } from '../session/session-set.js';
import { type SeqDocument, normalizeRanges } from './document.js';
import { type DeleteDigests, decodeDeleteDigest, encodeDeleteDigest } from './delete-digest.js';
import { type Cursor, type Delta, decodeStateVector, encodeChunk, encodeDelta, encodeStateVector } from './update-codec.js';

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
  /** The live sessions: every new delta, local or remote, goes to each but the one it came from. */
  readonly peers: SessionSet<Delta>;
  /** Decodes and applies a peer's update; what is new goes to the other sessions. Returns the elements the update carried. */
  applyRemote(update: Uint8Array, limits: Limits, origin: object): number;
}

/** Room for the message tag and the update's length prefix. */
const MESSAGE_OVERHEAD = 16;
/** Most live deltas queued for one peer before they are dropped for a fresh catch-up. */
const MAX_QUEUED = 1 << 16;

/**
 * The Seq protocol towards one peer, without I/O. Opening: each side that
 * accepts updates sends its state vector and delete digest (`hello`); each
 * side that sends updates answers with exactly the runs the peer lacks and
 * the deletions of runs it has, in chunks under the message size. Then live
 * deltas follow, merged while they wait (a burst of typing becomes one
 * run). If the queue overflows, the answer to the hello is sent again:
 * applying what one already has changes nothing.
 */
export class SeqSession extends BaseSession<SeqMessage, Delta> {
  readonly codec = seqMessageCodec;
  private hello: { vector: Map<number, number>; digest: DeleteDigests } | undefined;
  private helloReceived = false;
  private restarts = 0;
  /** What the catch-up that began last sends (see countCatchUp). */
  private catchUpDelta: Delta | undefined;
  /** The live delta being sent, and how far, when it needs more than one message. */
  private current: Delta | undefined;
  private cursor: Cursor | undefined;
  private readonly budget: number;

  constructor(
    private readonly host: SeqHost,
    options: SessionOptions,
  ) {
    super(options, host.peers, MAX_QUEUED);
    this.budget = Math.max(64, options.maxMessageBytes - MESSAGE_OVERHEAD);
  }

  protected opening(): SeqMessage {
    const document = this.host.document;
    const stateVector = encodeStateVector(document.stateVector());
    return { type: 'hello', stateVector, deletes: encodeDeleteDigest(document.deleteDigest(), this.budget - stateVector.length - 8) };
  }

  receive(message: SeqMessage): void {
    if (message.type === 'hello') {
      if (this.helloReceived) throw errors.decode('second hello from the peer');
      this.helloReceived = true;
      if (!this.sending) return;
      const vector = decodeStateVector(message.stateVector, this.options.limits);
      const digest = decodeDeleteDigest(message.deletes, this.options.limits);
      this.hello = { vector, digest };
      this.beginCatchUp();
      return;
    }
    if (!this.options.writable) throw errors.decode('the peer sent an update on a stream that does not accept them');
    this.progress.received += this.host.applyRemote(message.update, this.options.limits, this);
  }

  /** The elements the catch-up will send (its runs' lengths); the delta is made here, and sent by `catchUpMessages`. */
  protected override countCatchUp(): number {
    const document = this.host.document;
    const delta = document.missing(this.hello!.vector, this.hello!.digest);
    // After an overflow the peer may hold runs sent since its hello whose
    // deletions were in the dropped queue: a duplicate run does not carry its
    // deletion, so the catch-up sends again every deletion we know of.
    if (this.restarts++ > 0) delta.deletes = document.missing(document.stateVector()).deletes;
    this.catchUpDelta = delta;
    let count = 0;
    for (let i = 0; i < delta.items.length; i += 3) count += delta.items[i + 2] - delta.items[i + 1];
    return count;
  }

  protected *catchUpMessages(): Generator<SeqMessage> {
    const document = this.host.document;
    const delta = this.catchUpDelta!;
    const cursor = { item: 0, clock: 0, del: 0 };
    // The column form: a catch-up is many runs, where it is the smaller.
    for (let chunk = encodeChunk(document, delta, cursor, this.budget, 'columns'); chunk; chunk = encodeChunk(document, delta, cursor, this.budget, 'columns')) {
      yield { type: 'update', update: chunk };
    }
  }

  protected nextLive(): SeqMessage | undefined {
    const document = this.host.document;
    if (this.current === undefined) {
      const first = this.live.shift();
      if (first === undefined) return undefined;
      if (this.live.length === 0) this.current = first;
      else {
        // Several deltas waiting (a burst of typing): send them as one
        // update, in which consecutive keystrokes become a single run.
        const waiting = [first];
        for (let next = this.live.shift(); next !== undefined; next = this.live.shift()) waiting.push(next);
        this.current = mergeDeltas(waiting);
      }
      const encoded = (this.current.encoded ??= encodeDelta(document, this.current));
      if (encoded.length <= this.budget) {
        this.current = undefined;
        return { type: 'update', update: encoded };
      }
      this.cursor = { item: 0, clock: 0, del: 0 };
    }
    const chunk = encodeChunk(document, this.current, this.cursor!, this.budget);
    if (chunk) return { type: 'update', update: chunk };
    this.current = undefined;
    this.cursor = undefined;
    return this.nextLive();
  }

  protected override hasPendingLive(): boolean {
    return this.current !== undefined;
  }

  protected override onClose(): void {
    this.current = undefined;
    this.hello = undefined;
    this.catchUpDelta = undefined;
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
