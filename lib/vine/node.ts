import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { join as joinPath } from 'node:path';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import pump from 'pump';
import { type ValueEncoding, decode, encode, json } from '../codec/index.js';
import { errors } from '../errors.js';
import { pathDb } from '../path-db.js';
import { batchByTurn } from '../storage/turn-batching.js';
import { MerkleStore } from '../merkle/store.js';
import type { ChangeEvent } from '../merkle/store-options.js';
import { type KeyRecord, EMPTY_RECORD, decodeContext, decodeRecord, encodeContext, encodeRecord } from '../merkle/record.js';
import { type Resolver, lastWriterWins } from '../merkle/resolve.js';
import { backoffDelay } from '../transport/backoff.js';
import { gossipMembership } from './default-membership.js';
import { type Hint, HintStore } from './hints.js';
import type { Member, Membership } from './membership.js';
import { VINE_PROTOCOL_VERSION, type VineRequest } from './messages.js';
import { DEFAULTS, type RequestOptions, type VineOptions } from './options.js';
import { Coordination, type Step, checkQuorum } from './quorum.js';
import { planRepair } from './read-repair.js';
import { HashRing, PARTITIONS, type Target, partitionOf, partitionPoint, planTargets } from './ring.js';
import { type Address, type RequestBody, VineClient, VineServer, type WireOptions, dial } from './rpc.js';

type AnyLevel = AbstractLevel<any, any, any>;

const EMPTY = new Uint8Array(0);
const ZERO_ROOT = Buffer.alloc(16);
/** Most keys a node lists in its published watch set; past it, it asks for every key and filters itself. */
const MAX_WATCHED_KEYS = 256;
/** Hints handed back per owner per round. */
const HANDOFF_BATCH = 256;
/** Longest request timeout accepted, ms. */
const MAX_TIMEOUT_MS = 60_000;
/** Partition syncs one anti-entropy round runs at once. */
const SYNC_LANES = 2;
/** Times a notify to a watcher is tried before it is given up. */
const NOTIFY_ATTEMPTS = 5;

/** What `get()` returns: as `MerkleStore.get`. */
export interface VineVersions<V> {
  key: string;
  values: V[];
  value: V | undefined;
  conflict: boolean;
  context: string;
}

/** What `'data'` listeners receive beside the value. */
export interface DataEvent<V> {
  key: string;
  values: V[];
  conflict: boolean;
}

/**
 * One node of a vine cluster: a Dynamo-style key/value store. It keeps
 * its share of the data in one MerkleStore per partition, answers its
 * peers' requests, coordinates quorum reads and writes for any key, hands
 * hints back to owners that return, and runs anti-entropy with the other
 * replicas of each partition it holds.
 *
 * Events: `'data'` (key, value, event) for watched keys; `'ready'`;
 * `'peerError'` (err) for a peer's bad input (the node carries on);
 * `'healed'` ({ partition, peer }) after a sync that found differences.
 */
export class VineNode<V = unknown> extends EventEmitter {
  readonly options: VineOptions<V>;
  readonly valueEncoding: ValueEncoding<V>;
  membership: Membership | undefined;
  id = '';
  address: Address | undefined;
  /** Counters for reports and tests. */
  readonly stats = { syncs: 0, syncBytes: 0, repairs: 0, handedOff: 0, handoffBytes: 0, hinted: 0, dropped: 0 };

  private db: AnyLevel | undefined;
  private ownsDb = false;
  private server: VineServer | undefined;
  private hints: HintStore | undefined;
  private readonly stores = new Map<number, Promise<MerkleStore<V>>>();
  /** Partitions this node has stored data in and not dropped (kept in meta, so a restart knows without opening them). */
  private readonly stored = new Set<number>();
  /** Partitions it no longer replicates and is handing over before dropping: it takes no requests for them meanwhile. */
  private readonly retiring = new Set<number>();
  private meta: AbstractSublevel<any, any, string, string> | undefined;
  private readonly clients = new Map<string, VineClient>();
  private ring = new HashRing([]);
  private readonly resolver: Resolver<V> | undefined;
  private readonly wire: WireOptions;
  private timers: NodeJS.Timeout[] = [];
  /** Retries waiting to run (notifies), cleared on stop. */
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;
  private syncing = false;
  private handingOff = false;
  /** Local watchers: the keys, and whether every key is watched. */
  private readonly watched = new Set<string>();
  private watchAll = false;
  /** Each member's published watch set, parsed, with the text it was parsed from. */
  private readonly peerWatches = new Map<string, { state: string; keys: Set<string> }>();
  /** What was last delivered per watched key, so a change seen twice (notify and replica) fires once. */
  private readonly delivered = new Map<string, string>();

