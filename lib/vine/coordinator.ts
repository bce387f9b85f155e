import { errors } from '../errors.js';
import { type KeyRecord, EMPTY_RECORD, decodeContext, decodeRecord, encodeRecord } from '../merkle/record.js';
import { encode } from '../codec/index.js';
import { type VineRequest, membersCodec } from './messages.js';
import type { NodeCore } from './node-core.js';
import type { RequestOptions } from './options.js';
import { Coordination, type Step, checkQuorum } from './quorum.js';
import { planRepair } from './read-repair.js';
import { type Placed, type Target, partitionPoint, placeKey, planTargets } from './ring.js';
import { type RequestBody, VineClient } from './rpc.js';
import type { Watching } from './watching.js';

/** Longest request timeout accepted, ms. */
const MAX_TIMEOUT_MS = 60_000;

/**
 * The coordinator side of a node: runs quorum writes and reads for any key
 * on its replicas (sloppy quorum with hints, read repair), and keeps one
 * connection per member it sends requests to.
 */
export class Coordinator<V> {
  private readonly clients = new Map<string, VineClient>();
  /** Turns the owner a read asks first when this node is not one. */
  private readTurn = 0;

  constructor(
    private readonly node: NodeCore<V>,
    private readonly watching: Watching<V>,
    /** Answers this node's own requests in place; `checked` carries what was already checked and computed at the door. */
    private readonly handle: (request: VineRequest, from: string, checked?: Checked) => Promise<Uint8Array>,
  ) {}

  /** Closes every connection for good (the node stops): a request after it fails with ERR_CLOSED. */
  close(): void {
    for (const client of this.clients.values()) client.close();
  }

