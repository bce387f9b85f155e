import { errors } from '../errors.js';
import type { SessionOptions } from '../session/contract.js';
import { KeyTable, type TableCursor } from './key-table.js';
import { type ColumnsWriter, type ModelColumns, type ModelMessage, type ModelUpdate, type ModelWireCodec, type WrittenColumns, writtenUpdates } from './model-wire.js';
import { type ScuttlebuttHost, ScuttlebuttSession } from './session.js';
import type { UpdateRun } from './scuttlebutt.js';

/** What a Model session needs of its Model, beyond what every scuttlebutt session does. */
export interface ModelHost extends ScuttlebuttHost<ModelUpdate> {
  readonly table: KeyTable;
  readonly wireCodec: ModelWireCodec;
  /** True while updates are relayed only once stored (a persisted replica): sessions then queue objects. */
  readonly storesFirst: boolean;
  /** Sessions that follow the table; told when the replica starts storing first. */
  readonly followers: Set<ModelSession>;
  objectTakers: number;
  updateAt(slot: number): ModelUpdate;
  ingestRun(run: UpdateRun, origin: unknown): void;
}

/**
 * The scuttlebutt session of a `Model`, which follows the key table
 * instead of queueing updates. The table holds every write in the order
 * applied, so what a peer still lacks is a position in it: the catch-up is
 * a cursor from slot 0, and once it reaches the end the same cursor goes on
 * as the live updates, filtered as the catch-up is against what the peer has
 * (`sent`, which also keeps the peer's own updates from going back). Messages
 * are written as their updates are taken from the table's columns
 * (`WrittenColumns`), the same bytes as updates messages of objects, and a peer's updates are
 * decoded into columns and applied from them (`ingestRun`): a sync makes no
 * object per key on either side, and a burst of writes waits in the table,
 * not in a queue of objects for every peer (one that the garbage collector
 * would otherwise have to promote and then walk).
 *
 * A persisted replica relays an update only once it is stored, and sends
 * nothing the disk does not hold: there the session works as every
 * scuttlebutt session does (history scan, queue of objects). A session
 * following the table when the replica starts storing first moves what the
 * peer still lacks into its queue, and goes on the same way.
 */
export class ModelSession extends ScuttlebuttSession<ModelUpdate, ModelColumns | WrittenColumns> {
  private cursor: TableCursor | undefined; // while following the table
  private following = false;
  private takesObjects = false;
  private takenLive: WrittenColumns[] = []; // live messages taken from the table, not yet handed out
  private readonly have = new Float64Array(1); // scratch for takeColumns()

  constructor(
    private readonly model: ModelHost,
    options: SessionOptions,
  ) {
    super(model, options, model.wireCodec);
  }

  override offer(item: ModelUpdate): void {
    if (this.closed) return;
    // Following the table, the item is in it already; an undefined item is a run applied without objects (see ingestRun).
    if (this.following || item === undefined) return this.wake();
    super.offer(item);
  }

  /** The peer's catch-up announced: the table may make room for that many more keys as it grows (see KeyTable.expect). */
  expectUpdates(updates: number): void {
    if (this.accepting) this.model.table.expect(updates);
  }

  override receive(message: ModelMessage): void {
    if (message.type === 'written') throw new Error('a written message is sent, never received');
    if (message.type !== 'columns') return super.receive(message);
    const sent = this.sent;
    if (!sent) throw errors.decode('updates before the digest');
    if (!this.accepting) return;
    this.model.ingestRun(message, this);
    this.progress.received += message.count;
    // Applied, and held by nothing else: the decoder may fill its arrays again.
    this.model.wireCodec.recycle(message);
    // The peer has these now; never send them back.
    if (message.count === 0) return;
    const last = message.stamps[message.count - 1];
    if (last > (sent.get(message.source) ?? 0)) sent.set(message.source, last);
  }

  protected override *catchUpMessages(): Generator<ModelMessage> {
    if (this.model.storesFirst || this.closed) {
      this.takeObjects();
      yield* super.catchUpMessages();
      return;
    }
    // The cursor covers whatever was queued before the peer's digest came.
    this.live.clear();
    const { table } = this.model;
    const cursor = (this.cursor = table.cursor());
    this.following = true;
    this.model.followers.add(this);
    const counting = this.countAsSent;
    while (this.following && table.hasAfter(cursor)) {
      const messages = this.takeColumns(cursor);
      if (counting !== undefined) {
        let count = 0;
        for (const message of messages) if (counting.has(message.source)) count += message.count;
        // Announced before the messages go: the stream sends the announcement ahead of them.
        if (count > 0) this.progress.announce(count);
      }
      for (const message of messages) yield this.handOutColumns(message);
    }
  }

