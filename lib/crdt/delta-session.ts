import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import type { PeerInfo, Session, SessionOptions } from '../session/contract.js';
import { CausalContext } from './causal-context.js';
import { type Delta, type DeltaMessage, contextOfStore } from './delta.js';
import type { StoreKind } from './dot-store.js';

/** What a session needs of its replica (the engine in delta-replica.ts). */
export interface DeltaHost<S> {
  readonly store: S;
  readonly context: CausalContext;
  readonly storeKind: StoreKind<S>;
  readonly messages: Codec<DeltaMessage<S>>;
  receiveDelta(delta: Delta<S>, origin: DeltaSession<S>): void;
}

/**
 * One peer's view of a delta-state replica, with no I/O. The opening is
 * one summary each way; the answer to the peer's summary is produced
 * lazily, a bounded message at a time, from the live state; after that,
 * deltas flow as they happen.
 */
export class DeltaSession<S> implements Session<DeltaMessage<S>> {
  readonly codec: Codec<DeltaMessage<S>>;
  onWake?: () => void;

  private sendSummary = false;
  private summarySent = false;
  /** We send our state (we are readable and the peer writable). */
  private sending = false;
  private backlog: Iterator<Delta<S>> | undefined;
  private backlogDone = false;
  private started = false;
  private closed = false;
  // A queue with a moving head: shift() on a long array is quadratic.
  private live: Delta<S>[] = [];
  private liveHead = 0;

  constructor(
    private readonly host: DeltaHost<S>,
    private readonly options: SessionOptions,
    private readonly detach: () => void,
  ) {
    this.codec = host.messages;
  }

  get initialSent(): boolean {
    return this.started && (!this.sendSummary || this.summarySent) && (!this.sending || this.backlogDone);
  }

  start(peer: PeerInfo): void {
    this.started = true;
    this.sendSummary = this.options.writable && peer.readable;
    this.sending = this.options.readable && peer.writable;
    if (!this.sending) this.live = [];
    this.onWake?.();
  }

  receive(message: DeltaMessage<S>): void {
    if (this.closed) return;
    if (message.type === 'summary') {
      if (!this.sending) throw errors.decode('summary from a peer we do not send to');
      if (this.backlog !== undefined || this.backlogDone) throw errors.decode('second summary');
      this.backlog = this.catchUp(message.context);
      this.onWake?.();
      return;
    }
    if (!this.options.writable) throw errors.decode('delta from a peer we do not accept updates from');
    this.host.receiveDelta(message.delta, this);
  }

  /** Queues a live delta (a local change, or one relayed from another session). */
  queue(delta: Delta<S>): void {
    if (this.closed || !this.options.live || (this.started && !this.sending)) return;
    this.live.push(delta);
    this.onWake?.();
  }

  pull(): DeltaMessage<S> | undefined {
    if (this.closed || !this.started) return undefined;
    if (this.sendSummary && !this.summarySent) {
      this.summarySent = true;
      return { type: 'summary', context: this.host.context.clone() };
    }
    if (this.backlog !== undefined) {
      const next = this.backlog.next();
      if (!next.done) return { type: 'delta', delta: next.value };
      this.backlog = undefined;
      this.backlogDone = true;
    }
    if (!this.sending) return undefined;
    if (this.liveHead >= this.live.length) return undefined;
    const delta = this.coalesce();
    if (this.liveHead === this.live.length) {
      this.live = [];
      this.liveHead = 0;
    }
    return { type: 'delta', delta };
  }

