import { randomBytes } from 'node:crypto';
import { type ClockOptions, HybridClock, type Timestamp } from '../clock/index.js';
import type { Codec } from '../codec/index.js';
import { errors } from '../errors.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, SessionOptions } from '../session/contract.js';
import { type Clock, type ScuttlebuttMessage, messageCodec } from './messages.js';
import { SessionSet } from '../session/session-set.js';
import { ScuttlebuttSession } from './session.js';
import type { Update, UpdateCodec } from './update.js';

/** Entries of a run applied per call (see ingestRun). */
const RUN_STEP = 64;

/** What a replica knows of one source. */
interface SourceState {
  /** The high-water timestamp: every update of the source at or below it has been seen. */
  ts: Timestamp;
  /** How many of its updates are retained now. */
  retained: number;
}

export interface ScuttlebuttOptions {
  /** Replica id; give the same one after a restart to keep the identity. Default: random. */
  id?: string;
  /** Document name; replicas of different names refuse each other. Default: the structure kind. */
  name?: string;
  /** The hybrid logical clock, or options for one (injected time source, `maxDrift` in ms). */
  clock?: HybridClock | ClockOptions;
}

/**
 * A run of one source's updates in timestamp order, in a structure's own
 * compact form (columns, say) instead of an object per update: see
 * `ingestRun`.
 */
export interface UpdateRun {
  readonly source: string;
  readonly count: number;
  /** Each update's timestamp, increasing. */
  readonly stamps: ArrayLike<Timestamp>;
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
  // Per source: the high-water timestamp, and how many of its updates are retained (so a catch-up's size costs O(sources)).
  private readonly sources = new Map<string, SourceState>();
  /** @internal The live sessions: every update applied goes to each but the one it came from. */
  readonly peers = new SessionSet<U>();
  // An array, replaced (never mutated) on change: it is iterated for every
  // update applied, and a plain indexed loop allocates nothing.
  private observers: UpdateObserver<U>[] = [];
  // With persistence, updates are relayed only once stored (see holdUntilStored).
  private gated = false;
  private held: { update: U; origin: unknown; retained: boolean }[] = [];
  private heldHead = 0;
  // Per source, the timestamp of its latest update stored. Updates are
  // stored in the order applied, each source's in timestamp order, so an
  // applied update is unstored exactly when it is newer than that: a test
  // by value, so a structure may hand out fresh objects for what it keeps.
  private readonly storedThrough = new Map<string, Timestamp>();
  private closedBy: string | undefined;
  private localState: SourceState | undefined; // between beginLocal and endLocal
  /** @internal How many retained updates were ever replaced: while it stands still, every update queued for a peer is still retained. */
  replaced = 0;
  /**
   * @internal Sessions that queue live updates as objects. While there is
   * none (and nothing observes, and nothing waits to be stored), a run is
   * applied with no object per update, and relayed as one wake-up.
   */
  objectTakers = 0;

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

  openSession(options: SessionOptions): ScuttlebuttSession<U, any> {
    return new ScuttlebuttSession(this, options);
  }

  /** The high-water timestamp of every source this replica has seen. */
  clockDigest(): Clock {
    const clock: Clock = new Map();
    for (const [source, state] of this.sources) clock.set(source, state.ts);
    return clock;
  }

  /**
   * How many retained updates of `source` are newer than `after`, if it
   * can be told without a scan: 0 if `after` is at or past its high-water
   * mark, all of them if `after` is 0; undefined for anything in between,
   * or while updates wait to be stored (history() is then what the disk
   * holds, not what is retained).
   */
  retainedAfter(source: string, after: Timestamp): number | undefined {
    const state = this.sources.get(source);
    if (state === undefined || after >= state.ts) return 0;
    if (after > 0 || this.holdsAny) return undefined;
    return state.retained;
  }

  /** Raises high-water marks to `clock` (after a restart, for updates that were superseded and not kept). */
  restoreClock(clock: Clock): void {
    for (const [source, ts] of clock) {
      const state = this.sources.get(source);
      if (state === undefined) this.sources.set(source, { ts, retained: 0 });
      else if (ts > state.ts) state.ts = ts;
      this.clock.restore(ts);
    }
  }

  /** True until the replica holds or has seen any update. */
  get isEmpty(): boolean {
    return this.sources.size === 0;
  }

