import { type KeyRecord, EMPTY_RECORD, mergeRecords, writeRecord } from '../../../lib/merkle/record.js';
import type { VersionVector } from '../../../lib/merkle/version-vector.js';
import { Coordination, type Step } from '../../../lib/vine/quorum.js';
import { planRepair } from '../../../lib/vine/read-repair.js';
import { HashRing, type Target, partitionOf, partitionPoint, planTargets } from '../../../lib/vine/ring.js';

/** What the simulated vine nodes and the client say to each other. */
export type DynamoMessage =
  | { type: 'put'; req: number; key: string; value: number; context: VersionVector | undefined }
  | { type: 'get'; req: number; key: string }
  | { type: 'done'; req: number; ok: boolean; record: KeyRecord | undefined; answered: number }
  | { type: 'write'; op: number; key: string; value: number; context: VersionVector | undefined }
  | { type: 'merge'; op: number; key: string; record: KeyRecord; hint: string | undefined }
  | { type: 'read'; op: number; key: string }
  | { type: 'answer'; op: number; record: KeyRecord | undefined }
  | { type: 'sync'; partition: number; records: [string, KeyRecord][]; reply: boolean };

export interface Out {
  to: string;
  message: DynamoMessage;
}

export interface DynamoConfig {
  n: number;
  r: number;
  w: number;
  /** A peer that failed a request is suspected for this long, ms. */
  suspectFor: number;
  /** A replica that has not answered within this long has failed the request, ms. */
  replicaTimeout: number;
  /** A request not decided within this long is ERR_UNAVAILABLE, ms. */
  timeout: number;
}

interface Pending {
  kind: 'write' | 'read';
  client: string;
  req: number;
  key: string;
  coordination: Coordination<KeyRecord | true>;
  record: KeyRecord | undefined;
  /** Owners still to try for making the version (writes). */
  origins: string[];
  /** Sent to, by op, so an answer or a failure finds its target. */
  targets: Map<string, Target>;
  settled: boolean;
  value: number;
  context: VersionVector | undefined;
  started: number;
  /** When each replica still to answer was asked. */
  sentAt: Map<string, number>;
  /** Reads: the owners held back have been asked. */
  widened?: boolean;
}

/**
 * One simulated vine node: the same ring, placement, quorum state machine,
 * records (dotted version vectors) and read-repair planning as the real
 * `VineNode`, over the simulator's datagrams instead of TCP, with state in
 * memory (kept across a crash, as LevelDB keeps it). Failure detection is
 * local: a peer that refused or timed out a request is suspected for
 * `suspectFor` ms.
 */
export class DynamoNode {
  readonly data = new Map<string, KeyRecord>();
  readonly hints = new Map<string, Map<string, KeyRecord>>();
  private readonly pending = new Map<number, Pending>();
  private readonly suspectedUntil = new Map<string, number>();
  private nextOp = 1;
  private ts = 0;

  constructor(
    readonly id: string,
    private readonly ring: HashRing,
    private readonly config: DynamoConfig,
  ) {}

  get hintCount(): number {
    let total = 0;
    for (const held of this.hints.values()) total += held.size;
    return total;
  }

  live(peer: string, now: number): boolean {
    return peer === this.id || (this.suspectedUntil.get(peer) ?? -1) < now;
  }

  /** A crash loses what was in progress (the requests it coordinated), not the data. */
  crashed(): void {
    this.pending.clear();
    this.suspectedUntil.clear();
  }

  receive(from: string, message: DynamoMessage, now: number): Out[] {
    switch (message.type) {
      case 'put':
        return this.coordinateWrite(from, message.req, message.key, message.value, message.context, now);
      case 'get':
        return this.coordinateRead(from, message.req, message.key, now);
      case 'write': {
        const before = this.data.get(message.key) ?? EMPTY_RECORD;
        const record = writeRecord(before, this.id, message.context ?? before.context, valueBytes(message.value), ++this.ts);
        this.data.set(message.key, record);
        return [{ to: from, message: { type: 'answer', op: message.op, record } }];
      }
      case 'merge': {
        if (message.hint !== undefined) {
          const held = this.hints.get(message.hint) ?? new Map<string, KeyRecord>();
          held.set(message.key, mergeRecords(held.get(message.key) ?? EMPTY_RECORD, message.record));
          this.hints.set(message.hint, held);
        } else this.merge(message.key, message.record);
        return [{ to: from, message: { type: 'answer', op: message.op, record: undefined } }];
      }
      case 'read':
        return [{ to: from, message: { type: 'answer', op: message.op, record: this.data.get(message.key) ?? EMPTY_RECORD } }];
      case 'answer':
        return this.answered(from, message.op, message.record, now);
      case 'sync': {
        const out: Out[] = [];
        const mine = new Map(this.recordsOf(message.partition));
        const back: [string, KeyRecord][] = [];
        for (const [key, record] of message.records) {
          const merged = this.merge(key, record);
          if (message.reply && !sameRecord(merged, record)) back.push([key, merged]);
          mine.delete(key);
        }
        if (message.reply) for (const entry of mine) back.push(entry);
        if (back.length > 0) out.push({ to: from, message: { type: 'sync', partition: message.partition, records: back, reply: false } });
        return out;
      }
      case 'done':
        return [];
    }
  }

