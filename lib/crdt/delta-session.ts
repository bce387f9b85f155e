import { errors } from '../errors.js';
import type { Codec } from '../codec/index.js';
import { BaseSession } from '../session/base-session.js';
import type { SessionOptions } from '../session/contract.js';
import type { SessionSet } from '../session/session-set.js';
import { CausalContext } from './causal-context.js';
import { type Delta, type DeltaMessage, contextOfStore } from './delta.js';
import type { StoreKind } from './dot-store.js';

/** Most live deltas queued for one peer before they are dropped for a fresh catch-up. */
const MAX_QUEUED = 1 << 16;

/** What a session needs of its replica (the engine in delta-replica.ts). */
export interface DeltaHost<S> {
  readonly store: S;
  readonly context: CausalContext;
  readonly storeKind: StoreKind<S>;
  readonly messages: Codec<DeltaMessage<S>>;
  readonly peers: SessionSet<Delta<S>>;
  receiveDelta(delta: Delta<S>, origin: unknown): void;
}

/**
 * One peer's view of a delta-state replica, with no I/O. The opening is a
 * summary (our causal context) from each side that accepts updates; the
 * answer to the peer's summary is produced lazily, a bounded message at a
 * time, from the live state; after that, deltas flow as they happen.
 *
 * `peerHas` is what the peer has, as far as we know: its summary, joined
 * with the context of every delta we hand out. If the live queue
 * overflows, the catch-up runs again against it, and sends only what the
 * peer still lacks.
 */
export class DeltaSession<S> extends BaseSession<DeltaMessage<S>, Delta<S>> {
  readonly codec: Codec<DeltaMessage<S>>;
  private peerHas: CausalContext | undefined;

  constructor(
    private readonly host: DeltaHost<S>,
    options: SessionOptions,
  ) {
    super(options, host.peers, MAX_QUEUED);
    this.codec = host.messages;
  }

  protected opening(): DeltaMessage<S> {
    return { type: 'summary', context: this.host.context.clone() };
  }

  receive(message: DeltaMessage<S>): void {
    if (this.closed) return;
    if (message.type === 'summary') {
      if (!this.sending) throw errors.decode('summary from a peer we do not send to');
      if (this.peerHas !== undefined) throw errors.decode('second summary');
      this.peerHas = message.context;
      this.beginCatchUp();
      return;
    }
    if (!this.options.writable) throw errors.decode('delta from a peer we do not accept updates from');
    this.host.receiveDelta(message.delta, this);
  }

  protected *catchUpMessages(): Generator<DeltaMessage<S>> {
    for (const delta of this.catchUp(this.peerHas!.clone())) yield this.handOut(delta);
  }

  protected nextLive(): DeltaMessage<S> | undefined {
    return this.handOut(this.coalesce());
  }

  /** A delta leaves: the peer has its dots from now on. */
  private handOut(delta: Delta<S>): DeltaMessage<S> {
    this.peerHas!.union(delta.context);
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
    const first = this.live.shift()!;
    if (this.live.length === 0) return first;
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
    for (let next = this.live.peek(); next !== undefined; next = this.live.peek()) {
      const bytes = sizeOf(next);
      if (size + bytes > budget) break;
      add(next);
      size += bytes;
      this.live.shift();
    }
    return joined;
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
