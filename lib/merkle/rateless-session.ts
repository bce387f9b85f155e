import { decode, encode } from '../codec/index.js';
import { errors } from '../errors.js';
import { CodedSymbols } from '../reconcile/coded-symbols.js';
import { Decoder } from '../reconcile/decoder.js';
import type { PrefixSource, SymbolPrefix } from '../reconcile/prefix.js';
import type { PeerInfo, Session, SessionOptions } from '../session/contract.js';
import { gate } from '../session/gate.js';
import { ProgressCount } from '../session/progress-count.js';
import type { DecodedMessage, EntryMessage, MerkleMessage, SketchMessage, SymbolsMessage, WindowMessage } from './messages.js';
import { type DifferenceSketch, HELLO_SKETCH_BUCKETS, SKETCH_BUCKETS } from '../reconcile/sketch.js';
import { merkleMessageCodec } from './messages.js';
import { decodeRecord } from './record.js';
import { type MerkleHost, MerkleSession } from './session.js';
import { type LiveEntry, LiveEntries } from './live-entries.js';
import { itemPosition, itemVersionSum } from './store-symbols.js';
import { keyPosition, leafHash } from './hash.js';
import { runs } from './bucket-runs.js';
import { Outbox } from './outbox.js';

/**
 * Symbols the sender streams right after the handshake, before the
 * decoder's sketch has told it how many to send: enough for a difference
 * of about 24 items (a dozen keys changed) in one round trip, 1.1 KiB at
 * 27 bytes each. Part of the protocol: the decoder asks for more only past
 * the window the sender announces, or past this one until it does.
 */
export const INITIAL_WINDOW = 40;

/**
 * How many symbols the sender streams, in all, for a difference estimated
 * at `estimate` items (lib/reconcile/sketch.ts): 1.75 per item, which
 * covers the 1.36 to 1.4 a large decoding takes when the estimate is up to
 * 22% low (the sketch's spread is about 12.5% there), plus 2√estimate for
 * small differences, where a decoding takes 1.6 to 2 per item and varies
 * more. From the folded sketch of a handshake (64 counters, a wider
 * estimate) 1.8 per item. Simulated, one window decodes 9 syncs in 10 or
 * more: 0.94 to 0.98 from a sketch message, 0.90 to 0.93 from a hello, at
 * 20 to 2,000 items; the rest cost a `progress` round trip. Too many
 * symbols cost only bytes, and past a few hundred items the entries
 * dominate them. At the smallest differences the symbols are most of the
 * bytes: with √estimate instead of 2√estimate a hello's window saves about
 * 4 symbols at 20 items (2.0 instead of 2.2 per item) but stalls 3 syncs
 * in 12 instead of 1 (measured at 10 changed keys); round trips were
 * preferred.
 *
 * Below about 45 estimated items the window is flatter than that: 1.4 per
 * item plus 15, rising at 2.2 per item to meet the line above. There the
 * estimate inverts the counters' absolute sum (sketch.ts), which is rarely
 * high by more than a fifth, and the decoding's own need (1.3 to 2.2 per
 * item) varies as much as the estimate, so a window that follows the
 * estimate steeply pays for the estimate's noise in bytes: at 10 changed
 * keys 49 symbols is about where the bytes cross 1.5 times the floor, and
 * 1.8 r̂ + 2√r̂ reached it from r̂ = 23. Measured over 50 seeds at 10
 * changed keys: the windows 37 to 49 (before: 29 to 61), 5 syncs in 50
 * with a `progress` (before: 4).
 */
export function symbolsFor(estimate: number, buckets = SKETCH_BUCKETS): number {
  const large = (buckets === SKETCH_BUCKETS ? 1.75 : 1.8) * estimate + 2 * Math.sqrt(estimate);
  return Math.ceil(Math.min(large, Math.max(1.4 * estimate + 15, 2.2 * estimate - 4.2)));
}

/** Key positions per `decoded` message: 5 bytes each at most. */
const POSITIONS_PER_MESSAGE_BYTES = 5;

/** What a rateless session needs of its store, beyond what the walk needs. */
export interface RatelessHost extends MerkleHost {
  /** The store's maintained coded symbols, once loaded. */
  symbols(): Promise<SymbolPrefix>;
  /** The same if they are loaded right now, else undefined (for the handshake's hello, which cannot wait). */
  loadedSymbols(): SymbolPrefix | undefined;
}

