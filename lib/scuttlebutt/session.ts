import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import { BaseSession } from '../session/base-session.js';
import type { SessionOptions } from '../session/contract.js';
import type { SessionSet } from '../session/session-set.js';
import type { Clock, ScuttlebuttMessage, UpdatesMessage } from './messages.js';
import type { Update, UpdateCodec } from './update.js';
import { string as stringCodec } from '../codec/index.js';
import { uintLength } from '../codec/primitives.js';

const stringLength = (s: string) => stringCodec.encodingLength(s);

/** Most live updates queued for one peer (references to retained updates: 2 MiB at most) before a history scan replaces them. */
const MAX_QUEUED = 1 << 18;

/** What a session needs of its replica (the engine in scuttlebutt.ts). */
export interface ScuttlebuttHost<U extends Update> {
  readonly messageCodec: Codec<ScuttlebuttMessage<U>>;
  readonly updateCodec: UpdateCodec<U>;
  readonly peers: SessionSet<U>;
  clockDigest(): Clock;
  /** Retained updates of `source` newer than `after`, or undefined if only a scan can tell. */
  retainedAfter(source: string, after: number): number | undefined;
  /** Every retained update, in the order applied, as a live iterator. */
  history(): Iterator<U>;
  /** Whether `update` is still retained (a queued one may have been replaced since). */
  isRetained(update: U): boolean;
  /** How many retained updates were ever replaced (a count that only grows). */
  readonly replaced: number;
  ingestBatch(updates: U[], origin: unknown): void;
}

/**
 * The scuttlebutt protocol towards one peer. Both sides open with a digest
 * (the high-water timestamp of every source they have seen); each then
 * sends the other what its digest lacks, in the order applied (so each
 * source's in timestamp order), and after that relays live updates.
 *
 * `sent` is what the peer has, as far as we know: its digest, advanced by
 * every update we hand out and every update it sends us. The catch-up and
 * the live queue are both filtered against it, so nothing goes twice and
 * nothing goes back to the stream it came from; if the queue overflows, a
 * fresh history scan from `sent` replaces it.
 */
export class ScuttlebuttSession<U extends Update, X extends { type: string } = never> extends BaseSession<ScuttlebuttMessage<U> | X, U> {
  readonly codec: Codec<ScuttlebuttMessage<U> | X>;
  protected sent: Clock | undefined; // undefined until the peer's digest arrives
  private grouped: UpdatesMessage<U>[] = []; // live updates taken from the queue, grouped by source
  // Sources the peer has in part: the catch-up counts their updates as it takes them (see countCatchUp).
  protected countAsSent: Set<string> | undefined;
  // host.replaced when the live queue was last seen empty: if it has not moved, nothing queued since was replaced.
  private replacedWhenEmpty: number;
  private readonly taken: U[] = []; // scratch for chunk()
  private readonly takenBytes: number[] = []; // scratch for chunk(): each taken update's encoded length

  /** `codec`, if given, is a structure's own codec for the same wire format (it may add message forms of its own, `X`). */
  constructor(
    private readonly host: ScuttlebuttHost<U>,
    options: SessionOptions,
    codec?: Codec<ScuttlebuttMessage<U> | X>,
  ) {
    super(options, host.peers, MAX_QUEUED);
    this.codec = codec ?? host.messageCodec;
    this.replacedWhenEmpty = host.replaced;
  }

  /** Both sides open with their digest, whichever way updates flow. */
  protected override sendsOpening(): boolean {
    return true;
  }

  protected opening(): ScuttlebuttMessage<U> | X {
    return { type: 'digest', clock: [...this.host.clockDigest()].map(([source, ts]) => ({ source, ts })) };
  }

  receive(received: ScuttlebuttMessage<U> | X): void {
    const message = received as ScuttlebuttMessage<U>; // a structure with message forms of its own (X) takes those first
    if (message.type === 'digest') {
      if (this.sent) throw errors.decode('second digest');
      this.sent = new Map();
      for (const { source, ts } of message.clock) this.sent.set(source, ts);
      this.beginCatchUp();
      return;
    }
    if (!this.sent) throw errors.decode('updates before the digest');
    if (!this.accepting) return;
    this.host.ingestBatch(message.updates, this);
    this.progress.received += message.updates.length;
    // The peer has these now; never send them back.
    const last = message.updates[message.updates.length - 1];
    if (last && last.ts > (this.sent.get(message.source) ?? 0)) this.sent.set(message.source, last.ts);
  }

  /**
   * The history the peer lacks: the scan walks the replica's updates in the
   * order applied, takes a chunk of about one message's worth, and groups
   * it by source (keeping each source's order), so sources that interleave
   * still travel in few messages.
   */
  protected *catchUpMessages(): Generator<ScuttlebuttMessage<U> | X> {
    const scan = this.host.history();
    let done = false;
    const next = () => {
      const step = scan.next();
      done = step.done === true;
      return step.done ? undefined : step.value;
    };
    const counting = this.countAsSent;
    while (!done) {
      const messages = this.chunk(next, false);
      if (counting !== undefined) {
        let count = 0;
        for (const message of messages) if (counting.has(message.source)) count += message.updates.length;
        // Announced before the messages go: the stream sends the announcement ahead of them.
        if (count > 0) this.progress.announce(count);
      }
      for (const message of messages) yield this.handOut(message);
    }
  }

