import { randomBytes } from 'node:crypto';
import { type ClockOptions, HybridClock, type Timestamp } from '../clock/index.js';
import type { Codec } from '../codec/index.js';
import { errors } from '../errors.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { type Clock, type ScuttlebuttMessage, messageCodec } from './messages.js';
import { ScuttlebuttSession } from './session.js';
import type { Update, UpdateCodec } from './update.js';

export interface ScuttlebuttOptions {
  /** Replica id; give the same one after a restart to keep the identity. Default: random. */
  id?: string;
  /** Document name; replicas of different names refuse each other. Default: the structure kind. */
  name?: string;
  /** The hybrid logical clock, or options for one (injected time source, `maxDrift` in ms). */
  clock?: HybridClock | ClockOptions;
}

/** Watches every update a replica applies or drops: persistence hooks in here. */
export interface UpdateObserver<U extends Update> {
  /** `update` was applied; `retained` is false if it lost to a later one at once. */
  applied(update: U, retained: boolean): void;
  /** A retained update was replaced by a later one. */
  superseded(update: U): void;
}

/**
 * The scuttlebutt engine: per-source high-water clocks, digests, lazy
 * per-source history, and relaying between streams without echo. A structure
 * extends it and implements only `applyUpdate` (how an update changes the
 * state, calling `supersede` for what it replaces), `retained` (the updates
 * it keeps, in the order applied) and its `updateCodec`.
 */
export abstract class Scuttlebutt<U extends Update> extends Replica {
  readonly id: string;
  readonly name: string;
  readonly clock: HybridClock;
  abstract readonly kind: string;
  abstract readonly updateCodec: UpdateCodec<U>;
  private codec: Codec<ScuttlebuttMessage<U>> | undefined;
  private readonly highWater: Clock = new Map();
  // Arrays, replaced (never mutated) on change: they are iterated for every
  // update applied, and a plain indexed loop allocates nothing.
  private sessions: ScuttlebuttSession<U>[] = [];
  private observers: UpdateObserver<U>[] = [];

  constructor(options: ScuttlebuttOptions = {}) {
    super();
    this.id = options.id ?? randomBytes(8).toString('hex');
    if (typeof this.id !== 'string' || this.id.length === 0) throw errors.invalidArgument('replica id must be a non-empty string');
    this.name = options.name ?? '';
    this.clock = options.clock instanceof HybridClock ? options.clock : new HybridClock(options.clock);
  }

  get descriptor(): Descriptor {
    return { kind: this.kind, name: this.name || this.kind, id: this.id };
  }

  get messageCodec(): Codec<ScuttlebuttMessage<U>> {
    return (this.codec ??= messageCodec(this.updateCodec));
  }

  openSession(options: SessionOptions): ScuttlebuttSession<U> {
    return new ScuttlebuttSession(this, options);
  }

  /** The high-water timestamp of every source this replica has seen. */
  clockDigest(): Clock {
    return new Map(this.highWater);
  }

  /** Raises high-water marks to `clock` (after a restart, for updates that were superseded and not kept). */
  restoreClock(clock: Clock): void {
    for (const [source, ts] of clock) {
      if (ts > (this.highWater.get(source) ?? 0)) this.highWater.set(source, ts);
      this.clock.restore(ts);
    }
  }

  /** True until the replica holds or has seen any update. */
  get isEmpty(): boolean {
    return this.highWater.size === 0;
  }

  /** Every retained update, in the order it was applied (so each source's in timestamp order). */
  history(): Iterator<U> & Iterable<U> {
    return this.retained();
  }

  /**
   * Applies a run of updates of one source from a peer, in timestamp order.
   * The drift check runs once, on the latest timestamp, before anything is
   * applied: a skewed batch changes nothing.
   */
  ingestBatch(updates: U[], origin: ScuttlebuttSession<U>): void {
    if (updates.length === 0) return;
    const last = updates[updates.length - 1];
    // Only this replica writes in its own name. Its own updates may come back
    // (a peer relays what it got from us), but never one we have not made:
    // that would be a forged write, or a reused id, and either makes
    // replicas differ for good.
    if (last.source === this.id && last.ts > (this.highWater.get(this.id) ?? 0)) {
      throw errors.integrity(`peer sent an update in our own name (${JSON.stringify(this.id)}) that we never made`);
    }
    this.clock.receive(updates[updates.length - 1].ts);
    for (const update of updates) this.ingest(update, origin);
  }

  /**
   * Applies one update unless this replica has already seen it. Updates from
   * peers come through `ingestBatch`, which checks their timestamps first.
   */
  ingest(update: U, origin?: ScuttlebuttSession<U>): boolean {
    const seen = this.highWater.get(update.source);
    if (seen !== undefined && update.ts <= seen) return false;
    this.clock.restore(update.ts);
    this.validateUpdate(update);
    this.highWater.set(update.source, update.ts);
    const retained = this.applyUpdate(update, origin);
    const { observers, sessions } = this;
    for (let i = 0; i < observers.length; i++) observers[i].applied(update, retained);
    for (let i = 0; i < sessions.length; i++) if (sessions[i] !== origin) sessions[i].relay(update);
    return true;
  }

  /** Adds a local update stamped with the next timestamp of our clock. */
  protected localUpdate(make: (ts: Timestamp) => U): U {
    const update = make(this.clock.now());
    this.ingest(update);
    return update;
  }

  /**
   * Changes the state by `update`. Returns whether the update is retained
   * (false if it lost at once to a later one). Call `supersede` for each
   * retained update it replaces.
   */
  protected abstract applyUpdate(update: U, origin: ScuttlebuttSession<U> | undefined): boolean;

  /**
   * The retained updates in the order they were applied, as a live
   * iterator: an update applied while it runs appears later in it, and a
   * superseded one disappears. Each source's updates are applied in
   * timestamp order, so this order is also each source's timestamp order,
   * which is what lets a peer's digest stand for everything it has.
   */
  protected abstract retained(): Iterator<U> & Iterable<U>;

  /** Whether `update` is still retained; a queued update that is not need not be sent. */
  isRetained(_update: U): boolean {
    return true;
  }

  /** Refuses an update that cannot follow what this replica has (a broken hash chain, say). */
  protected validateUpdate(_update: U): void {}

  /** Tells observers (persistence) that a retained update was replaced. */
  protected supersede(update: U): void {
    const { observers } = this;
    for (let i = 0; i < observers.length; i++) observers[i].superseded(update);
  }

  /** @internal sessions register here to receive live updates. */
  attach(session: ScuttlebuttSession<U>): void {
    this.sessions = [...this.sessions, session];
  }

  /** @internal */
  detach(session: ScuttlebuttSession<U>): void {
    this.sessions = this.sessions.filter((s) => s !== session);
  }

  observe(observer: UpdateObserver<U>): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }
}
