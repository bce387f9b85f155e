import { type ValueEncoding, decode } from '../codec/index.js';
import { errors } from '../errors.js';
import type { PeerInfo, Session, SessionOptions } from '../session/contract.js';
import { gate } from '../session/gate.js';
import { ProgressCount } from '../session/progress-count.js';
import type { SessionSet } from '../session/session-set.js';
import { HASH_BYTES, leafHash } from './hash.js';
import { type CoveredMessage, type EntryMessage, type HashesMessage, type MerkleMessage, merkleMessageCodec } from './messages.js';
import { decodeRecord } from './record.js';
import { runs } from './bucket-runs.js';
import { type LiveEntry, LiveEntries } from './live-entries.js';
import { Outbox, sizeOf } from './outbox.js';
import type { KeyRecord } from './record.js';
import type { MerkleTree } from './tree.js';

/**
 * Bytes of messages handed out per event-loop turn. Past it, `pull()` pauses
 * until the next turn: in one process the peer decodes, checks and hashes
 * what we send inside the same synchronous call chain, so this bounds the
 * longest stall on both sides (checking and merging 16 KiB of entries, about
 * 150, takes a few ms).
 */
const TURN_BYTES = 16 * 1024;
/** Buckets announced in one `covered` message. */
const BUCKETS_PER_COVER = 4096;

/** What a session needs of its store (store.ts). */
export interface MerkleHost {
  readonly id: string;
  readonly depth: number;
  readonly valueEncoding: ValueEncoding<unknown>;
  /** The tree, once the store is open. */
  readonly tree: MerkleTree | undefined;
  /** Every open session, to end them when the store closes. */
  readonly sessions: Set<{ storeClosed(): void }>;
  readonly peers: SessionSet<LiveEntry>;
  ready(): Promise<void>;
  /** Runs a callback on a later event-loop turn. */
  defer(callback: () => void): void;
  /** Resolves once every write and merge queued so far is applied. */
  flushed(): Promise<void>;
  merge(key: string, record: KeyRecord, origin: object | undefined): Promise<string>;
  /** The stored records of runs of buckets, in batches. */
  readRuns(runs: Array<[number, number]>): AsyncGenerator<Array<[Uint8Array, Uint8Array]>>;
}


/**
 * Anti-entropy with one peer, as an I/O-free state machine.
 *
 * The walk: the side with the smaller replica id sends its root (level 0).
 * From then on each side answers a level with the next: for every node that
 * differs it sends its hashes of the node's two children. Levels are
 * pipelined: each incoming chunk is answered at once. The side that
 * receives the bucket level (or finds nothing differing) sends its entries
 * in the differing buckets followed by `covered`; the other side merges
 * them, sends back its entries there that still differ, and `end`.
 *
 * The database is asynchronous while `receive` and `pull` are not: reads
 * and merges run on a promise chain, fill an outgoing queue, and call
 * `onWake`; errors of that work are thrown from the next `pull()`, which
 * destroys the stream with a coded error. Live writes go out as `entry`
 * messages the moment they are in the store, independent of the walk,
 * through the skeleton's bounded live queue (see lib/session), and only
 * when the peer takes our updates.
 */
export class MerkleSession implements Session<MerkleMessage> {
  readonly codec = merkleMessageCodec;
  onWake?: () => void;

  private peer: PeerInfo | undefined;
  /** We send data (entries of the walk and live writes): we are readable and the peer writable. */
  private sendsData = false;
  private readonly live: LiveEntries;
  private ready = false;
  private closed = false;
  private readonly outbox = new Outbox(() => this.wake());
  private done = false;
  private readonly inbox: MerkleMessage[] = [];
  private turnBytes = 0;
  private paused = false;