  /**
   * The updates the catch-up will send, in O(sources): for a source the
   * peer lacks entirely, every retained update of it; for one it has all
   * of, none. A source it has in part (a peer coming back) would take a
   * scan of the whole history to count, in one go, before anything is sent
   * (about 70 to 90 ms at 1,000,000 keys); instead the catch-up announces
   * those updates chunk by chunk as it takes them, so the total grows.
   */
  protected override countCatchUp(): number {
    const sent = this.sent!;
    let count = 0;
    let partial: Set<string> | undefined;
    for (const source of this.host.clockDigest().keys()) {
      const known = this.host.retainedAfter(source, sent.get(source) ?? 0);
      if (known === undefined) (partial ??= new Set()).add(source);
      else count += known;
    }
    this.countAsSent = partial;
    return count;
  }

  protected nextLive(): ScuttlebuttMessage<U> | X | undefined {
    if (this.grouped.length === 0) {
      // A map lookup per queued update, saved when nothing was replaced (as when every write is to a new key).
      const replaced = this.host.replaced;
      this.grouped = this.chunk(() => this.live.shift(), replaced !== this.replacedWhenEmpty);
      if (this.live.length === 0) this.replacedWhenEmpty = replaced;
    }
    const message = this.grouped.shift();
    return message && this.handOut(message);
  }

  protected override hasPendingLive(): boolean {
    return this.grouped.length > 0;
  }

  protected override onClose(): void {
    this.grouped = [];
  }

  /**
   * Takes updates from `next` until about one message's worth that the peer
   * lacks, grouped by source in order. Queued updates that were replaced
   * meanwhile are skipped (`checkRetained`): their successor is queued too.
   */
  private chunk(next: () => U | undefined, checkRetained: boolean): UpdatesMessage<U>[] {
    const sent = this.sent!;
    const codec = this.host.updateCodec;
    const budget = this.options.maxMessageBytes;
    // Taken into a reused array, then copied out at their exact number: an
    // array grown by push allocates about three times what it ends up holding.
    const taken = this.taken;
    let count = 0;
    let first: string | undefined;
    let mixed = false;
    // Runs of one source are the rule: keep its clock at hand.
    let source: string | undefined;
    let have = 0;
    let haves: Map<string, number> | undefined;
    let size = 0;
    while (size < budget) {
      const u = next();
      if (u === undefined) break;
      if (u.source !== source) {
        if (source !== undefined) (haves ??= new Map()).set(source, have);
        source = u.source;
        have = haves?.get(source) ?? sent.get(source) ?? 0;
      }
      if (u.ts <= have || (checkRetained && !this.host.isRetained(u))) continue;
      have = u.ts;
      const bytes = codec.encodingLength(u);
      this.takenBytes[count] = bytes;
      taken[count++] = u;
      if (first === undefined) first = source;
      else if (source !== first) mixed = true;
      size += bytes + 9;
    }
    if (count === 0) return [];
    const messages: UpdatesMessage<U>[] = [];
    // Each message carries its encoded size, measured here, so that the frame need not measure every update again.
    if (!mixed) {
      const updates = taken.slice(0, count);
      messages.push({ type: 'updates', source: first!, updates, bytes: updatesBytes(first!, updates, this.takenBytes) });
    } else {
      // Grouped by source, each in its order, each update with its encoded length.
      const groups = new Map<string, { updates: U[]; lengths: number[] }>();
      for (let i = 0; i < count; i++) {
        const u = taken[i];
        let group = groups.get(u.source);
        if (group === undefined) groups.set(u.source, (group = { updates: [], lengths: [] }));
        group.updates.push(u);
        group.lengths.push(this.takenBytes[i]);
      }
      for (const [from, { updates, lengths }] of groups) messages.push({ type: 'updates', source: from, updates, bytes: updatesBytes(from, updates, lengths) });
    }
    taken.fill(undefined as unknown as U, 0, count); // hold no update past its message
    return messages;
  }

  /** A message leaves: the peer has its updates from now on. */
  private handOut(message: UpdatesMessage<U>): UpdatesMessage<U> {
    const last = message.updates[message.updates.length - 1].ts;
    if (last > (this.sent!.get(message.source) ?? 0)) this.sent!.set(message.source, last);
    return message;
  }
}

/**
 * The encoded size of an updates message (see messages.ts): the source,
 * the count, and per update its timestamp's delta and its payload, whose
 * lengths are `lengths[i]`.
 */
function updatesBytes(source: string, updates: readonly Update[], lengths: readonly number[]): number {
  let bytes = stringLength(source) + uintLength(updates.length);
  let previous = 0;
  for (let i = 0; i < updates.length; i++) {
    const ts = updates[i].ts;
    bytes += uintLength(ts - previous) + lengths[i];
    previous = ts;
  }
  return bytes;
}
