import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join as joinPath } from 'node:path';
import type { AbstractLevel } from 'abstract-level';
import { type ValueEncoding, decode, encode, json } from '../codec/index.js';
import { pathDb } from '../path-db.js';
import { ForwardingLevel } from '../storage/forwarding-level.js';
import { batchByTurn } from '../storage/turn-batching.js';
import { encodeContext } from '../merkle/record.js';
import { type Resolver, lastWriterWins } from '../merkle/resolve.js';
import { Coordinator } from './coordinator.js';
import { gossipMembership } from './default-membership.js';
import { Healing } from './healing.js';
import { HintStore } from './hints.js';
import type { Membership } from './membership.js';
import type { WireRequest } from './messages.js';
import { errors } from '../errors.js';
import type { NodeCore, VineStats } from './node-core.js';
import { DEFAULTS, type RequestOptions, type VineOptions } from './options.js';
import { Partitions, ZERO_ROOT } from './partitions.js';
import { checkQuorum } from './quorum.js';
import { ReplicaSide, checkKey } from './replica-side.js';
import { HashRing } from './ring.js';
import { type Address, type RequestBody, VineServer, type WireOptions } from './rpc.js';
import { type VineVersions, Watching, distinctValues, versionsOf } from './watching.js';

export type { DataEvent, VineVersions } from './watching.js';

type AnyLevel = AbstractLevel<any, any, any>;

/**
 * One node of a vine cluster: a Dynamo-style key/value store. It keeps
 * its share of the data in one MerkleStore per partition (`Partitions`),
 * answers its peers' requests (`ReplicaSide`), coordinates quorum reads
 * and writes for any key (`Coordinator`), tells watchers across the
 * cluster of changes (`Watching`), hands hints back to owners that return
 * and runs anti-entropy with the other replicas of each partition it holds
 * (`Healing`). This class wires them together and holds what they share.
 *
 * Events: `'data'` (key, value, event) for watched keys; `'ready'`;
 * `'peerError'` (err) for a peer's bad input (the node carries on);
 * `'healed'` ({ partition, peer }) after a sync that found differences.
 */
export class VineNode<V = unknown> extends EventEmitter implements NodeCore<V> {
  readonly options: VineOptions<V>;
  readonly valueEncoding: ValueEncoding<V>;
  membership: Membership | undefined;
  id = '';
  address: Address | undefined;
  /** Counters for reports and tests. */
  readonly stats: VineStats = { syncs: 0, syncBytes: 0, repairs: 0, handedOff: 0, handoffBytes: 0, hinted: 0, dropped: 0 };
  /** @internal The parts' shared state (NodeCore): the wire options, the ring, storage, hints. */
  readonly wire: WireOptions;
  /** @internal */
  ring = new HashRing([]);
  /** @internal Set by `start()`. */
  partitions!: Partitions<V>;
  /** @internal Set by `start()`. */
  hints!: HintStore;

  /** The node's database: its own (`dataDir`) or the caller's seen through a ForwardingLevel; batched by turn either way. */
  private db: AnyLevel | undefined;
  private server: VineServer | undefined;
  private readonly resolver: Resolver<V> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly watching: Watching<V>;
  private readonly coordinator: Coordinator<V>;
  private readonly replica: ReplicaSide<V>;
  private readonly healing: Healing<V>;

  constructor(options: VineOptions<V> = {}) {
    super();
    this.options = options;
    checkQuorum(this.n, this.r, this.w);
    this.valueEncoding = options.valueEncoding ?? (json as ValueEncoding<any>);
    this.resolver = options.resolve === 'lww' ? lastWriterWins : options.resolve;
    this.wire = { cluster: options.cluster ?? DEFAULTS.cluster, maxFrameBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes, helloTimeoutMs: DEFAULTS.helloTimeoutMs };
    this.watching = new Watching(this, this.resolver);
    this.coordinator = new Coordinator(this, this.watching, (request, from, checked) => this.replica.handle(request, from, checked));
    this.replica = new ReplicaSide(this, this.watching, this.coordinator, this.resolver);
    this.healing = new Healing(this);
  }