  /** A send to `peer` failed at once, or its answer did not come in time. */
  failed(peer: string, op: number, now: number): Out[] {
    this.suspectedUntil.set(peer, now + this.config.suspectFor);
    const pending = this.pending.get(op);
    if (!pending) return [];
    if (pending.kind === 'write' && pending.record === undefined && pending.origins[0] === peer) {
      pending.origins.shift();
      return this.apply(op, pending, pending.coordination.fail(peer, new Error('no answer')), now, true);
    }
    return this.apply(op, pending, pending.coordination.fail(peer, new Error('no answer')), now);
  }

  /** The request's deadline passed. */
  expire(op: number, now: number): Out[] {
    const pending = this.pending.get(op);
    if (!pending) return [];
    const out = this.apply(op, pending, pending.coordination.expire(), now);
    this.finishRead(op, pending, out);
    this.pending.delete(op);
    return out;
  }

  /** Fails replicas that did not answer in time and requests past their deadline. */
  tick(now: number): Out[] {
    const out: Out[] = [];
    for (const [op, pending] of [...this.pending]) {
      if (now - pending.started >= this.config.timeout) {
        out.push(...this.expire(op, now));
        continue;
      }
      // A read whose answers are slow asks the owners it held back, as the real coordinator does.
      if (pending.kind === 'read' && !pending.widened && now - pending.started >= this.config.timeout / 4) {
        pending.widened = true;
        out.push(...this.apply(op, pending, pending.coordination.widen(), now));
      }
      const waiting = new Set(pending.coordination.pendingTargets().map((t) => t.node));
      if (pending.kind === 'write' && pending.record === undefined && pending.origins[0] !== undefined) waiting.add(pending.origins[0]);
      for (const [peer, at] of [...pending.sentAt]) {
        if (!waiting.has(peer) || now - at < this.config.replicaTimeout) continue;
        pending.sentAt.delete(peer);
        out.push(...this.failed(peer, op, now));
      }
    }
    return out;
  }

  /** Hands hints back to owners it believes live. */
  handoff(now: number): Out[] {
    const out: Out[] = [];
    for (const [owner, held] of this.hints) {
      if (!this.live(owner, now)) continue;
      for (const [key, record] of held) out.push({ to: owner, message: { type: 'merge', op: 0, key, record, hint: undefined } });
      // Datagrams carry no acknowledgement here: the hint is dropped once sent, and a lost handoff is healed by anti-entropy.
      this.hints.delete(owner);
    }
    return out;
  }

  /** One anti-entropy exchange: the records of one partition this node replicates, to one other replica. */
  antiEntropy(partition: number, now: number, pick: (peers: string[]) => string | undefined): Out[] {
    const replicas = this.ring.preferenceList(partition, this.config.n);
    if (!replicas.includes(this.id)) return [];
    const peer = pick(replicas.filter((id) => id !== this.id && this.live(id, now)));
    if (peer === undefined) return [];
    return [{ to: peer, message: { type: 'sync', partition, records: this.recordsOf(partition), reply: true } }];
  }

  private recordsOf(partition: number): [string, KeyRecord][] {
    return [...this.data].filter(([key]) => partitionOf(key) === partition);
  }

  private merge(key: string, record: KeyRecord): KeyRecord {
    const merged = mergeRecords(this.data.get(key) ?? EMPTY_RECORD, record);
    this.data.set(key, merged);
    return merged;
  }

  private coordinateWrite(client: string, req: number, key: string, value: number, context: VersionVector | undefined, now: number): Out[] {
    const walk = this.ring.walk(partitionPoint(partitionOf(key)));
    const targets = planTargets(walk, this.config.n, (id) => this.live(id, now));
    const used = new Set(targets.map((t) => t.node));
    const spares = walk.slice(this.config.n).filter((id) => this.live(id, now) && !used.has(id));
    const coordination = new Coordination<KeyRecord | true>({ operation: 'write', need: this.config.w, targets, spares });
    const op = this.nextOp++;
    const origins = targets.filter((t) => !t.hint).map((t) => t.node).sort((a, b) => Number(b === this.id) - Number(a === this.id));
    const pending: Pending = { kind: 'write', client, req, key, coordination, record: undefined, origins, targets: new Map(targets.map((t) => [t.node, t])), settled: false, value, context, started: now, sentAt: new Map() };
    this.pending.set(op, pending);
    const first = coordination.start();
    if (first.settled) return this.apply(op, pending, first, now);
    return this.askOrigin(op, pending, now);
  }