  // The walk. We receive every other level: the responder 0, 2, 4..., the initiator 1, 3, 5...
  private recvLevel = -2;
  private recvLevelDone = true;
  private lastParent = -1;
  private levelDiffs = 0;
  private sentNextLevel = false;
  private sentAnyHashes = false;
  /** Per level we sent, which nodes we sent hashes of: the peer may only descend into those. */
  private readonly offered = new Map<number, Uint8Array>();
  // The side that found the differing buckets.
  private readonly bucketQueue: number[] = [];
  private bucketsLast = false;
  private producing = false;
  private coveredLastSent = false;
  // The side that answers `covered`.
  private seen = new Map<string, string>();
  private coveredLastReceived = false;
  /** Whether entries are remembered in `seen`: only while we may still have to answer `covered`. */
  private recordSeen = true;
  /** We answered a rateless peer's symbols with `fallback` (rateless-session.ts). */
  private refusedSymbols = false;
  /**
   * Records announced and received. The walk finds what differs as it goes,
   * so each batch of records is announced as it is read, before it is sent:
   * the peer's total grows with the walk, and is complete when it is.
   */
  private readonly progress = new ProgressCount();

  constructor(
    private readonly store: MerkleHost,
    private readonly options: SessionOptions,
  ) {
    this.live = new LiveEntries(options.maxQueued, this.outbox);
  }

  /** Our part of the walk is complete and every message of it has been pulled. */
  get initialSent(): boolean {
    return this.done && !this.outbox.pending;
  }

  takeCatchUpTotal(): number | undefined {
    return this.progress.take();
  }

  get updatesReceived(): number {
    return this.progress.received;
  }

  /** Live writes waiting for this peer. */
  get queued(): number {
    return this.live.length;
  }

  private get depth(): number {
    return this.store.depth;
  }

  start(peer: PeerInfo): void {
    this.peer = peer;
    this.sendsData = gate(this.options, peer).sending;
    const initiator = this.store.id < peer.id;
    this.recvLevel = initiator ? -1 : -2;
    this.store.sessions.add(this);
    if (this.sendsData && this.options.live) this.live.join(this.store.peers, this);
    this.store.ready().then(
      () => {
        if (this.closed) return;
        this.ready = true;
        if (initiator) this.sendLevel(0, [0], true);
        try {
          for (const message of this.inbox.splice(0)) {
            if (this.closed || this.outbox.failure) break;
            this.handle(message);
          }
        } catch (err) {
          this.outbox.fail(err); // thrown from the next pull(), as receive() would have
        }
        this.wake();
      },
      (err) => this.outbox.fail(err),
    );
  }

  receive(message: MerkleMessage): void {
    if (this.closed) return;
    if (!this.ready) {
      // Checked now, applied once the store is open.
      if (message.type === 'entry') this.checkEntry(message);
      this.inbox.push(message);
      return;
    }
    this.handle(message);
  }

  pull(): MerkleMessage | undefined {
    if (this.outbox.failure) throw this.outbox.failure;
    if (!this.outbox.pending) {
      return this.paused ? undefined : this.live.next();
    }
    if (this.paused) return undefined;
    if (this.turnBytes >= TURN_BYTES) {
      this.paused = true;
      this.store.defer(() => {
        this.paused = false;
        this.turnBytes = 0;
        this.wake();
      });
      return undefined;
    }
    const message = this.outbox.shift()!;
    this.turnBytes += sizeOf(message);
    return message;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.sessions.delete(this);
    this.live.close();
    this.outbox.close();
    this.seen.clear();
  }

  /** The store is closing: end this connection with ERR_CLOSED. */
  storeClosed(): void {
    this.outbox.fail(errors.closed('store'));
  }

  /** A record changed in the store (not by our peer alone): send it live. */
  offer(entry: LiveEntry): void {
    if (this.closed) return;
    this.live.offer(entry);
    this.wake();
  }

  // ---- incoming ----

  private handle(message: MerkleMessage): void {
    switch (message.type) {
      case 'hashes':
        return this.onHashes(message);
      case 'entry':
        return this.onEntry(message);
      case 'covered':
        return this.onCovered(message);
      case 'end':
        return this.onEnd();
      case 'symbols':
        // A peer in rateless mode: this session only walks, so say so once and ignore the rest.
        if (!this.refusedSymbols) this.outbox.push({ type: 'fallback' });
        this.refusedSymbols = true;
        return;
      case 'sketch':
        // A rateless peer's difference estimator, sent before it knew we walk: nothing to answer.
        return;
      default:
        throw errors.decode(`unexpected ${message.type} message in a Merkle walk`);
    }
  }