  /** Closes the connection to a member (removed for good), or all of them (a cut); the next request dials again. */
  disconnect(node?: string): void {
    if (node !== undefined) {
      this.clients.get(node)?.close();
      this.clients.delete(node);
      return;
    }
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  quorumOf(options: RequestOptions): { n: number; r: number; w: number; timeout: number } {
    const q = { n: options.n ?? this.node.n, r: options.r ?? this.node.r, w: options.w ?? this.node.w, timeout: options.timeout ?? this.node.timeout };
    checkQuorum(q.n, q.r, q.w);
    // A request's state lives until its timeout: a peer may not ask us to hold it for long.
    if (!(q.timeout > 0 && q.timeout <= MAX_TIMEOUT_MS)) throw errors.invalidArgument(`timeout must be within 1..${MAX_TIMEOUT_MS} ms`);
    return q;
  }

  /**
   * A write: one replica (this node if it is one) makes the new version and
   * answers with the key's record; the record then goes to the other
   * replicas (stand-ins keep it as a hint). Settles with W durable copies.
   */
  async coordinateWrite(key: string, value: Uint8Array | undefined, options: RequestOptions): Promise<KeyRecord> {
    return decodeRecord(await this.coordinateWriteBytes(key, value, options));
  }

  /**
   * `coordinateWrite`, settling with the key's record as the replica that
   * made the version encoded it: a coordinator answering a remote client
   * sends these bytes on as they are, never decoding and encoding them again.
   */
  coordinateWriteBytes(key: string, value: Uint8Array | undefined, options: RequestOptions): Promise<Uint8Array> {
    // Callers check the value at their door (the API, the wire decoder); this node's own replica takes it as checked.
    if (this.node.isClosed) return Promise.reject(errors.closed('the vine node'));
    const { n, w, timeout } = this.quorumOf(options);
    if (value && value.length > this.node.maxValueBytes) return Promise.reject(errors.limit('value size', value.length, this.node.maxValueBytes));
    if (options.context !== undefined) decodeContext(options.context);
    const placed = placeKey(key);
    const { partition } = placed;
    const walk = this.node.ring.walk(partitionPoint(partition));
    const targets = planTargets(walk, n, (id) => this.node.isLive(id));
    const used = new Set(targets.map((t) => t.node));
    const spares = walk.slice(n).filter((id) => this.node.isLive(id) && !used.has(id));
    const coordination = new Coordination<true>({ operation: 'write', need: w, targets, spares });
    return new Promise<Uint8Array>((resolve, reject) => {
      let record: Uint8Array | undefined;
      let done = false;
      const timer = setTimeout(() => apply(coordination.expire()), timeout);
      const apply = (step: Step<true>) => {
        if (record) for (const target of step.send) sendMerge(target);
        if (step.settled && !done) {
          done = true;
          clearTimeout(timer);
          if (step.settled.ok) {
            resolve(record!);
            this.watching.notifyWatchers(key, record!);
          } else reject(step.settled.error);
        }
      };
      const sendMerge = (target: Target) => {
        if (target.hint) this.node.stats.hinted++;
        this.call(target.node, { type: 'merge', partition, key, record: record!, hint: target.hint }, timeout, placed).then(
          () => apply(coordination.answer(target.node, true)),
          (err) => apply(coordination.fail(target.node, err)),
        );
      };
      const first = coordination.start();
      if (first.settled) return apply(first);
      // The owners asked, this node first if it is one (its version is made without a network hop).
      const owners: Target[] = [];
      for (const target of first.send) {
        if (target.hint !== undefined) continue;
        if (target.node === this.node.id) owners.unshift(target);
        else owners.push(target);
      }
      const write: RequestBody = { type: 'write', partition, key, value, context: options.context };
      const checkedValue: Checked = { partition, stored: placed.stored, value: true };
      // The owners in turn until one makes the version: a callback per attempt, not an async loop.
      let next = 0;
      const makeVersion = (): void => {
        if (next >= owners.length) return apply(coordination.expire());
        const origin = owners[next++];
        this.call(origin.node, write, timeout, checkedValue).then(
          (made) => {
            if (done) return;
            record = made;
            const step = coordination.answer(origin.node, true);
            for (const target of coordination.pendingTargets()) sendMerge(target);
            apply({ send: [], settled: step.settled });
          },
          (err) => {
            if (done) return;
            const step = coordination.fail(origin.node, err);
            if (step.settled) return apply(step);
            makeVersion();
          },
        );
      };
      makeVersion();
    });
  }

  /**
   * A read: ask R of the live owners (this node first if it is one), settle
   * with R answers merged, then repair the asked replicas that were behind.
   * An owner not asked is asked when an asked one fails, and every one when
   * the answers are slow (a quarter of the timeout); anti-entropy heals the
   * replicas no read asked.
   */
  coordinateRead(key: string, options: RequestOptions): Promise<KeyRecord> {
    if (this.node.isClosed) return Promise.reject(errors.closed('the vine node'));
    const { n, r, timeout } = this.quorumOf(options);
    const placed = placeKey(key);
    const { partition } = placed;
    const owners = this.node.ring.walk(partitionPoint(partition), n);
    const live = owners.filter((id) => this.node.isLive(id));
    // This node answers without a network hop; otherwise the first owner asked turns, so reads spread over the replicas.
    const first = live.includes(this.node.id) ? live.indexOf(this.node.id) : this.readTurn++ % Math.max(1, live.length);
    const targets = [...live.slice(first), ...live.slice(0, first)].map((node) => ({ node }));
    const coordination = new Coordination<KeyRecord>({ operation: 'read', need: r, targets, ask: Math.min(r, Math.max(1, targets.length)) });
    return new Promise<KeyRecord>((resolve, reject) => {
      let done = false;
      let repaired = false;
      const timer = setTimeout(() => {
        apply(coordination.expire());
        repair();
      }, timeout);
      const hedge = setTimeout(() => apply(coordination.widen()), timeout / 4);
      const repair = () => {
        if (repaired || !done) return;
        repaired = true;
        clearTimeout(timer);
        const plan = planRepair(coordination.answers);
        if (plan.stale.length === 0) return;
        const bytes = encodeRecord(plan.merged);
        for (const node of plan.stale) {
          this.node.stats.repairs++;
          this.call(node, { type: 'merge', partition, key, record: bytes, hint: undefined }, timeout).catch(() => undefined);
        }
      };
      const ask = (target: Target) => {
        this.call(target.node, { type: 'read', partition, key }, timeout, placed).then(
          (bytes) => apply(coordination.answer(target.node, bytes.length === 0 ? EMPTY_RECORD : decodeRecord(bytes))),
          (err) => apply(coordination.fail(target.node, err)),
        );
      };
      const apply = (step: Step<KeyRecord>) => {
        if (step.settled && !done) {
          done = true;
          clearTimeout(hedge);
          if (step.settled.ok) resolve(planRepair(step.settled.answers).merged);
          else reject(step.settled.error);
        }
        for (const target of step.send) ask(target);
        if (done && coordination.outstanding === 0) repair();
      };
      apply(coordination.start());
    });
  }

  /** The members and the ring's vnodes, encoded (`membersCodec`): a client that places keys itself sends each request to a replica of its key. */
  membersReply(): Uint8Array {
    const members = (this.node.membership?.members() ?? []).map((m) => ({ id: m.id, host: m.host, port: m.port, live: this.node.isLive(m.id) }));
    return encode(membersCodec, { vnodes: this.node.ring.vnodes, members });
  }

  /**
   * Sends a request to a member; this node's own is answered in place, with
   * `checked` (what this node has already checked of it) so nothing is
   * checked or hashed twice. A peer's request never carries it: what comes
   * from the wire is checked in full.
   */
  call(node: string, body: RequestBody, timeout: number, checked?: Checked): Promise<Uint8Array> {
    if (node === this.node.id) return this.handle({ ...body, id: 0 } as VineRequest, this.node.id, checked);
    let client: VineClient;
    try {
      client = this.client(node);
    } catch (err) {
      return Promise.reject(err);
    }
    return client.request(body, timeout);
  }

  private client(node: string): VineClient {
    let client = this.clients.get(node);
    if (!client) {
      const member = this.node.membership?.members().find((m) => m.id === node);
      if (!member) throw errors.unavailable(`request to unknown node ${node}`, 1, 0, 0);
      client = new VineClient({ host: member.host, port: member.port }, this.node.id, this.node.wire);
      this.clients.set(node, client);
    }
    return client;
  }
}

/**
 * What a node already knows of one of its own requests when it answers it
 * in place: the key is a string placed in `partition` with this stored
 * form, and (`value`) the value bytes were checked by decoding once at the
 * door they came in by. Never built from a peer's message.
 */
export interface Checked extends Placed {
  value?: boolean;
}