/**
 * Rateless reconciliation with one peer (docs/reconcile.md), falling back
 * to the Merkle walk.
 *
 * Both sides put their difference sketch in their handshake (the hello),
 * so the sender knows the size of the difference before it sends anything:
 * as soon as it has the peer's handshake it announces how far it will
 * stream (`window`) and streams coded symbols of its entries, from a
 * snapshot of the symbols its store keeps up to date, without waiting for
 * anything else. The sender is the side whose handshake answered the
 * other's (`PeerInfo.handshakeFirst`: the accepting end of a connection,
 * which then streams right behind its handshake), or, when the two
 * crossed, the side with the smaller replica id.
 *
 * Without both hellos (an older peer, a stream under a network key, a
 * store whose symbols were still loading when the handshake left) the
 * side with the smaller id (the walk's initiator) sends: it streams
 * `INITIAL_WINDOW` symbols at once, the peer (the decoder) sends its
 * sketch as a `sketch` message at the same moment, and from it the sender
 * announces the window and streams on: half a round trip more when the
 * difference is beyond the initial window.
 *
 * The decoder subtracts its own symbols and peels off the difference
 * (lib/reconcile) as they arrive; once decoded, it sends its own differing
 * entries and then `decoded` with the key positions it lacks or holds in
 * another version, and the sender stops (symbols already on the way are
 * dropped). Only if the announced window runs out undecoded does the
 * decoder ask for more (`progress`), which costs a round trip. The
 * sender merges what it received, answers with its entries at those
 * positions (but not one the peer has just sent it: a key changed on one
 * side only crosses once) and `end`.
 *
 * Fallback: a side that cannot decode within the budget (the smaller of
 * the two sides' symbol prefixes) answers `fallback`; so does a store that
 * only walks (session.ts), on the first symbols it receives. The initiator
 * then starts the walk and this session hands everything to a
 * `MerkleSession`. A rateless responder whose peer walks (the peer's first
 * message is the tree root) walks too. Flights after the handshake: the
 * symbols, `decoded` with the decoder's entries, the sender's entries; two
 * more per `progress`; without hellos one more (the symbols waiting for
 * the sketch) when the difference is beyond the initial window. The walk
 * costs about its depth in round trips.
 *
 * Live writes go out as `entry` messages through the bounded live queue,
 * as in the walk.
 */
export class RatelessSession implements Session<MerkleMessage> {
  readonly codec = merkleMessageCodec;
  onWake?: () => void;

  private peer: PeerInfo | undefined;
  private sendsData = false;
  private initiator = false;
  private readonly live: LiveEntries;
  private ready = false;
  private closed = false;
  private readonly outbox = new Outbox(() => this.wake());
  private finished = false;
  /** The initiator has sent its answers and `end`, and waits for the decoder's `end`. */
  private answered = false;
  private readonly inbox: MerkleMessage[] = [];
  /** The walk, once we fell back to it. */
  private walk: MerkleSession | undefined;
  /** Records announced (each batch as it is read, before it is sent) and received; a walk counts its own. */
  private readonly progress = new ProgressCount();

  // The initiator.
  private source: PrefixSource | undefined;
  private budget = 0;
  private sent = 0;
  private acked = 0;
  /** Symbols we will send without hearing more: the initial window, then the window announced from the sketch, then what `progress` asks for. */
  private allowed = INITIAL_WINDOW;
  /** Our sketch, as it was when our symbols were snapshotted. */
  private sketch: DifferenceSketch | undefined;
  private sized = false;
  // Both: our handshake carried our sketch (`handshakeHello()`), and the peer's sketch from its handshake.
  private helloSent = false;
  private peerHello: SketchMessage | undefined;
  private stopped = false;
  private wanted: number[] = [];
  /** Leaf hashes of the entries the peer sent before `decoded`: what it holds, so we need not send it back. */
  private seen = new Map<string, string>();
  // The decoder.
  private local: PrefixSource | undefined;
  private localBudget = 0;
  private decoder: Decoder | undefined;
  private decodedSent = false;
  /** How far the sender streams without hearing from us: the initial window until it announces its own, then what we asked for. */
  private windowEnd = INITIAL_WINDOW;
  private windowKnown = false;
  /** Symbols the decoder took to decode (for the benchmark's flight count). */
  private decodedAt = 0;
  private progressSent = 0;
  /** Key positions whose entries we held back because the peer's version looked newer. */
  private held: number[] = [];
  private heldSet = new Set<number>();
  /** Leaf hashes of the peer's answers after `decoded`. */
  private received = new Map<string, string>();
  /** Entries sent after the peer's `end` (held back, but not covered). */
  private followUps = 0;