  protected override nextLive(): ModelMessage | undefined {
    if (!this.following) return super.nextLive();
    if (this.takenLive.length === 0) this.takenLive = this.takeColumns(this.cursor!);
    const message = this.takenLive.shift();
    return message && this.handOutColumns(message);
  }

  protected override hasPendingLive(): boolean {
    if (!this.following) return super.hasPendingLive();
    return this.takenLive.length > 0 || (this.options.live && this.model.table.hasAfter(this.cursor!));
  }

  /** Live updates waiting for this peer: following the table, the writes after the cursor that the peer lacks. */
  override get queued(): number {
    if (!this.following) return super.queued;
    let count = 0;
    for (const message of this.takenLive) count += message.count;
    if (!this.options.live) return count;
    const { table } = this.model;
    const sent = this.sent!;
    const probe = { next: this.cursor!.next };
    for (let slot = table.nextSlot(probe); slot >= 0; slot = table.nextSlot(probe)) {
      if (table.stampAt(slot) > (sent.get(table.sourceAt(slot)) ?? 0)) count++;
    }
    return count;
  }

  protected override onClose(): void {
    super.onClose();
    this.stopCursor();
    this.takenLive = [];
    if (this.takesObjects) this.model.objectTakers--;
    this.takesObjects = false;
  }

  /**
   * The replica now relays updates only once stored (persistence began).
   * Everything in the table counts as stored: what the peer lacks of it
   * goes into the queue as objects, ahead of whatever the store releases.
   */
  stopFollowing(): void {
    if (!this.following) return;
    const cursor = this.cursor!;
    const waiting = this.takenLive;
    this.stopCursor();
    this.takenLive = [];
    this.takeObjects();
    const { table } = this.model;
    for (const message of waiting) for (const update of writtenUpdates(message)) super.offer(update);
    for (let slot = table.nextSlot(cursor); slot >= 0; slot = table.nextSlot(cursor)) super.offer(this.model.updateAt(slot));
  }

  private stopCursor(): void {
    this.following = false;
    this.model.followers.delete(this);
    if (this.cursor !== undefined) this.model.table.release(this.cursor);
    this.cursor = undefined;
  }

  /** From now on live updates come as objects: the replica makes them for this session. */
  private takeObjects(): void {
    if (this.takesObjects || this.closed) return;
    this.takesObjects = true;
    this.model.objectTakers++;
  }

  /** A message leaves: the peer has its updates from now on. */
  private handOutColumns(message: WrittenColumns): WrittenColumns {
    const sent = this.sent!;
    if (message.last[0] > (sent.get(message.source) ?? 0)) sent.set(message.source, message.last[0]);
    return message;
  }

  /**
   * Takes slots from the cursor until about one message's worth that the
   * peer lacks (or the end of the table), written as messages by source,
   * each in its order (`ColumnsWriter`): the bytes are written as the
   * updates are taken, so a later write or a compaction of the table
   * cannot change a message taken.
   */
  private takeColumns(cursor: TableCursor): WrittenColumns[] {
    const { table, wireCodec } = this.model;
    const sent = this.sent!;
    const budget = this.options.maxMessageBytes;
    // Runs of one source are the rule: keep its clock and its writer at hand.
    let source: string | undefined;
    let writer: ColumnsWriter | undefined;
    // The source's clock, kept in a Float64Array: a variable that starts
    // from a Map's value and then takes each timestamp is boxed each time.
    const have = this.have;
    have[0] = 0;
    let haves: Map<string, number> | undefined;
    // The writer of every source taken from, in the order first taken (more than one only when sources interleave).
    let first: ColumnsWriter | undefined;
    let writers: Map<string, ColumnsWriter> | undefined;
    let size = 0;
    while (size < budget) {
      const slot = table.nextSlot(cursor);
      if (slot < 0) break;
      const from = table.sourceAt(slot);
      if (from !== source) {
        if (source !== undefined) (haves ??= new Map()).set(source, have[0]);
        source = from;
        have[0] = haves?.get(from) ?? sent.get(from) ?? 0;
        writer = first === undefined ? undefined : first.source === from ? first : writers?.get(from);
      }
      const stamps = table.stampPageOf(slot);
      const at = KeyTable.at(slot);
      if (stamps[at] <= have[0]) continue;
      have[0] = stamps[at];
      if (writer === undefined) {
        writer = wireCodec.writer(from);
        if (first === undefined) first = writer;
        else (writers ??= new Map([[first.source, first]])).set(from, writer);
      }
      size += writer.addFrom(table, slot) + 9;
    }
    if (first === undefined) return [];
    if (writers === undefined) return [first.finish()];
    return [...writers.values()].map((w) => w.finish());
  }
}