  /**
   * Every retained update, in the order it was applied (so each source's in
   * timestamp order), up to the first one not yet stored: what is not on
   * disk is never sent, so a replica that crashes never comes back behind
   * what its peers have of it. The rest follows as live updates once stored.
   * With persistence it is what the disk holds: a stored update replaced in
   * memory by one not yet stored is in it, in its timestamp's place.
   */
  history(): Iterator<U> & Iterable<U> {
    const scan = this.retained();
    if (!this.gated) return scan;
    const yielded = new Set<U>();
    let before: U[] = [];
    let ended = false;
    const gated: Iterator<U> & Iterable<U> = {
      next: () => {
        if (before.length > 0) return { done: false, value: before.shift()! };
        if (ended) return { done: true, value: undefined };
        const next = scan.next();
        // Updates are stored in the order applied, so the ones not yet stored are a suffix.
        if (next.done || this.isHeld(next.value.source, next.value.ts)) {
          // The scan ends here, but stored updates replaced by unstored ones
          // may be left that no later stored update drew out ahead of it:
          // they go now. Each is older than anything not yet stored, so a
          // peer that gets the rest live, in order, never counts one as had
          // without having it (if the process died, the restarted replica
          // would hold it, and the peer's digest would never ask for it).
          ended = true;
          for (const shadow of this.everyShadowed()) if (!yielded.has(shadow)) before.push(shadow);
          before.sort((a, b) => a.ts - b.ts);
          return before.length > 0 ? { done: false, value: before.shift()! } : { done: true, value: undefined };
        }
        const update = next.value;
        // A stored update replaced in memory by one not yet stored left the
        // scan's path; the disk still holds it, so it goes out ahead of any
        // later update of its source, or a peer would count it as had.
        const shadows = this.shadowed(update.source);
        if (shadows !== undefined) {
          for (const shadow of shadows) if (shadow.ts < update.ts && !yielded.has(shadow)) before.push(shadow);
          if (before.length > 0) {
            before.sort((a, b) => a.ts - b.ts);
            for (const shadow of before) yielded.add(shadow);
            before.push(update);
            return { done: false, value: before.shift()! };
          }
        }
        return next;
      },
      [Symbol.iterator]: () => gated,
    };
    return gated;
  }

  /**
   * @internal For persistence: from now on an update is relayed to peers
   * only once `releaseStored` says it is on disk. Returns a function that
   * turns this off and relays whatever is held.
   */
  holdUntilStored(): () => void {
    this.gated = true;
    // Everything applied so far counts as stored (it was loaded from the disk, or nothing was).
    for (const [source, state] of this.sources) this.storedThrough.set(source, state.ts);
    return () => {
      this.gated = false;
      this.releaseStored(this.held.length - this.heldHead);
    };
  }

  /** True while the update of `source` at `ts`, applied here, is not yet stored (so not yet relayed). */
  protected isHeld(source: string, ts: Timestamp): boolean {
    return this.holdsAny && ts > (this.storedThrough.get(source) ?? 0);
  }

  /** True while some update applied here is not yet stored. */
  private get holdsAny(): boolean {
    return this.heldHead < this.held.length;
  }

  /** True while updates are relayed only once stored (a persisted replica). */
  protected get holdsUnstored(): boolean {
    return this.gated;
  }

  /**
   * Stored updates of `source` that were replaced in memory by updates not
   * yet stored: if the process died now, the restarted replica would hold
   * them, so a peer must get them too. Default none (nothing is replaced).
   */
  protected shadowed(_source: string): Iterable<U> | undefined {
    return undefined;
  }

  /** Every stored update replaced in memory by one not yet stored, of every source (see `shadowed`). */
  protected everyShadowed(): Iterable<U> {
    return [];
  }

  /** `update`, which was retained when applied, is now on disk. */
  protected stored(_update: U): void {}

  /** @internal The next `count` updates applied (in order) are stored: relay them. */
  releaseStored(count: number): void {
    const end = Math.min(this.held.length, this.heldHead + count);
    for (let i = this.heldHead; i < end; i++) {
      const { update, origin, retained } = this.held[i];
      this.storedThrough.set(update.source, update.ts);
      if (retained) this.stored(update);
      this.peers.relay(update, origin);
    }
    this.heldHead = end;
    if (this.heldHead === this.held.length) {
      this.held = [];
      this.heldHead = 0;
    }
  }

  /**
   * @internal The replica's store is closed: later writes, local or from a
   * peer, fail with ERR_CLOSED instead of living in memory only.
   */
  closeWrites(what: string): void {
    this.closedBy = what;
  }