  constructor(
    private readonly store: RatelessHost,
    private readonly options: SessionOptions,
  ) {
    this.live = new LiveEntries(options.maxQueued, this.outbox);
  }

  get initialSent(): boolean {
    if (this.outbox.pending) return false;
    return this.walk ? this.walk.initialSent : this.finished;
  }

  get queued(): number {
    return this.walk ? this.walk.queued : this.live.length;
  }

  takeCatchUpTotal(): number | undefined {
    const ours = this.progress.take();
    const walks = this.walk?.takeCatchUpTotal();
    return ours === undefined ? walks : ours + (walks ?? 0);
  }

  get updatesReceived(): number {
    return this.progress.received + (this.walk?.updatesReceived ?? 0);
  }

  /** How this connection reconciled: `'rateless'`, `'walk'` after a fallback, or undefined before it knows. */
  get method(): 'rateless' | 'walk' | undefined {
    return this.walk ? 'walk' : this.finished ? 'rateless' : undefined;
  }

  /**
   * Our difference sketch for the handshake, as a `sketch` message: the
   * sender sizes its stream from the decoder's before sending anything.
   * Only if the symbols are loaded already (after a crash they are rebuilt
   * in the background; until then syncs send the sketch as a message).
   */
  handshakeHello(): Uint8Array | undefined {
    const prefix = this.store.loadedSymbols();
    if (!prefix) return undefined;
    this.helloSent = true;
    return encode(merkleMessageCodec, { type: 'sketch', items: prefix.sketch.items, counts: prefix.sketch.wire(HELLO_SKETCH_BUCKETS) });
  }

  start(peer: PeerInfo): void {
    this.peer = peer;
    if (peer.hello !== undefined) {
      const hello = decode(merkleMessageCodec, peer.hello, this.options.limits);
      if (hello.type !== 'sketch' || hello.counts.length !== HELLO_SKETCH_BUCKETS) throw errors.decode(`a rateless hello is a difference sketch of ${HELLO_SKETCH_BUCKETS} counters`);
      // Used only if ours went out too: then both sides know the sender sizes its stream from it.
      if (this.helloSent) this.peerHello = hello;
    }
    this.sendsData = gate(this.options, peer).sending;
    // The sender: with both sketches in the handshakes, the side whose handshake answered the
    // other's (the accepting end, typically), which holds the decoder's sketch before it sends
    // anything and streams its sized window with its own handshake; otherwise the smaller id.
    this.initiator = this.peerHello && peer.handshakeFirst !== undefined ? peer.handshakeFirst === 'peer' : this.store.id < peer.id;
    this.store.sessions.add(this);
    if (this.sendsData && this.options.live) this.live.join(this.store.peers, this);
    this.store
      .ready()
      .then(() => this.store.symbols())
      .then(
        (prefix) => {
          if (this.closed || this.walk) return;
          this.ready = true;
          if (this.initiator) {
            this.source = prefix.source();
            this.sketch = prefix.sketch.copy();
            this.budget = prefix.size;
            this.allowed = Math.min(this.allowed, this.budget);
            // The decoder's sketch came in its handshake: the whole window goes out with the first symbols.
            if (this.peerHello) this.onSketch(this.peerHello, HELLO_SKETCH_BUCKETS);
          } else {
            this.local = prefix.source();
            this.localBudget = prefix.size;
            // Crosses the sender's first symbols: it sizes the rest of its stream from this.
            if (!this.peerHello) this.outbox.push({ type: 'sketch', items: prefix.sketch.items, counts: prefix.sketch.wire() });
          }
          try {
            for (const message of this.inbox.splice(0)) {
              if (this.closed || this.outbox.failure) break;
              this.receive(message);
            }
          } catch (err) {
            this.outbox.fail(err);
          }
          this.wake();
        },
        (err) => this.outbox.fail(err),
      );
  }