  private askOrigin(op: number, pending: Pending, now: number): Out[] {
    const origin = pending.origins[0];
    if (origin === undefined) return this.apply(op, pending, pending.coordination.expire(), now);
    pending.sentAt.set(origin, now);
    const message: DynamoMessage = { type: 'write', op, key: pending.key, value: pending.value, context: pending.context };
    if (origin === this.id) return this.receive(this.id, message, now).flatMap((o) => this.receive(this.id, o.message, now));
    return [{ to: origin, message }];
  }

  private coordinateRead(client: string, req: number, key: string, now: number): Out[] {
    const owners = this.ring.walk(partitionPoint(partitionOf(key)), this.config.n);
    const live = owners.filter((id) => this.live(id, now));
    // As the real coordinator: itself first if it owns the key, and only R asked at the start.
    const first = Math.max(0, live.indexOf(this.id));
    const targets = [...live.slice(first), ...live.slice(0, first)].map((node) => ({ node }));
    const coordination = new Coordination<KeyRecord | true>({ operation: 'read', need: this.config.r, targets, ask: Math.min(this.config.r, Math.max(1, targets.length)) });
    const op = this.nextOp++;
    const pending: Pending = { kind: 'read', client, req, key, coordination, record: undefined, origins: [], targets: new Map(targets.map((t) => [t.node, t])), settled: false, value: 0, context: undefined, started: now, sentAt: new Map() };
    this.pending.set(op, pending);
    const out = this.apply(op, pending, coordination.start(), now);
    return out;
  }

  private answered(from: string, op: number, record: KeyRecord | undefined, now: number): Out[] {
    const pending = this.pending.get(op);
    if (!pending) return [];
    pending.sentAt.delete(from);
    if (pending.kind === 'write' && pending.record === undefined) {
      if (from !== pending.origins[0] || !record) return [];
      pending.record = record;
      const step = pending.coordination.answer(from, true);
      const out: Out[] = [];
      for (const target of pending.coordination.pendingTargets()) out.push(...this.sendTo(op, pending, target, now));
      return [...out, ...this.apply(op, pending, { send: [], settled: step.settled }, now)];
    }
    const out = this.apply(op, pending, pending.coordination.answer(from, pending.kind === 'read' ? (record ?? EMPTY_RECORD) : true), now);
    if (pending.kind === 'read' && pending.coordination.outstanding === 0) {
      this.finishRead(op, pending, out);
      this.pending.delete(op);
    }
    return out;
  }

  private sendTo(op: number, pending: Pending, target: Target, now: number): Out[] {
    pending.targets.set(target.node, target);
    pending.sentAt.set(target.node, now);
    const message: DynamoMessage =
      pending.kind === 'read'
        ? { type: 'read', op, key: pending.key }
        : { type: 'merge', op, key: pending.key, record: pending.record!, hint: target.hint };
    if (target.node === this.id) return this.receive(this.id, message, now).flatMap((o) => this.receive(this.id, o.message, now));
    return [{ to: target.node, message }];
  }

  private apply(op: number, pending: Pending, step: Step<KeyRecord | true>, now: number, retryOrigin = false): Out[] {
    const out: Out[] = [];
    if (pending.kind === 'read' || pending.record !== undefined) for (const target of step.send) out.push(...this.sendTo(op, pending, target, now));
    if (step.settled && !pending.settled) {
      pending.settled = true;
      const ok = step.settled.ok;
      const record = !ok ? undefined : pending.kind === 'read' ? planRepair(step.settled.answers as Map<string, KeyRecord>).merged : pending.record;
      const answered = ok ? step.settled.answers.size : pending.coordination.answers.size;
      out.push({ to: pending.client, message: { type: 'done', req: pending.req, ok, record, answered } });
    } else if (retryOrigin && !pending.settled && pending.record === undefined) {
      out.push(...this.askOrigin(op, pending, now));
    }
    return out;
  }

  /** Read repair once every replica answered (or at the deadline). */
  private finishRead(op: number, pending: Pending, out: Out[]): void {
    if (pending.kind !== 'read') return;
    const answers = new Map([...pending.coordination.answers].filter((e): e is [string, KeyRecord] => e[1] !== true));
    const plan = planRepair(answers);
    for (const node of plan.stale) {
      if (node === this.id) this.merge(pending.key, plan.merged);
      else out.push({ to: node, message: { type: 'merge', op: 0, key: pending.key, record: plan.merged, hint: undefined } });
    }
  }

  /** The op a message to `peer` belongs to (for failure reports). */
  static opOf(message: DynamoMessage): number | undefined {
    return 'op' in message ? message.op : undefined;
  }
}

export function valueBytes(value: number): Uint8Array {
  return new TextEncoder().encode(String(value));
}

export function valueOf(bytes: Uint8Array): number {
  return Number(new TextDecoder().decode(bytes));
}

export function sameRecord(a: KeyRecord, b: KeyRecord): boolean {
  return JSON.stringify(a, replacer) === JSON.stringify(b, replacer);
}

function replacer(_: string, v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
}