  constructor(options: VineOptions<V> = {}) {
    super();
    this.options = options;
    checkQuorum(this.n, this.r, this.w);
    this.valueEncoding = options.valueEncoding ?? (json as ValueEncoding<any>);
    this.resolver = options.resolve === 'lww' ? lastWriterWins : options.resolve;
    this.wire = { cluster: options.cluster ?? DEFAULTS.cluster, maxFrameBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes, helloTimeoutMs: DEFAULTS.helloTimeoutMs };
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

  /** Opens storage, listens, and joins through `seeds`. */
  async start(seeds: Array<{ host: string; port: number }> = []): Promise<void> {
    const host = this.options.host ?? DEFAULTS.host;
    const port = this.options.port ?? 0;
    if (this.options.db) this.db = this.options.db;
    else {
      // Its many partition stores share one database: the reads and writes of one turn go in one round trip each.
      this.db = batchByTurn(await pathDb(this.options.dataDir ?? joinPath(process.cwd(), `vine-${port}`), { keyEncoding: 'view', valueEncoding: 'view' }));
      this.ownsDb = true;
    }
    await this.db.open();
    const meta = this.db.sublevel<string, string>('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    this.meta = meta;
    for await (const key of meta.keys({ gte: 'partition/', lt: 'partition0' })) this.stored.add(Number(key.slice('partition/'.length)));
    let id = await meta.get('id');
    if (!id) {
      id = randomBytes(8).toString('hex');
      await meta.put('id', id);
    }
    this.id = id;
    this.hints = new HintStore(this.db);
    await this.hints.load();
    this.server = new VineServer(id, this.wire, { handle: (request, from) => this.handle(request, from), sync: (partition, socket) => this.acceptSync(partition, socket) });
    this.server.on('peerError', (err) => this.emit('peerError', err));
    this.address = await this.server.listen(port, host);
    const factory = this.options.membership ?? gossipMembership({ cluster: this.wire.cluster, intervalMs: this.options.gossip?.intervalMs, removeAfterMs: this.options.gossip?.removeAfterMs });
    const membership = factory({ id, ...this.address }, seeds);
    this.membership = membership;
    const rebuild = () => (this.ring = new HashRing(membership.members().map((m) => m.id), this.options.vnodes));
    membership.on('join', () => {
      rebuild();
      this.kick();
    });
    membership.on('recover', () => this.kick());
    membership.on('remove', (gone: string) => {
      rebuild();
      this.peerWatches.delete(gone);
      void this.hints?.forget(gone);
      this.clients.get(gone)?.close();
      this.clients.delete(gone);
      this.kick();
    });
    await membership.start();
    rebuild();
    this.publishWatches();
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
    for (const timer of this.pending) clearTimeout(timer);
    for (const client of this.clients.values()) client.close();
    await this.membership?.stop();
    await this.server?.close();
    for (const store of this.stores.values()) await (await store).close();
    if (this.ownsDb) await this.db?.close();
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
    for (const partition of this.stored) {
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
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  // ---- the promise API ----

  async put(key: string, value: V, options: RequestOptions = {}): Promise<string> {
    checkKey(key);
    const bytes = encode(this.valueEncoding, value);
    const record = await this.coordinateWrite(key, bytes, options);
    return encodeContext(record.context);
  }

  async del(key: string, options: RequestOptions = {}): Promise<string> {
    checkKey(key);
    const record = await this.coordinateWrite(key, undefined, options);
    return encodeContext(record.context);
  }

  async get(key: string, options: RequestOptions = {}): Promise<VineVersions<V>> {
    checkKey(key);
    return this.versions(key, await this.coordinateRead(key, options));
  }

  /** Root hash of this node's copy of a partition (hex, zeros when it holds nothing). */
  async rootOf(partition: number): Promise<string> {
    return Buffer.from(await this.rootBytes(partition)).toString('hex');
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
    if (key === '*') this.watchAll = true;
    else this.watched.add(key);
    this.publishWatches();
  }

  /** Reads `key` (R = 1) and delivers its current value to this node's watchers. */
  async refresh(key: string): Promise<void> {
    const versions = await this.get(key, { r: 1 });
    this.deliver(key, versions.values);
  }

  // ---- coordination ----

  private quorumOf(options: RequestOptions): { n: number; r: number; w: number; timeout: number } {
    const q = { n: options.n ?? this.n, r: options.r ?? this.r, w: options.w ?? this.w, timeout: options.timeout ?? this.timeout };
    checkQuorum(q.n, q.r, q.w);
    // A request's state lives until its timeout: a peer may not ask us to hold it for long.
    if (!(q.timeout > 0 && q.timeout <= MAX_TIMEOUT_MS)) throw errors.invalidArgument(`timeout must be within 1..${MAX_TIMEOUT_MS} ms`);
    return q;
  }

  private isLive = (id: string): boolean => id === this.id || (this.membership?.isLive(id) ?? false);

  /**
   * A write: one replica (this node if it is one) makes the new version and
   * answers with the key's record; the record then goes to the other
   * replicas (stand-ins keep it as a hint). Settles with W durable copies.
   */
  private coordinateWrite(key: string, value: Uint8Array | undefined, options: RequestOptions): Promise<KeyRecord> {
    if (this.closed) return Promise.reject(errors.closed('the vine node'));
    const { n, w, timeout } = this.quorumOf(options);
    if (value && value.length > this.maxValueBytes) return Promise.reject(errors.limit('value size', value.length, this.maxValueBytes));
    if (options.context !== undefined) decodeContext(options.context);
    const partition = partitionOf(key);
    const walk = this.ring.walk(partitionPoint(partition));
    const targets = planTargets(walk, n, this.isLive);
    const used = new Set(targets.map((t) => t.node));
    const spares = walk.slice(n).filter((id) => this.isLive(id) && !used.has(id));
    const coordination = new Coordination<true>({ operation: 'write', need: w, targets, spares });
    return new Promise<KeyRecord>((resolve, reject) => {
      let record: Uint8Array | undefined;
      let done = false;
      const timer = setTimeout(() => apply(coordination.expire()), timeout);
      const apply = (step: Step<true>) => {
        if (record) for (const target of step.send) sendMerge(target);
        if (step.settled && !done) {
          done = true;
          clearTimeout(timer);
          if (step.settled.ok) {
            const decoded = decodeRecord(record!);
            resolve(decoded);
            this.notifyWatchers(key, record!);
          } else reject(step.settled.error);
        }
      };
      const sendMerge = (target: Target) => {
        if (target.hint) this.stats.hinted++;
        this.call(target.node, { type: 'merge', partition, key, record: record!, hint: target.hint }, timeout).then(
          () => apply(coordination.answer(target.node, true)),
          (err) => apply(coordination.fail(target.node, err)),
        );
      };
      const first = coordination.start();
      if (first.settled) return apply(first);
      const owners = first.send.filter((t) => !t.hint).sort((a, b) => Number(b.node === this.id) - Number(a.node === this.id));
      void (async () => {
        for (const origin of owners) {
          try {
            const made = await this.call(origin.node, { type: 'write', partition, key, value, context: options.context }, timeout);
            if (done) return;
            record = made;
            const step = coordination.answer(origin.node, true);
            for (const target of coordination.pendingTargets()) sendMerge(target);
            return apply({ send: [], settled: step.settled });
          } catch (err) {
            if (done) return;
            const step = coordination.fail(origin.node, err);
            if (step.settled) return apply(step);
          }
        }
        apply(coordination.expire());
      })();
    });
  }

  /** A read: ask the live owners, settle with R answers merged, then repair the replicas that were behind. */
  private coordinateRead(key: string, options: RequestOptions): Promise<KeyRecord> {
    if (this.closed) return Promise.reject(errors.closed('the vine node'));
    const { n, r, timeout } = this.quorumOf(options);
    const partition = partitionOf(key);
    const owners = this.ring.walk(partitionPoint(partition), n);
    const targets = owners.filter(this.isLive).map((node) => ({ node }));
    const coordination = new Coordination<KeyRecord>({ operation: 'read', need: r, targets });
    return new Promise<KeyRecord>((resolve, reject) => {
      let done = false;
      let repaired = false;
      const timer = setTimeout(() => {
        apply(coordination.expire());
        repair();
      }, timeout);
      const repair = () => {
        if (repaired || !done) return;
        repaired = true;
        clearTimeout(timer);
        const plan = planRepair(coordination.answers);
        if (plan.stale.length === 0) return;
        const bytes = encodeRecord(plan.merged);
        for (const node of plan.stale) {
          this.stats.repairs++;
          this.call(node, { type: 'merge', partition, key, record: bytes, hint: undefined }, timeout).catch(() => undefined);
        }
      };
      const apply = (step: Step<KeyRecord>) => {
        if (step.settled && !done) {
          done = true;
          if (step.settled.ok) resolve(planRepair(step.settled.answers).merged);
          else reject(step.settled.error);
        }
        if (done && coordination.outstanding === 0) repair();
      };
      const first = coordination.start();
      apply(first);
      for (const target of first.send) {
        this.call(target.node, { type: 'read', partition, key }, timeout).then(
          (bytes) => apply(coordination.answer(target.node, bytes.length === 0 ? EMPTY_RECORD : decodeRecord(bytes))),
          (err) => apply(coordination.fail(target.node, err)),
        );
      }
    });
  }

  private call(node: string, body: RequestBody, timeout: number): Promise<Uint8Array> {
    if (node === this.id) return this.handle({ ...body, id: 0 } as VineRequest, this.id);
    return this.client(node).then((client) => client.request(body, timeout));
  }

  private async client(node: string): Promise<VineClient> {
    let client = this.clients.get(node);
    if (!client) {
      const member = this.membership?.members().find((m) => m.id === node);
      if (!member) throw errors.unavailable(`request to unknown node ${node}`, 1, 0, 0);
      client = new VineClient({ host: member.host, port: member.port }, this.id, this.wire);
      this.clients.set(node, client);
    }
    return client;
  }

  // ---- serving requests ----

  /** Answers one request from a peer (or from this node as coordinator). Throws a coded error to refuse it; nothing is stored then. */
  async handle(request: VineRequest, from: string): Promise<Uint8Array> {
    if (this.closed) throw errors.closed('the vine node');
    switch (request.type) {
      case 'write': {
        this.checkPlacement(request.partition, request.key);
        this.checkHeld(request.partition);
        if (request.value && request.value.length > this.maxValueBytes) throw errors.limit('value size', request.value.length, this.maxValueBytes);
        const store = await this.store(request.partition);
        const options = request.context === undefined ? {} : { context: request.context };
        if (request.value === undefined) await store.del(request.key, options);
        else await store.put(request.key, decode(this.valueEncoding, request.value), options);
        return (await store.getRecord(request.key)) ?? EMPTY;
      }
      case 'merge': {
        this.checkPlacement(request.partition, request.key);
        const record = decodeRecord(request.record);
        for (const sibling of record.siblings) {
          if (sibling.value.length > this.maxValueBytes) throw errors.limit('value size', sibling.value.length, this.maxValueBytes);
          decode(this.valueEncoding, sibling.value);
        }
        if (request.hint !== undefined) {
          if (request.hint === this.id || !this.membership?.members().some((m) => m.id === request.hint)) {
            throw errors.invalidArgument(`hint for an unknown node '${request.hint}'`);
          }
          await this.hints!.add(request.hint, request.partition, request.key, record);
          return EMPTY;
        }
        this.checkHeld(request.partition);
        await (await this.store(request.partition)).merge(request.key, record, undefined);
        return EMPTY;
      }
      case 'read': {
        this.checkPlacement(request.partition, request.key);
        this.checkHeld(request.partition);
        return (await (await this.store(request.partition)).getRecord(request.key)) ?? EMPTY;
      }
      case 'notify': {
        checkKey(request.key);
        this.deliver(request.key, this.versions(request.key, decodeRecord(request.record)).values);
        return EMPTY;
      }
      case 'coordinate': {
        checkKey(request.key);
        const options = { n: request.n, r: request.r, w: request.w, timeout: request.timeout, context: request.context };
        if (request.op === 'get') return encodeRecord(await this.coordinateRead(request.key, options));
        if (request.op === 'put' && request.value !== undefined) {
          decode(this.valueEncoding, request.value);
          return encodeRecord(await this.coordinateWrite(request.key, request.value, options));
        }
        if (request.op === 'del') return encodeRecord(await this.coordinateWrite(request.key, undefined, options));
        throw errors.invalidArgument(`unknown operation '${request.op}'`);
      }
      case 'roots': {
        if (request.partitions.length > PARTITIONS) throw errors.limit('partitions', request.partitions.length, PARTITIONS);
        const roots = await Promise.all(request.partitions.map((p) => this.rootBytes(p)));
        return Buffer.concat(roots);
      }
    }
  }

  private checkPlacement(partition: number, key: string): void {
    checkKey(key);
    if (partition !== partitionOf(key)) throw errors.invalidArgument(`key is not in partition ${partition}`);
  }

  /** A partition being handed over before it is dropped takes no requests: the coordinator goes to another replica. */
  private checkHeld(partition: number): void {
    if (this.retiring.has(partition)) throw errors.unavailable(`partition ${partition} (being handed over)`, 1, 0, 1);
  }

  private async rootBytes(partition: number): Promise<Uint8Array> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= PARTITIONS) throw errors.invalidArgument(`no partition ${partition}`);
    if (this.retiring.has(partition)) return ZERO_ROOT;
    // A partition this node never stored anything in has the empty root; opening a store for it would cost a tree and a write.
    if (!this.stores.has(partition) && !this.stored.has(partition)) return ZERO_ROOT;
    const store = await this.store(partition);
    return store.tree ? store.tree.root : ZERO_ROOT;
  }

  private store(partition: number): Promise<MerkleStore<V>> {
    let store = this.stores.get(partition);
    if (!store) {
      // Being dropped: its data is going away, so nothing may open it again until that is done.
      if (this.retiring.has(partition)) return Promise.reject(errors.unavailable(`partition ${partition} (being dropped)`, 1, 0, 1));
      const made = new MerkleStore<V>({
        db: this.db!.sublevel(`p${partition}`, { keyEncoding: 'view', valueEncoding: 'view' }),
        name: `vine/${partition}`,
        id: this.id,
        depth: this.options.depth ?? DEFAULTS.depth,
        valueEncoding: this.valueEncoding,
      });
      made.on('change', (event: ChangeEvent<V>) => {
        if (this.watchAll || this.watched.has(event.key)) this.deliver(event.key, distinctValues(event.values));
      });
      const marked = this.stored.has(partition) ? Promise.resolve() : this.meta!.put(`partition/${partition}`, '1');
      this.stored.add(partition);
      store = marked.then(() => made.open()).then(() => made);
      this.stores.set(partition, store);
    }
    return store;
  }

  // ---- watching ----

  private publishWatches(): void {
    if (!this.membership) return;
    const keys = this.watchAll || this.watched.size > MAX_WATCHED_KEYS ? ['*'] : [...this.watched];
    this.membership.setLocalState('watch', JSON.stringify(keys));
  }

  private watches(member: string, key: string): boolean {
    if (member === this.id) return this.watchAll || this.watched.has(key);
    const state = this.membership?.peerState(member, 'watch');
    if (!state) return false;
    // Parsed once per published state, not once per write.
    let parsed = this.peerWatches.get(member);
    if (parsed?.state !== state) {
      let keys: Set<string>;
      try {
        const list = JSON.parse(state) as unknown;
        keys = new Set(Array.isArray(list) ? list.filter((k): k is string => typeof k === 'string') : []);
      } catch {
        keys = new Set();
      }
      parsed = { state, keys };
      this.peerWatches.set(member, parsed);
    }
    return parsed.keys.has('*') || parsed.keys.has(key);
  }

  private notifyWatchers(key: string, record: Uint8Array): void {
    for (const member of this.membership?.members() ?? []) {
      if (!this.isLive(member.id) || !this.watches(member.id, key)) continue;
      this.notify(member.id, key, record, 0);
    }
  }

  /**
   * Sends one notify; a lost one (connection cut, timeout) is sent again
   * after a backoff while the watcher is live and still watches the key, up
   * to NOTIFY_ATTEMPTS times. The watcher fires once per distinct value, so
   * a repeat that did arrive twice is harmless.
   */
  private notify(member: string, key: string, record: Uint8Array, attempt: number): void {
    this.call(member, { type: 'notify', key, record }, this.timeout).catch(() => {
      if (attempt + 1 >= NOTIFY_ATTEMPTS) return;
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        if (!this.closed && this.isLive(member) && this.watches(member, key)) this.notify(member, key, record, attempt + 1);
      }, backoffDelay(attempt, { initialMs: 100, maxMs: 2000 }));
      timer.unref();
      this.pending.add(timer);
    });
  }