  receive(message: MerkleMessage): void {
    if (this.closed) return;
    if (this.walk) {
      // Symbols and acknowledgements still in flight from before the fallback.
      if (message.type === 'symbols' || message.type === 'progress' || message.type === 'fallback' || message.type === 'sketch' || message.type === 'window') return;
      return this.walk.receive(message);
    }
    if (!this.ready) {
      if (message.type === 'entry') this.checkEntry(message);
      this.inbox.push(message);
      return;
    }
    switch (message.type) {
      case 'hashes':
        // The peer walks (it does not reconcile by symbols, or it is the initiator and fell back).
        if (this.initiator || this.decoder) throw errors.decode('unexpected tree message during rateless reconciliation');
        this.startWalk();
        return this.walk!.receive(message);
      case 'symbols':
        return this.onSymbols(message);
      case 'progress':
        if (!this.initiator || message.received > this.sent || message.received < this.acked) throw errors.decode('unexpected progress message');
        this.acked = message.received;
        this.allowed = Math.max(this.allowed, Math.min(this.budget, message.wanted));
        return this.wake();
      case 'sketch':
        return this.onSketch(message);
      case 'window':
        return this.onWindow(message);
      case 'fallback':
        if (!this.initiator) throw errors.decode('unexpected fallback message');
        return this.startWalk();
      case 'entry':
        return this.onEntry(message);
      case 'decoded':
        return this.onDecoded(message);
      case 'end':
        if (this.initiator) {
          // The decoder's last word, after any entries it held back and then found not covered.
          if (!this.answered || this.finished) throw errors.decode('unexpected end message');
          return this.outbox.enqueue(async () => {
            await this.store.flushed();
            this.finished = true;
            this.wake();
          });
        }
        if (!this.decodedSent || this.finished) throw errors.decode('unexpected end message');
        return this.outbox.enqueue(async () => {
          await this.store.flushed();
          // What we held back, where the peer's version did not cover ours: one more flight.
          const held = this.held;
          const received = this.received;
          this.held = [];
          this.heldSet = new Set();
          this.received = new Map();
          if (this.sendsData && held.length > 0) {
            this.followUps += await this.sendPositions(held, received);
          }
          this.outbox.push({ type: 'end' });
          this.finished = true;
          this.wake();
        });
      default:
        throw errors.decode(`unexpected ${message.type} message during rateless reconciliation`);
    }
  }

  pull(): MerkleMessage | undefined {
    if (this.outbox.failure) throw this.outbox.failure;
    if (this.outbox.pending) return this.outbox.shift();
    if (this.walk) return this.walk.pull();
    if (this.initiator && this.source && !this.stopped && this.sent < this.budget) {
      const allowed = Math.min(this.budget, this.allowed) - this.sent;
      if (allowed > 0) return this.symbolBatch(allowed);
    }
    return this.live.next();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.sessions.delete(this);
    this.live.close();
    this.walk?.close();
    this.outbox.close();
  }

  storeClosed(): void {
    this.outbox.fail(errors.closed('store'));
  }

  offer(entry: LiveEntry): void {
    if (this.closed) return;
    this.live.offer(entry);
    this.wake();
  }

  /** What this connection's rateless exchange took, for the benchmark: symbols sent, symbols the decoder needed, `progress` asked. */
  get stats(): { symbolsSent: number; decodedAt: number; progress: number; followUps: number } {
    return { symbolsSent: this.sent, decodedAt: this.decodedAt, progress: this.progressSent, followUps: this.followUps };
  }

  // ---- the initiator ----

  /** Sizes the stream from the decoder's sketch, from its handshake or its message: at most once. */
  private onSketch(m: SketchMessage, buckets = SKETCH_BUCKETS): void {
    if (!this.initiator || this.sized) throw errors.decode('unexpected sketch message');
    this.sized = true;
    const estimate = this.sketch!.estimate(m.items, m.counts, buckets);
    this.sketch = undefined;
    if (this.stopped) return; // decoded already
    // Never below what is already on its way, nor below one symbol: symbol 0 is what tells
    // the decoder it is done. (A window may end before the initial one if that has not gone out.)
    this.allowed = Math.min(this.budget, Math.max(1, this.sent, symbolsFor(estimate, buckets), this.acked));
    this.outbox.push({ type: 'window', end: this.allowed });
  }