  private onHashes(m: HashesMessage): void {
    const depth = this.depth;
    const tree = this.store.tree!;
    if (m.level > depth) throw errors.decode(`tree message for level ${m.level}, beyond the tree depth ${depth}`);
    const expected = this.recvLevelDone ? this.recvLevel + 2 : this.recvLevel;
    if (m.level !== expected) throw errors.decode(`tree message for level ${m.level}, expected level ${expected}`);
    const width = m.level === 0 ? 1 : 2;
    const count = m.level === 0 ? 1 : m.parents.length;
    if (m.level === 0 && (m.parents.length !== 0 || !m.last)) throw errors.decode('a root message has no parents and is the last of its level');
    if (m.hashes.length !== count * width * HASH_BYTES) {
      throw errors.decode(`tree message carries ${m.hashes.length} hash bytes, expected ${count * width * HASH_BYTES} (${HASH_BYTES}-byte hashes)`);
    }
    if (m.level !== this.recvLevel) {
      this.lastParent = -1;
      this.levelDiffs = 0;
      this.sentNextLevel = false;
    }
    if (m.level > 0) {
      const offered = this.offered.get(m.level - 1);
      const levelWidth = 2 ** (m.level - 1);
      for (const parent of m.parents) {
        if (parent >= levelWidth) throw errors.decode(`tree prefix ${parent} out of range for level ${m.level - 1}`);
        if (parent <= this.lastParent) throw errors.decode('tree prefixes do not ascend across the level');
        if (!offered || !(offered[parent >> 3] & (1 << (parent & 7)))) throw errors.decode(`tree prefix ${parent} of level ${m.level - 1} was never offered`);
        this.lastParent = parent;
      }
    }
    this.recvLevel = m.level;
    this.recvLevelDone = m.last;
    this.offered.delete(m.level - 3);

    // Nodes of this level that differ from ours.
    const differing: number[] = [];
    if (m.level === 0) {
      if (!tree.equals(0, 0, m.hashes, 0)) differing.push(0);
    } else {
      for (let i = 0; i < m.parents.length; i++) {
        for (let c = 0; c < 2; c++) {
          const node = m.parents[i] * 2 + c;
          if (!tree.equals(m.level, node, m.hashes, (i * 2 + c) * HASH_BYTES)) differing.push(node);
        }
      }
    }
    this.levelDiffs += differing.length;

    if (m.level === depth) {
      for (const bucket of differing) this.bucketQueue.push(bucket);
      if (m.last) this.bucketsLast = true;
      this.produce();
    } else if (m.last && this.levelDiffs === 0 && !this.sentNextLevel) {
      // Nothing differs: the walk ends here, with no buckets to exchange.
      this.bucketsLast = true;
      this.produce();
    } else if (differing.length > 0 || m.last) {
      this.sendLevel(m.level + 1, differing, m.last);
      this.sentNextLevel = true;
    }
  }

  /** Sends our hashes of the children of `parents` (nodes of `level - 1`), chunked; `level` 0 sends the root. */
  private sendLevel(level: number, parents: number[], last: boolean): void {
    const tree = this.store.tree!;
    this.sentAnyHashes = true;
    let offered = this.offered.get(level);
    if (!offered) this.offered.set(level, (offered = new Uint8Array(Math.ceil(2 ** level / 8))));
    if (level === 0) {
      offered[0] = 1;
      this.outbox.push({ type: 'hashes', level: 0, parents: [], hashes: Uint8Array.from(tree.root), last: true });
      return;
    }
    const perMessage = Math.max(1, Math.floor((this.options.maxMessageBytes - 32) / (2 * HASH_BYTES + 8)));
    let start = 0;
    do {
      const chunk = parents.slice(start, start + perMessage);
      start += perMessage;
      const hashes = new Uint8Array(chunk.length * 2 * HASH_BYTES);
      chunk.forEach((parent, i) => {
        const child = parent * 2;
        hashes.set(tree.nodes.subarray(tree.offset(level, child), tree.offset(level, child) + 2 * HASH_BYTES), i * 2 * HASH_BYTES);
        offered[child >> 3] |= 1 << (child & 7);
        offered[(child + 1) >> 3] |= 1 << ((child + 1) & 7);
      });
      this.outbox.push({ type: 'hashes', level, parents: chunk, hashes, last: last && start >= parents.length });
    } while (start < parents.length);
  }