  /**
   * Applies a run of updates of one source from a peer, in timestamp order.
   * The drift check runs once, on the latest timestamp, before anything is
   * applied: a skewed batch changes nothing.
   */
  ingestBatch(updates: U[], origin: unknown): void {
    if (updates.length === 0) return;
    if (this.closedBy) throw errors.closed(this.closedBy);
    const last = updates[updates.length - 1];
    // Only this replica writes in its own name. Its own updates may come back
    // (a peer relays what it got from us), but never one we have not made:
    // that would be a forged write, or a reused id, and either makes
    // replicas differ for good.
    if (last.source === this.id && last.ts > (this.sources.get(this.id)?.ts ?? 0)) {
      throw errors.integrity(`peer sent an update in our own name (${JSON.stringify(this.id)}) that we never made`);
    }
    this.clock.receive(last.ts);
    // One source per batch: its state is looked up once, and the clock has
    // seen the latest timestamp, so it need not see each one.
    const source = last.source;
    let state = this.sources.get(source);
    for (let i = 0; i < updates.length; i++) {
      const update = updates[i];
      if (update.source !== source) {
        this.ingest(update, origin);
        state = this.sources.get(source);
      } else if (state !== undefined && update.ts <= state.ts) {
        this.checkSeen(update);
      } else {
        state = this.accept(update, origin, state);
      }
    }
  }

  /**
   * `ingestBatch` for a run in the structure's compact form (`runUpdate`
   * and `applyRunEntry` read it): the same checks, in the same order, and
   * objects made only for whoever needs them: persistence (observers, the
   * store gate), sessions that queue objects, and a structure that checks
   * updates one by one (`validateUpdate`, `checkSeen`). Otherwise the
   * sessions that follow the store get one wake-up for the run (an
   * undefined item), not an object per update.
   */
  ingestRun(run: UpdateRun, origin: unknown): void {
    const { source, count, stamps } = run;
    if (count === 0) return;
    if (this.closedBy) throw errors.closed(this.closedBy);
    const lastTs = stamps[count - 1];
    if (source === this.id && lastTs > (this.sources.get(this.id)?.ts ?? 0)) {
      throw errors.integrity(`peer sent an update in our own name (${JSON.stringify(this.id)}) that we never made`);
    }
    this.clock.receive(lastTs);
    let state = this.sources.get(source);
    if (this.needsObjects) {
      for (let i = 0; i < count; i++) {
        if (state !== undefined && stamps[i] <= state.ts) this.checkSeen(this.runUpdate(run, i));
        else state = this.accept(this.runUpdate(run, i), origin, state);
      }
      return;
    }
    // In steps of RUN_STEP entries a call: a loop that runs long in one call
    // is compiled twice (for later calls, and again as it runs).
    let applied = 0;
    for (let from = 0; from < count; from += RUN_STEP) applied += this.applyRunSteps(run, from, Math.min(count, from + RUN_STEP), origin);
    if (applied > 0) this.peers.relay(undefined as unknown as U, origin);
  }

  /** Applies entries `from` to `to` of `run` (see ingestRun) that are new; returns how many were. */
  private applyRunSteps(run: UpdateRun, from: number, to: number, origin: unknown): number {
    const { source, stamps } = run;
    let state = this.sources.get(source);
    let applied = 0;
    for (let i = from; i < to; i++) {
      const ts = stamps[i];
      if (state !== undefined && ts <= state.ts) continue; // seen: a duplicate
      if (state === undefined) this.sources.set(source, (state = { ts, retained: 0 }));
      else state.ts = ts;
      if (this.applyRunEntry(run, i, origin)) state.retained++;
      applied++;
    }
    return applied;
  }

  /**
   * True while updates must be applied as objects: something observes them
   * (persistence), they wait to be stored, a session queues them, or the
   * structure checks them one by one (`validateUpdate`, `checkSeen`).
   */
  protected get needsObjects(): boolean {
    const proto = Scuttlebutt.prototype;
    return this.observed || this.gated || this.objectTakers > 0 || this.validateUpdate !== proto.validateUpdate || this.checkSeen !== proto.checkSeen;
  }