  private symbolBatch(allowed: number): SymbolsMessage {
    const perMessage = Math.max(1, Math.floor((this.options.maxMessageBytes - 32) / 30));
    const count = Math.min(allowed, perMessage, this.budget - this.sent);
    const symbols = new CodedSymbols(count);
    for (let i = 0; i < count; i++) this.source!.next(symbols, symbols.push());
    const message: SymbolsMessage = { type: 'symbols', budget: this.budget, batch: { first: this.sent, symbols } };
    this.sent += count;
    return message;
  }

  private onDecoded(m: DecodedMessage): void {
    if (!this.initiator || this.answered || this.finished || this.sent === 0) throw errors.decode('unexpected decoded message');
    this.stopped = true;
    for (const position of m.positions) this.wanted.push(position);
    if (this.wanted.length > this.sent * 2 + 64) throw errors.limit("key positions asked for", this.wanted.length, this.sent * 2 + 64);
    if (!m.last) return;
    const wanted = this.wanted;
    this.wanted = [];
    const seen = this.seen;
    this.seen = new Map();
    this.outbox.enqueue(async () => {
      await this.store.flushed(); // the peer's entries are merged: answer with what we hold now, unless the peer sent just that
      if (this.sendsData) await this.sendPositions(wanted, seen);
      this.outbox.push({ type: 'end' });
      this.answered = true;
      this.source = undefined;
    });
  }

  // ---- the decoder ----

  private onSymbols(m: SymbolsMessage): void {
    if (this.initiator) throw errors.decode('unexpected symbols message: the initiator sends them');
    if (this.decodedSent) return; // sent before our `decoded` reached the peer
    const batch = m.batch;
    if (!this.decoder) {
      if (batch.first !== 0 || m.budget < 1) throw errors.decode('rateless symbols start at index 0 with a budget');
      this.decoder = new Decoder(this.local!, Math.min(this.localBudget, m.budget));
      if (!this.windowKnown) this.windowEnd = Math.min(INITIAL_WINDOW, m.budget);
    }
    const decoder = this.decoder;
    if (batch.first !== decoder.received) throw errors.decode(`coded symbol ${batch.first} arrived, expected ${decoder.received}`);
    if (batch.first + batch.symbols.length > m.budget) throw errors.decode('more coded symbols than the sender budgeted');
    for (let j = 0; j < batch.symbols.length && !decoder.done && !decoder.exhausted; j++) decoder.receive(batch.symbols, j);
    if (decoder.done) return this.decoded();
    if (decoder.exhausted) {
      // The difference is beyond the symbols either side can spare: walk the tree instead.
      this.outbox.push({ type: 'fallback' });
      return this.startWalk();
    }
    this.askIfStalled();
  }

  private onWindow(m: WindowMessage): void {
    if (this.initiator || this.windowKnown) throw errors.decode('unexpected window message');
    if (m.end < 1) throw errors.decode('an empty symbol window');
    this.windowKnown = true;
    if (this.decodedSent) return;
    this.windowEnd = m.end;
    this.askIfStalled();
  }

  /** Once the sender has sent all it announced and we still have not decoded, ask for more: the only wait of the stream. */
  private askIfStalled(): void {
    const decoder = this.decoder;
    if (!decoder || !this.windowKnown || decoder.received < this.windowEnd) return;
    this.windowEnd = Math.max(decoder.wanted(), decoder.received + 1);
    this.progressSent++;
    this.outbox.push({ type: 'progress', received: decoder.received, wanted: this.windowEnd });
  }