  /**
   * Takes the next queued live delta, joined with the ones queued after it
   * while their encoded sizes add up to at most half a message (a join is
   * never larger than its parts). Deltas are states, so the join of several
   * is one delta that says the same: an add and its remove collapse into one
   * dot of context, and a burst of changes travels as one message.
   */
  private coalesce(): Delta<S> {
    const first = this.live[this.liveHead++];
    if (this.liveHead === this.live.length) return first;
    const kind = this.host.storeKind;
    const budget = this.options.maxMessageBytes / 2;
    const sizeOf = (delta: Delta<S>) => this.codec.encodingLength({ type: 'delta', delta });
    let size = sizeOf(first);
    if (size > budget) return first;
    const joined: Delta<S> = { store: kind.empty(), context: new CausalContext() };
    const add = (d: Delta<S>) => {
      kind.join(joined.store, joined.context, d.store, d.context);
      joined.context.union(d.context);
    };
    add(first);
    while (this.liveHead < this.live.length) {
      const next = this.live[this.liveHead];
      const bytes = sizeOf(next);
      if (size + bytes > budget) break;
      add(next);
      size += bytes;
      this.liveHead++;
    }
    return joined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.live = [];
    this.liveHead = 0;
    this.backlog = undefined;
    this.detach();
  }

  /**
   * What a peer with context `peer` lacks: the entries whose dots it has not
   * seen, then one context delta with every dot we have seen but no longer
   * hold (our removals, as ranges; bounded by live entries plus replicas).
   * Read from the live state as it is pulled; anything that changes
   * meanwhile also goes out as a live delta, and joins are idempotent.
   * When everything fits in one message, it goes as one delta, so the peer
   * never sees a new entry without the removal of the entry it replaces.
   */
  private *catchUp(peer: CausalContext): Generator<Delta<S>> {
    const { storeKind: kind } = this.host;
    const budget = this.options.maxMessageBytes;
    const sizeOf = (delta: Delta<S>) => this.codec.encodingLength({ type: 'delta', delta });
    let batch: S[] = [];
    let batchBytes = 0;
    let yielded = false;
    for (const piece of kind.missing(this.host.store, peer)) {
      const bytes = sizeOf({ store: piece, context: contextOfStore(kind, piece) });
      if (batch.length > 0 && batchBytes + bytes > budget) {
        const store = kind.concat(batch);
        yield { store, context: contextOfStore(kind, store) };
        yielded = true;
        batch = [];
        batchBytes = 0;
      }
      batch.push(piece);
      batchBytes += bytes;
    }
    const removed = this.removedDots();
    if (!yielded) {
      const store = kind.concat(batch);
      const context = contextOfStore(kind, store);
      context.union(removed);
      const whole = { store, context };
      if (sizeOf(whole) <= budget) {
        if (!kind.isEmpty(store) || context.replicaCount > 0) yield whole;
        return;
      }
    }
    if (batch.length > 0) {
      const store = kind.concat(batch);
      yield { store, context: contextOfStore(kind, store) };
    }
    yield* this.splitContext(removed, budget);
  }

  /** Every dot we have seen minus every dot we hold: what we removed, as ranges. */
  private removedDots(): CausalContext {
    const live = new Map<string, number[]>();
    this.host.storeKind.forEachDot(this.host.store, (replica, seq) => {
      let seqs = live.get(replica);
      if (seqs === undefined) live.set(replica, (seqs = []));
      seqs.push(seq);
    });
    for (const seqs of live.values()) seqs.sort((a, b) => a - b);
    return this.host.context.subtract(live);
  }

  /** Splits a (removal) context into deltas of at most `budget` bytes. */
  private *splitContext(ctx: CausalContext, budget: number): Generator<Delta<S>> {
    const empty = this.host.storeKind.empty();
    // A range costs at most ~16 bytes, a replica id its length: stay well inside the budget.
    let part = new CausalContext();
    let bytes = 8;
    for (const [replica, r] of ctx.ranges) {
      for (let i = 0; i < r.length; i += 2) {
        const cost = 16 + (part.ranges.has(replica) ? 0 : Buffer.byteLength(replica) + 8);
        if (bytes + cost > budget && part.replicaCount > 0) {
          yield { store: empty, context: part };
          part = new CausalContext();
          bytes = 8;
        }
        const ranges = part.ranges.get(replica);
        if (ranges === undefined) part.ranges.set(replica, [r[i], r[i + 1]]);
        else ranges.push(r[i], r[i + 1]);
        bytes += 16 + (ranges === undefined ? Buffer.byteLength(replica) + 8 : 0);
      }
    }
    if (part.replicaCount > 0) yield { store: empty, context: part };
  }
}