  private deliver(key: string, values: V[]): void {
    if (!(this.watchAll || this.watched.has(key)) || values.length === 0) return;
    const signature = JSON.stringify(values);
    if (this.delivered.get(key) === signature) return;
    this.delivered.set(key, signature);
    const conflict = values.length > 1;
    const value = values.length === 1 ? values[0] : this.resolver ? this.resolver(values.map((v) => ({ value: v, replica: '', ts: 0 })), key) : undefined;
    this.emit('data', key, value, { key, values, conflict } satisfies DataEvent<V>);
  }

  /**
   * The view of a record a reader gets. Siblings with byte-identical values
   * are shown once: a write retried at a second replica after the first one
   * failed to answer (it may have written after all) leaves two dots for one
   * value, which is no conflict to the reader. The context covers both.
   */
  private versions(key: string, record: KeyRecord): VineVersions<V> {
    const seen = new Set<string>();
    const distinct = record.siblings.filter((s) => {
      const bytes = Buffer.from(s.value).toString('base64');
      if (seen.has(bytes)) return false;
      seen.add(bytes);
      return true;
    });
    const siblings = distinct.map((s) => ({ value: decode(this.valueEncoding, s.value), replica: s.id, ts: s.ts }));
    const values = siblings.map((s) => s.value);
    let value: V | undefined;
    if (siblings.length === 1) value = values[0];
    else if (siblings.length > 1 && this.resolver) value = this.resolver(siblings, key);
    return { key, values, value, conflict: siblings.length > 1, context: encodeContext(record.context) };
  }

