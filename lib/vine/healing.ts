import type { Socket } from 'node:net';
import pump from 'pump';
import { errors } from '../errors.js';
import type { MerkleStore } from '../merkle/store.js';
import type { Hint } from './hints.js';
import { VINE_PROTOCOL_VERSION } from './messages.js';
import type { NodeCore } from './node-core.js';
import { DEFAULTS } from './options.js';
import { ZERO_ROOT } from './partitions.js';
import { PARTITIONS } from './ring.js';
import { dial } from './rpc.js';

/** Hints handed back per owner per round. */
const HANDOFF_BATCH = 256;
/** Partition syncs one anti-entropy round runs at once. */
const SYNC_LANES = 2;
/**
 * Differing partitions that are being written to, synced per anti-entropy
 * round (of all peers). Their roots differ mostly by writes still on their
 * way to the other replicas; walking them every round cost a quarter to a
 * third of the cluster's CPU under a steady stream of writes. They take
 * turns (least recently synced first, the peers in turn), and every one is
 * synced in the first round after it goes quiet.
 */
const BUSY_SYNCS = 1;

/**
 * How a node heals: hinted handoff (hints go back to owners that are live
 * again), anti-entropy (MerkleStore tree walks with the other replicas of
 * each partition whose roots differ), and dropping the partitions it no
 * longer replicates once their replicas hold everything it has.
 */
export class Healing<V> {
  private syncing = false;
  private handingOff = false;
  /** When each partition was last synced by anti-entropy: see BUSY_SYNCS. */
  private readonly lastSynced = new Map<number, number>();
  /** Turns the peer anti-entropy starts a round with, so every peer's busy partitions get their turn. */
  private peerTurn = 0;

  constructor(private readonly node: NodeCore<V>) {}

  /** Runs a handoff and an anti-entropy round soon (after a membership change). */
  kick(): void {
    setTimeout(() => {
      void this.handoff();
      void this.antiEntropy();
    }, 50).unref();
  }

  /** Hands hints back to owners that are live again; a hint is dropped once the owner has it durably. */
  async handoff(): Promise<void> {
    if (this.handingOff || this.node.isClosed || !this.node.hints) return;
    this.handingOff = true;
    try {
      for (const owner of this.node.hints.backlog().keys()) {
        // Batch after batch while the owner takes them; a batch that hands nothing back ends the round for that owner.
        let progress = true;
        while (progress && this.node.isLive(owner) && !this.node.isClosed) {
          const batch = await this.node.hints.take(owner, HANDOFF_BATCH);
          const before = this.node.stats.handedOff;
          await Promise.all(batch.map((hint) => this.handBack(owner, hint)));
          progress = batch.length === HANDOFF_BATCH && this.node.stats.handedOff > before;
        }
      }
    } finally {
      this.handingOff = false;
    }
  }

  private async handBack(owner: string, hint: Hint): Promise<void> {
    try {
      await this.node.call(owner, { type: 'merge', partition: hint.partition, key: hint.key, record: hint.record, hint: undefined }, this.node.timeout);
      this.node.stats.handoffBytes += hint.record.length + Buffer.byteLength(hint.key);
      if (await this.node.hints.remove(hint)) this.node.stats.handedOff++;
    } catch {
      // the owner is not reachable after all: the hint stays for the next round
    }
  }