  private checkEntry(m: EntryMessage) {
    const record = decodeRecord(m.record, this.options.limits);
    const encoding = this.store.valueEncoding;
    for (const sibling of record.siblings) decode(encoding, sibling.value, this.options.limits);
    return record;
  }

  private onEntry(m: EntryMessage): void {
    const record = this.checkEntry(m);
    this.progress.received++;
    if (this.recordSeen) {
      // Remember what the peer holds, to answer `covered` with only what differs.
      // A record that decoded and checked has exactly one encoding, so its bytes hash as ours would.
      this.seen.set(m.key, Buffer.from(leafHash(Buffer.from(m.key, 'utf8'), m.record)).toString('latin1'));
    }
    if (!this.options.writable) return;
    // Copy the values out of the frame before it is released.
    for (const sibling of record.siblings) sibling.value = Uint8Array.from(sibling.value);
    this.store.merge(m.key, record, this).catch((err) => this.outbox.fail(err));
  }

  private onCovered(m: CoveredMessage): void {
    if (!this.sentAnyHashes || this.coveredLastReceived) throw errors.decode('unexpected covered message');
    const offered = this.offered.get(this.depth);
    for (const bucket of m.buckets) {
      if (bucket >= 2 ** this.depth) throw errors.decode(`bucket ${bucket} out of range for depth ${this.depth}`);
      if (!offered || !(offered[bucket >> 3] & (1 << (bucket & 7)))) throw errors.decode(`bucket ${bucket} was never offered`);
    }
    const seen = this.seen;
    this.seen = new Map();
    if (m.last) {
      this.coveredLastReceived = true;
      this.recordSeen = false;
    }
    const buckets = m.buckets;
    this.outbox.enqueue(async () => {
      await this.store.flushed(); // the peer's entries are merged, so what still differs is what we hold beyond them
      if (this.sendsData) {
        for await (const batch of this.store.readRuns([...runs(buckets)])) {
          if (this.closed) return;
          let count = 0;
          for (const [storedKey, record] of batch) {
            const key = Buffer.from(storedKey.subarray(4)).toString('utf8');
            const leaf = Buffer.from(leafHash(storedKey.subarray(4), record)).toString('latin1');
            if (seen.get(key) === leaf) continue;
            this.outbox.push({ type: 'entry', key, record });
            count++;
          }
          this.progress.announce(count);
          await this.outbox.space();
        }
      }
      if (m.last) {
        this.outbox.push({ type: 'end' });
        this.done = true;
        this.wake();
      }
    });
  }

  private onEnd(): void {
    if (!this.coveredLastSent || this.done) throw errors.decode('unexpected end message');
    this.outbox.enqueue(async () => {
      await this.store.flushed(); // everything the peer sent is applied before we call ourselves synced
      this.done = true;
      this.wake();
    });
  }

  // ---- outgoing entries of the differing buckets ----

  private produce(): void {
    // We found the differing buckets, so the peer answers, not us: stop remembering its entries.
    this.recordSeen = false;
    this.seen.clear();
    if (this.producing) return;
    this.producing = true;
    this.outbox.enqueue(async () => {
      try {
        while (!this.closed && !this.coveredLastSent) {
          if (this.bucketQueue.length === 0 && !this.bucketsLast) return; // more buckets to come
          const buckets = this.bucketQueue.splice(0, BUCKETS_PER_COVER);
          if (this.sendsData) {
            for await (const batch of this.store.readRuns([...runs(buckets)])) {
              if (this.closed) return;
              for (const [storedKey, record] of batch) {
                this.outbox.push({ type: 'entry', key: Buffer.from(storedKey.subarray(4)).toString('utf8'), record });
              }
              this.progress.announce(batch.length);
              await this.outbox.space();
            }
          }
          const last = this.bucketsLast && this.bucketQueue.length === 0;
          this.outbox.push({ type: 'covered', buckets, last });
          if (last) this.coveredLastSent = true;
        }
      } finally {
        this.producing = false;
      }
    });
  }

  // ---- plumbing ----





  private wake(): void {
    if (!this.closed) this.onWake?.();
  }
}