  // ---- healing ----

  /** Runs a handoff and an anti-entropy round soon (after a membership change). */
  private kick(): void {
    setTimeout(() => {
      void this.handoff();
      void this.antiEntropy();
    }, 50).unref();
  }

  /** Hands hints back to owners that are live again; a hint is dropped once the owner has it durably. */
  async handoff(): Promise<void> {
    if (this.handingOff || this.closed || !this.hints) return;
    this.handingOff = true;
    try {
      for (const owner of this.hints.backlog().keys()) {
        // Batch after batch while the owner takes them; a batch that hands nothing back ends the round for that owner.
        let progress = true;
        while (progress && this.isLive(owner) && !this.closed) {
          const batch = await this.hints.take(owner, HANDOFF_BATCH);
          const before = this.stats.handedOff;
          await Promise.all(batch.map((hint) => this.handBack(owner, hint)));
          progress = batch.length === HANDOFF_BATCH && this.stats.handedOff > before;
        }
      }
    } finally {
      this.handingOff = false;
    }
  }

  private async handBack(owner: string, hint: Hint): Promise<void> {
    try {
      await this.call(owner, { type: 'merge', partition: hint.partition, key: hint.key, record: hint.record, hint: undefined }, this.timeout);
      this.stats.handoffBytes += hint.record.length + Buffer.byteLength(hint.key);
      if (await this.hints!.remove(hint)) this.stats.handedOff++;
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
    if (this.syncing || this.closed || !this.membership) return;
    this.syncing = true;
    try {
      const shared = new Map<string, number[]>();
      for (let p = 0; p < PARTITIONS; p++) {
        const replicas = this.ring.preferenceList(p, this.n);
        if (!replicas.includes(this.id)) continue;
        for (const peer of replicas) if (peer !== this.id && this.isLive(peer)) shared.set(peer, [...(shared.get(peer) ?? []), p]);
      }
      for (const [peer, partitions] of shared) {
        if (this.closed) return;
        let theirs: Uint8Array;
        try {
          theirs = await this.call(peer, { type: 'roots', partitions }, this.timeout);
        } catch {
          continue;
        }
        if (theirs.length !== partitions.length * 16) continue;
        const differing: number[] = [];
        for (let i = 0; i < partitions.length; i++) {
          const ours = await this.rootBytes(partitions[i]);
          if (!Buffer.from(ours).equals(Buffer.from(theirs.subarray(i * 16, i * 16 + 16)))) differing.push(partitions[i]);
        }
        const queue = [...differing];
        await Promise.all(
          Array.from({ length: SYNC_LANES }, async () => {
            for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
              try {
                await this.syncPartition(peer, p);
                this.emit('healed', { partition: p, peer });
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
    for (const partition of [...this.stored]) {
      if (this.closed) return;
      const owners = this.ring.preferenceList(partition, this.n);
      if (owners.includes(this.id) || owners.length < this.n || !owners.every(this.isLive)) continue;
      const store = await this.store(partition);
      this.retiring.add(partition);
      try {
        await store.flushed();
        for (const owner of owners) await this.syncPartition(owner, partition);
        const ours = Buffer.from(store.tree!.root);
        let held = true;
        for (const owner of owners) {
          const theirs = await this.call(owner, { type: 'roots', partitions: [partition] }, this.timeout);
          if (!ours.equals(Buffer.from(theirs))) held = false;
        }
        const still = this.ring.preferenceList(partition, this.n);
        if (held && !still.includes(this.id) && still.every((id) => owners.includes(id))) await this.dropPartition(partition, ours);
      } catch {
        // a replica out of reach: the partition stays until a later round
      } finally {
        this.retiring.delete(partition);
      }
    }
  }

  /** Drops a partition's data, unless its root moved from `expected` (a write that was already under way when the hand-over began). */
  private async dropPartition(partition: number, expected: Buffer): Promise<void> {
    const opened = this.stores.get(partition);
    if (!opened) return;
    const store = await opened;
    await store.flushed();
    if (!expected.equals(Buffer.from(store.tree!.root))) return;
    this.stores.delete(partition);
    await store.close();
    await this.db!.sublevel(`p${partition}`, { keyEncoding: 'view', valueEncoding: 'view' }).clear();
    await this.meta!.del(`partition/${partition}`);
    this.stored.delete(partition);
    this.stats.dropped++;
  }

  /** A tree walk of one partition with one peer, over its own connection. */
  async syncPartition(peer: string, partition: number): Promise<void> {
    const member = this.membership?.members().find((m) => m.id === peer);
    if (!member) throw errors.unavailable(`sync with unknown node ${peer}`, 1, 0, 0);
    const store = await this.store(partition);
    const socket = await dial({ host: member.host, port: member.port }, { type: 'hello', version: VINE_PROTOCOL_VERSION, cluster: this.wire.cluster, node: this.id, purpose: 'sync', partition }, this.wire);
    this.stats.syncs++;
    await this.pipeSync(store, socket);
  }

  private acceptSync(partition: number, socket: Socket): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= PARTITIONS || this.retiring.has(partition)) {
      socket.destroy();
      return;
    }
    this.store(partition).then(
      (store) => this.pipeSync(store, socket).catch(() => undefined),
      () => socket.destroy(),
    );
  }

  private pipeSync(store: MerkleStore<V>, socket: Socket): Promise<void> {
    const stream = store.createStream({ live: false, cluster: this.wire.cluster, maxFrameBytes: this.wire.maxFrameBytes });
    socket.on('data', (chunk: Buffer) => (this.stats.syncBytes += chunk.length));
    return new Promise((resolve, reject) => {
      pump(socket, stream, socket, (err) => (err ? reject(err) : resolve()));
    });
  }
}

/** Values with duplicates (by their JSON form) removed; see `versions`. */
function distinctValues<V>(values: V[]): V[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const text = JSON.stringify(v) ?? String(v);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw errors.invalidArgument('keys are strings');
  if (!key.isWellFormed()) throw errors.invalidArgument('key has lone surrogates');
}