  get n(): number {
    return this.options.n ?? DEFAULTS.n;
  }
  get r(): number {
    return this.options.r ?? DEFAULTS.r;
  }
  get w(): number {
    return this.options.w ?? DEFAULTS.w;
  }
  get timeout(): number {
    return this.options.timeout ?? DEFAULTS.timeout;
  }
  get maxValueBytes(): number {
    return this.options.maxValueBytes ?? DEFAULTS.maxValueBytes;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens storage, listens, and joins through `seeds`. */
  async start(seeds: Array<{ host: string; port: number }> = []): Promise<void> {
    const host = this.options.host ?? DEFAULTS.host;
    const port = this.options.port ?? 0;
    // Its many partition stores share one database: the reads and writes of one turn go in one round trip each.
    // A caller's database gets that through a forwarding database of the node's own, so the caller's object
    // (which other code may use) is not changed; closing the node closes only that one.
    this.db = batchByTurn(this.options.db ? new ForwardingLevel(this.options.db) : await pathDb(this.options.dataDir ?? joinPath(process.cwd(), `vine-${port}`), { keyEncoding: 'view', valueEncoding: 'view' }));
    await this.db.open();
    const meta = this.db.sublevel<string, string>('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    let id = await meta.get('id');
    if (!id) {
      id = randomBytes(8).toString('hex');
      await meta.put('id', id);
    }
    this.id = id;
    this.partitions = new Partitions<V>({
      db: this.db,
      meta,
      id,
      depth: this.options.depth ?? DEFAULTS.depth,
      valueEncoding: this.valueEncoding,
      onChange: (event) => {
        if (this.watching.watchesHere(event.key)) this.watching.deliver(event.key, distinctValues(event.values));
      },
    });
    await this.partitions.load();
    if (this.watching.watchesAny) this.partitions.listen();
    this.hints = new HintStore(this.db);
    await this.hints.load();
    this.server = new VineServer(id, this.wire, { handle: (request, from) => this.handle(request, from), sync: (partition, socket) => this.healing.acceptSync(partition, socket) });
    this.server.on('peerError', (err) => this.emit('peerError', err));
    this.address = await this.server.listen(port, host);
    const factory = this.options.membership ?? gossipMembership({ cluster: this.wire.cluster, intervalMs: this.options.gossip?.intervalMs, removeAfterMs: this.options.gossip?.removeAfterMs });
    const membership = factory({ id, ...this.address }, seeds);
    this.membership = membership;
    const rebuild = () => (this.ring = new HashRing(membership.members().map((m) => m.id), this.options.vnodes));
    membership.on('join', () => {
      rebuild();
      this.healing.kick();
    });
    membership.on('recover', () => this.healing.kick());
    membership.on('remove', (gone: string) => {
      rebuild();
      this.watching.forget(gone);
      void this.hints?.forget(gone);
      this.coordinator.disconnect(gone);
      this.healing.kick();
    });
    await membership.start();
    rebuild();
    this.watching.publish();
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.handoffMs ?? DEFAULTS.handoffMs, () => void this.handoff());
    every(this.options.antiEntropyMs ?? DEFAULTS.antiEntropyMs, () => void this.antiEntropy());
    this.emit('ready');
  }

  /** Stops serving, leaves the membership, closes storage. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.watching.stop();
    this.coordinator.close();
    await this.membership?.stop();
    await this.server?.close();
    await this.partitions?.close();
    await this.db?.close();
  }

  /**
   * Leaves the cluster for good: first syncs every partition it holds with
   * the members that replicate it once this node is gone, so N copies
   * remain without waiting for its removal, then stops.
   */
  async leave(): Promise<void> {
    if (this.closed || !this.membership) return this.stop();
    const others = this.membership.members().filter((m) => m.id !== this.id && this.isLive(m.id));
    const after = new HashRing(others.map((m) => m.id), this.options.vnodes);
    // Announced first: the others take it off the ring at once, so new writes go to the new replicas while it hands its data over.
    const announced = this.membership.leave?.();
    for (const partition of this.partitions.stored) {
      for (const peer of after.preferenceList(partition, this.n)) {
        try {
          await this.syncPartition(peer, partition);
        } catch {
          // that member will catch up by anti-entropy with the other replicas
        }
      }
    }
    await announced;
    await this.stop();
  }

  /** Cuts every connection this node has, in and out, as a network fault would; they reconnect on the next request. */
  cutConnections(): void {
    this.server?.cutConnections();
    this.coordinator.disconnect();
  }

  // ---- the promise API ----

  async put(key: string, value: V, options: RequestOptions = {}): Promise<string> {
    checkKey(key);
    const bytes = encode(this.valueEncoding, value);
    // The API's door: checked once here, as a peer's bytes are at the decoder (a value over the size limit is refused by the coordinator instead).
    if (bytes.length <= this.maxValueBytes) decode(this.valueEncoding, bytes);
    const record = await this.coordinator.coordinateWrite(key, bytes, options);
    return encodeContext(record.context);
  }

  async del(key: string, options: RequestOptions = {}): Promise<string> {
    checkKey(key);
    const record = await this.coordinator.coordinateWrite(key, undefined, options);
    return encodeContext(record.context);
  }

  async get(key: string, options: RequestOptions = {}): Promise<VineVersions<V>> {
    checkKey(key);
    return versionsOf(key, await this.coordinator.coordinateRead(key, options), this.valueEncoding, this.resolver);
  }

  /** Root hash of this node's copy of a partition (hex, zeros when it holds nothing). */
  async rootOf(partition: number): Promise<string> {
    return Buffer.from(this.partitions ? await this.partitions.rootBytes(partition) : ZERO_ROOT).toString('hex');
  }

  /** The members holding a partition: its preference list over the current membership. */
  replicasOf(partition: number, n = this.n): string[] {
    return this.ring.preferenceList(partition, n);
  }

  /** Hints held, per owner. */
  hintBacklog(): Map<string, number> {
    return this.hints?.backlog() ?? new Map();
  }

  /** Watches `key` (or every key with `'*'`) across the cluster; `'data'` events follow. */
  watch(key: string): void {
    this.watching.watch(key);
    this.partitions?.listen();
  }

  /** Reads `key` (R = 1) and delivers its current value to this node's watchers. */
  async refresh(key: string): Promise<void> {
    const versions = await this.get(key, { r: 1 });
    this.watching.deliver(key, versions.values);
  }

  // ---- what the parts share (NodeCore) ----

  /** @internal */
  isLive = (id: string): boolean => id === this.id || (this.membership?.isLive(id) ?? false);

  /** @internal Sends a request to a member; this node's own requests are answered in place. */
  call(node: string, body: RequestBody, timeout: number): Promise<Uint8Array> {
    return this.coordinator.call(node, body, timeout);
  }

  /** Answers one request from a peer (or from this node as coordinator). Throws a coded error to refuse it; nothing is stored then. */
  handle(request: WireRequest, from: string): Promise<Uint8Array> {
    if (request.type === 'members') return this.closed ? Promise.reject(errors.closed('the vine node')) : Promise.resolve(this.coordinator.membersReply());
    return this.replica.handle(request, from);
  }

  // ---- healing ----

  /** Hands hints back to owners that are live again; a hint is dropped once the owner has it durably. */
  handoff(): Promise<void> {
    return this.healing.handoff();
  }

  /** One anti-entropy round with every live peer (see `Healing.antiEntropy`). */
  antiEntropy(): Promise<void> {
    return this.healing.antiEntropy();
  }

  /** A tree walk of one partition with one peer, over its own connection. */
  syncPartition(peer: string, partition: number): Promise<void> {
    return this.healing.syncPartition(peer, partition);
  }
}