  /**
   * A local write without an update object, while `needsObjects` is false:
   * `ingest` of the update at `stamps[at]` (just issued by `localStamp`) up
   * to where the structure applies it. Returns false if the source has seen
   * that timestamp (never, for a fresh one). The structure then applies the
   * write and calls `endLocal` with what applying returned, as `accept` does,
   * with no code of anyone else's run in between (no listener, no observer).
   */
  protected beginLocal(stamps: ArrayLike<Timestamp>, at: number): boolean {
    const state = this.sources.get(this.id);
    if (state !== undefined && stamps[at] <= state.ts) return false;
    if (state === undefined) this.sources.set(this.id, (this.localState = { ts: stamps[at], retained: 0 }));
    else (this.localState = state).ts = stamps[at];
    return true;
  }

  /** The write begun by `beginLocal` is applied (`retained` as `applyUpdate` returns it): the sessions hear of it, with no object. */
  protected endLocal(retained: boolean): void {
    if (retained) this.localState!.retained++;
    this.localState = undefined;
    this.peers.relay(undefined as unknown as U, undefined);
  }

  /** The `i`th update of `run` as an object. Only structures whose sessions send runs implement it. */
  protected runUpdate(_run: UpdateRun, _i: number): U {
    throw new Error(`${this.kind} takes no update runs`);
  }

  /** Applies the `i`th update of `run` (new to this replica) as `applyUpdate` would, without an object. */
  protected applyRunEntry(run: UpdateRun, i: number, origin: unknown): boolean {
    return this.applyUpdate(this.runUpdate(run, i), origin);
  }

  /** True while something watches every update as an object (persistence). */
  protected get observed(): boolean {
    return this.observers.length > 0;
  }

  /**
   * Applies one update unless this replica has already seen it. Updates from
   * peers come through `ingestBatch`, which checks their timestamps first.
   */
  ingest(update: U, origin?: unknown): boolean {
    const state = this.sources.get(update.source);
    if (state !== undefined && update.ts <= state.ts) {
      if (origin !== undefined) this.checkSeen(update);
      return false;
    }
    this.clock.restore(update.ts);
    this.accept(update, origin, state);
    return true;
  }

  /** Applies `update`, new to this replica, whose source stands at `state`; returns the source's state after it. */
  private accept(update: U, origin: unknown, state: SourceState | undefined): SourceState {
    this.validateUpdate(update, origin);
    if (state === undefined) this.sources.set(update.source, (state = { ts: update.ts, retained: 0 }));
    else state.ts = update.ts;
    const retained = this.applyUpdate(update, origin);
    if (retained) state.retained++;
    const { observers } = this;
    for (let i = 0; i < observers.length; i++) observers[i].applied(update, retained);
    if (this.gated) {
      this.held.push({ update, origin, retained });
    } else {
      this.peers.relay(update, origin);
    }
    return state;
  }

  /** Adds a local update stamped with the next timestamp of our clock. */
  protected localUpdate(make: (ts: Timestamp) => U): U {
    const update = make(this.localStamp());
    this.ingest(update);
    return update;
  }

  /**
   * The timestamp for a local update, which the caller then ingests: the
   * same as `localUpdate` without a closure to allocate per write.
   */
  protected localStamp(): Timestamp {
    if (this.closedBy) throw errors.closed(this.closedBy);
    return this.clock.now();
  }

  /** `localStamp` written into `stamps[at]`, allocating nothing (see HybridClock.stampInto). */
  protected localStampInto(stamps: Float64Array, at: number): void {
    if (this.closedBy) throw errors.closed(this.closedBy);
    this.clock.stampInto(stamps, at);
  }

  /**
   * Changes the state by `update`. Returns whether the update is retained
   * (false if it lost at once to a later one). Call `supersede` for each
   * retained update it replaces.
   */
  protected abstract applyUpdate(update: U, origin: unknown): boolean;

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
  protected validateUpdate(_update: U, _origin?: unknown): void {}

  /**
   * A peer's update at or below what this replica has seen of its source: a
   * duplicate, dropped; a structure whose history is fixed (a log) refuses
   * one that is not the update it holds (a replay out of place, or a fork).
   */
  protected checkSeen(_update: U): void {}

  /** `supersede` of a retained update of `source`, with no observer to tell (`observed` is false). */
  protected supersedeUnobserved(source: string): void {
    this.sources.get(source)!.retained--;
    this.replaced++;
  }

  /** Tells observers (persistence) that a retained update was replaced. */
  protected supersede(update: U): void {
    this.sources.get(update.source)!.retained--;
    this.replaced++;
    const { observers } = this;
    for (let i = 0; i < observers.length; i++) observers[i].superseded(update);
  }

  observe(observer: UpdateObserver<U>): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }
}