  /**
   * One anti-entropy round: with every live peer, compare the roots of the
   * partitions both replicate, and run a MerkleStore tree walk on each that
   * differs. Both sides end with the union, so N replicas converge.
   */
  async antiEntropy(): Promise<void> {
    if (this.syncing || this.node.isClosed || !this.node.membership) return;
    this.syncing = true;
    try {
      const shared = new Map<string, number[]>();
      for (let p = 0; p < PARTITIONS; p++) {
        const replicas = this.node.ring.preferenceList(p, this.node.n);
        if (!replicas.includes(this.node.id)) continue;
        for (const peer of replicas) if (peer !== this.node.id && this.node.isLive(peer)) shared.set(peer, [...(shared.get(peer) ?? []), p]);
      }
      const peers = [...shared];
      const start = this.peerTurn++ % Math.max(1, peers.length);
      let busyBudget = BUSY_SYNCS;
      for (const [peer, partitions] of [...peers.slice(start), ...peers.slice(0, start)]) {
        if (this.node.isClosed) return;
        let theirs: Uint8Array;
        try {
          theirs = await this.node.call(peer, { type: 'roots', partitions }, this.node.timeout);
        } catch {
          continue;
        }
        if (theirs.length !== partitions.length * 16) continue;
        const differing: number[] = [];
        const busy: number[] = [];
        const since = Date.now() - (this.node.options.antiEntropyMs ?? DEFAULTS.antiEntropyMs);
        for (let i = 0; i < partitions.length; i++) {
          const ours = Buffer.from(await this.node.partitions.rootBytes(partitions[i]));
          const their = Buffer.from(theirs.subarray(i * 16, i * 16 + 16));
          if (ours.equals(their)) continue;
          // An empty side is a real difference (a member that joined, or lost its data): synced whatever the writes.
          const written = (this.node.partitions.lastChange.get(partitions[i]) ?? 0) > since;
          if (written && !ours.equals(ZERO_ROOT) && !their.equals(ZERO_ROOT)) busy.push(partitions[i]);
          else differing.push(partitions[i]);
        }
        busy.sort((a, b) => (this.lastSynced.get(a) ?? 0) - (this.lastSynced.get(b) ?? 0));
        const turn = busy.slice(0, busyBudget);
        busyBudget -= turn.length;
        const queue = [...differing, ...turn];
        await Promise.all(
          Array.from({ length: SYNC_LANES }, async () => {
            for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
              try {
                this.lastSynced.set(p, Date.now());
                await this.syncPartition(peer, p);
                this.node.emit('healed', { partition: p, peer });
              } catch {
                // a failed sync is retried next round
              }
            }
          }),
        );
      }
      await this.dropUnowned();
    } finally {
      this.syncing = false;
    }
  }

  /**
   * Drops the partitions this node holds but no longer replicates (data
   * moved to a member that joined), once each of their N replicas is live
   * and holds everything it has: it stops taking requests for the
   * partition, syncs it with every replica, and drops it only if each then
   * has the same root (the same contents). So the last copies are never
   * dropped; a replica down or still changing means another try next round.
   */
  private async dropUnowned(): Promise<void> {
    for (const partition of [...this.node.partitions.stored]) {
      if (this.node.isClosed) return;
      const owners = this.node.ring.preferenceList(partition, this.node.n);
      if (owners.includes(this.node.id) || owners.length < this.node.n || !owners.every((id) => this.node.isLive(id))) continue;
      const store = await this.node.partitions.store(partition);
      this.node.partitions.retiring.add(partition);
      try {
        await store.flushed();
        for (const owner of owners) await this.syncPartition(owner, partition);
        const ours = Buffer.from(store.tree!.root);
        let held = true;
        for (const owner of owners) {
          const theirs = await this.node.call(owner, { type: 'roots', partitions: [partition] }, this.node.timeout);
          if (!ours.equals(Buffer.from(theirs))) held = false;
        }
        const still = this.node.ring.preferenceList(partition, this.node.n);
        if (held && !still.includes(this.node.id) && still.every((id) => owners.includes(id))) await this.dropPartition(partition, ours);
      } catch {
        // a replica out of reach: the partition stays until a later round
      } finally {
        this.node.partitions.retiring.delete(partition);
      }
    }
  }

  /** Drops a partition's data, unless its root moved from `expected` (a write that was already under way when the hand-over began). */
  private async dropPartition(partition: number, expected: Buffer): Promise<void> {
    if (await this.node.partitions.drop(partition, expected)) this.node.stats.dropped++;
  }

  /** A tree walk of one partition with one peer, over its own connection. */
  async syncPartition(peer: string, partition: number): Promise<void> {
    const member = this.node.membership?.members().find((m) => m.id === peer);
    if (!member) throw errors.unavailable(`sync with unknown node ${peer}`, 1, 0, 0);
    const store = await this.node.partitions.store(partition);
    const socket = await dial({ host: member.host, port: member.port }, { type: 'hello', version: VINE_PROTOCOL_VERSION, cluster: this.node.wire.cluster, node: this.node.id, purpose: 'sync', partition }, this.node.wire);
    this.node.stats.syncs++;
    await this.pipeSync(store, socket);
  }

  acceptSync(partition: number, socket: Socket): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= PARTITIONS || this.node.partitions.retiring.has(partition)) {
      socket.destroy();
      return;
    }
    this.node.partitions.store(partition).then(
      (store) => this.pipeSync(store, socket).catch(() => undefined),
      () => socket.destroy(),
    );
  }

  private pipeSync(store: MerkleStore<V>, socket: Socket): Promise<void> {
    const stream = store.createStream({ live: false, cluster: this.node.wire.cluster, maxFrameBytes: this.node.wire.maxFrameBytes });
    socket.on('data', (chunk: Buffer) => (this.node.stats.syncBytes += chunk.length));
    return new Promise((resolve, reject) => {
      pump(socket, stream, socket, (err) => (err ? reject(err) : resolve()));
    });
  }
}