  private decoded(): void {
    const decoder = this.decoder!;
    this.decodedSent = true;
    this.decodedAt = decoder.received;
    this.local = undefined;
    const theirs = [...new Set(decoder.remoteOnly.map(itemPosition))].sort((a, b) => a - b);
    // A key both sides hold in different versions: if the peer's version sum is larger, its
    // version has most likely seen ours, so we hold ours back and the peer's alone crosses;
    // after its entries we send ours only if it was not covered (concurrent writes).
    const theirSums = new Map<number, number>();
    for (const item of decoder.remoteOnly) theirSums.set(itemPosition(item), Math.max(theirSums.get(itemPosition(item)) ?? 0, itemVersionSum(item)));
    const mine = new Set<number>();
    const held = new Set<number>();
    for (const item of decoder.localOnly) {
      const position = itemPosition(item);
      const theirSum = theirSums.get(position);
      if (theirSum !== undefined && theirSum > itemVersionSum(item)) held.add(position);
      else mine.add(position);
    }
    for (const position of mine) held.delete(position); // another key at the same position goes now anyway
    this.held = [...held].sort((a, b) => a - b);
    this.heldSet = held;
    this.outbox.enqueue(async () => {
      if (this.sendsData) await this.sendPositions([...mine].sort((a, b) => a - b));
      const perMessage = Math.max(1, Math.floor((this.options.maxMessageBytes - 16) / POSITIONS_PER_MESSAGE_BYTES));
      let start = 0;
      do {
        const positions = theirs.slice(start, start + perMessage);
        start += perMessage;
        this.outbox.push({ type: 'decoded', positions, last: start >= theirs.length });
      } while (start < theirs.length);
    });
  }

  // ---- both ----

  /** Sends every entry stored at the given key positions (ascending), but not one `skip` says the peer holds; returns how many. */
  private async sendPositions(positions: number[], skip?: Map<string, string>): Promise<number> {
    let sent = 0;
    if (positions.length === 0) return sent;
    const wanted = new Set(positions);
    const shift = 2 ** (32 - this.store.depth);
    const buckets = [...new Set(positions.map((p) => Math.floor(p / shift)))];
    for await (const batch of this.store.readRuns([...runs(buckets)])) {
      if (this.closed) return sent;
      let count = 0;
      for (const [storedKey, record] of batch) {
        const position = ((storedKey[0] << 24) | (storedKey[1] << 16) | (storedKey[2] << 8) | storedKey[3]) >>> 0;
        if (!wanted.has(position)) continue;
        const key = Buffer.from(storedKey.subarray(4)).toString('utf8');
        if (skip && skip.get(key) === Buffer.from(leafHash(storedKey.subarray(4), record)).toString('latin1')) continue;
        this.outbox.push({ type: 'entry', key, record });
        sent++;
        count++;
      }
      this.progress.announce(count);
      await this.outbox.space();
    }
    return sent;
  }

  private checkEntry(m: EntryMessage) {
    const record = decodeRecord(m.record, this.options.limits);
    for (const sibling of record.siblings) decode(this.store.valueEncoding, sibling.value, this.options.limits);
    return record;
  }

  private onEntry(m: EntryMessage): void {
    const record = this.checkEntry(m);
    this.progress.received++;
    // A record that decoded and checked has exactly one encoding, so its bytes hash as ours would.
    if (this.initiator && !this.stopped) this.seen.set(m.key, Buffer.from(leafHash(Buffer.from(m.key, 'utf8'), m.record)).toString('latin1'));
    // The decoder notes the sender's answers at the positions it held back (no more: bounded
    // by what it decoded), to send afterwards only what they did not cover.
    if (!this.initiator && this.decodedSent && !this.finished && this.heldSet.size > 0) {
      const keyBytes = Buffer.from(m.key, 'utf8');
      if (this.heldSet.has(keyPosition(keyBytes))) this.received.set(m.key, Buffer.from(leafHash(keyBytes, m.record)).toString('latin1'));
    }
    if (!this.options.writable) return;
    for (const sibling of record.siblings) sibling.value = Uint8Array.from(sibling.value);
    this.store.merge(m.key, record, this).catch((err) => this.outbox.fail(err));
  }

  /** Hands the connection to a Merkle walk, with the live writes queued so far. */
  private startWalk(): void {
    this.stopped = true;
    this.source = undefined;
    this.local = undefined;
    this.decoder = undefined;
    const walk = new MerkleSession(this.store, this.options);
    walk.onWake = () => this.wake();
    this.walk = walk;
    walk.start(this.peer!);
    this.live.handOver(walk); // the walk takes the live writes from here on
    this.wake();
  }






  private wake(): void {
    if (!this.closed) this.onWake?.();
  }
}


