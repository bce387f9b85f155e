import { errors } from '../../../lib/errors.js';
import type { EpochRange, LogEntry, Out, PbMessage, Role } from './primary-backup-messages.js';

export interface PbNodeOptions {
  /** Copies a write needs before it is acknowledged, the primary's included (the W of W2R1). Default 2. */
  writeQuorum: number;
  /** Primary: how often it (re)sends unacknowledged entries or a heartbeat, ms. Default 100. */
  heartbeat: number;
  /** Most entries per append message. Default 64. */
  batch: number;
  /** Where to report a primary that could not be reached. */
  controller: string;
}

/**
 * One server of the primary-backup group: a replicated log of writes, a
 * key/value view of its committed prefix, and the primary's replication
 * duties. Pure: messages in, messages out, time passed in.
 *
 * Persisted across a crash (`restart(true)`): the epoch, the log and the
 * commit index. Everything else (role, pending acknowledgements, what each
 * secondary holds) is volatile; a restarted node comes back as a secondary.
 *
 * Log matching: an entry is identified by (epoch, index); entries of one
 * epoch come from that epoch's only primary, in order, so two logs that
 * agree on an entry agree on everything before it. A secondary accepts an
 * append only if it holds the entry just before it; otherwise it answers
 * with its epoch ranges, and the primary finds the last index where both
 * logs agree (the end of the common prefix of each shared epoch range), and
 * resends from there: catch-up through epoch ranges, without comparing
 * whole logs.
 */
export class PbNode {
  epoch = 0;
  log: LogEntry[] = [];
  commit = 0;
  role: Role = 'secondary';
  knownPrimary: string | undefined;
  /** Key/value view of the committed prefix: value and the index that wrote it. */
  readonly kv = new Map<string, { value: string; index: number }>();
  private applied = 0;
  // Primary state (volatile).
  private members: string[] = [];
  private learners: string[] = [];
  private readonly nextIndex = new Map<string, number>();
  private readonly matchIndex = new Map<string, number>();
  private readonly pending = new Map<number, { writeId: string; replyTo: string }>();
  private lastBeat = -Infinity;
  /** Where each write id sits in the log, to log a duplicated write once. */
  private readonly indexOf = new Map<string, number>();
  private readonly reportedCaughtUp = new Set<string>();

  constructor(
    readonly id: string,
    readonly options: PbNodeOptions,
  ) {}

  get lastIndex(): number {
    return this.log.length;
  }

  get lastEpoch(): number {
    return this.log.length === 0 ? 0 : this.log[this.log.length - 1]!.epoch;
  }

  /** Comes back after a crash: with the persisted log, or empty. */
  restart(keepState: boolean): void {
    if (!keepState) {
      this.epoch = 0;
      this.log = [];
      this.commit = 0;
      this.kv.clear();
      this.applied = 0;
      this.indexOf.clear();
    }
    this.role = 'secondary';
    this.knownPrimary = undefined;
    this.pending.clear();
    this.nextIndex.clear();
    this.matchIndex.clear();
  }

  ranges(): EpochRange[] {
    const out: EpochRange[] = [];
    this.log.forEach((entry, i) => {
      const last = out[out.length - 1];
      if (last && last[0] === entry.epoch) last[2] = i + 1;
      else out.push([entry.epoch, i + 1, i + 1]);
    });
    return out;
  }

  tick(now: number): Out[] {
    if (this.role !== 'primary' || now - this.lastBeat < this.options.heartbeat) return [];
    this.lastBeat = now;
    return [...this.members, ...this.learners].map((to) => this.appendTo(to));
  }

  /** A send to `to` failed at once (the node is down): report it if it was the primary we forward to. */
  sendFailed(to: string, message: PbMessage): Out[] {
    if (message.type === 'write' && to === this.knownPrimary) {
      this.knownPrimary = undefined;
      return [
        { to: this.options.controller, message: { type: 'suspect', node: to } },
        { to: message.replyTo, message: { type: 'writeAck', writeId: message.writeId, ok: false, reason: 'primary unreachable', index: 0 } },
      ];
    }
    return [];
  }

  receive(from: string, message: PbMessage, now: number): Out[] {
    switch (message.type) {
      case 'write':
        return this.write(message);
      case 'read': {
        const held = this.kv.get(message.key);
        return [{ to: message.replyTo, message: { type: 'readResult', readId: message.readId, ok: true, value: held?.value, index: held?.index ?? 0 } }];
      }
      case 'append':
        return this.append(from, message);
      case 'appendOk':
        return this.appendOk(from, message);
      case 'appendReject':
        return this.appendReject(from, message);
      case 'ping':
        return [{ to: from, message: { type: 'pong', epoch: this.epoch, role: this.role, lastEpoch: this.lastEpoch, lastIndex: this.lastIndex, commit: this.commit } }];
      case 'freeze':
        // From now on refuse the old epoch's appends, so the old primary can acknowledge nothing more.
        if (message.epoch > this.epoch) {
          this.epoch = message.epoch;
          this.stepDown();
        }
        if (message.epoch !== this.epoch) return [];
        return [{ to: from, message: { type: 'state', epoch: this.epoch, lastEpoch: this.lastEpoch, lastIndex: this.lastIndex } }];
      case 'promote':
        if (message.epoch < this.epoch || (message.epoch === this.epoch && this.role === 'primary')) return [];
        return this.promote(message.epoch, message.members, message.learners, now);
      case 'configure':
        if (message.epoch !== this.epoch || this.role !== 'primary') return [];
        this.configure(message.members, message.learners);
        return this.tick(now + this.options.heartbeat);
      default:
        return [];
    }
  }

  private write(message: Extract<PbMessage, { type: 'write' }>): Out[] {
    if (this.role !== 'primary') {
      // Forward to the primary we know of; the gateway mode never lands here.
      if (this.knownPrimary && this.knownPrimary !== this.id && message.replyTo !== this.knownPrimary) {
        return [{ to: this.knownPrimary, message }];
      }
      return [{ to: message.replyTo, message: { type: 'writeAck', writeId: message.writeId, ok: false, reason: 'no primary', index: 0 } }];
    }
    // A duplicated or retried write is logged once.
    const at = this.indexOf.get(message.writeId);
    if (at !== undefined && this.log[at - 1]?.writeId === message.writeId) return [];
    this.push({ epoch: this.epoch, writeId: message.writeId, key: message.key, value: message.value });
    this.pending.set(this.log.length, { writeId: message.writeId, replyTo: message.replyTo });
    const out = [...this.members, ...this.learners].map((to) => this.appendTo(to));
    // A group of one (W1) commits at once.
    return out.concat(this.advanceCommit());
  }

  private append(from: string, m: Extract<PbMessage, { type: 'append' }>): Out[] {
    if (m.epoch < this.epoch) return [{ to: from, message: { type: 'appendReject', epoch: this.epoch, stale: true, ranges: [] } }];
    if (m.epoch > this.epoch || this.role === 'primary') {
      this.epoch = m.epoch;
      this.stepDown();
    }
    this.knownPrimary = from;
    if (m.prevIndex > this.log.length || (m.prevIndex > 0 && this.log[m.prevIndex - 1]!.epoch !== m.prevEpoch)) {
      return [{ to: from, message: { type: 'appendReject', epoch: this.epoch, stale: false, ranges: this.ranges() } }];
    }
    m.entries.forEach((entry, j) => {
      const index = m.prevIndex + 1 + j;
      const held = this.log[index - 1];
      if (held && held.epoch === entry.epoch) return;
      if (held) {
        if (index <= this.commit) throw errors.integrity(`${this.id}: would overwrite committed entry ${index}`);
        this.log.length = index - 1;
      }
      this.push(entry);
    });
    const matched = m.prevIndex + m.entries.length;
    this.setCommit(Math.min(m.commit, matched));
    return [{ to: from, message: { type: 'appendOk', epoch: this.epoch, lastIndex: matched } }];
  }

  private appendOk(from: string, m: Extract<PbMessage, { type: 'appendOk' }>): Out[] {
    if (this.role !== 'primary' || m.epoch !== this.epoch) return [];
    this.matchIndex.set(from, Math.max(this.matchIndex.get(from) ?? 0, m.lastIndex));
    this.nextIndex.set(from, Math.max(this.nextIndex.get(from) ?? 1, m.lastIndex + 1));
    const out = this.advanceCommit();
    if (this.learners.includes(from) && m.lastIndex >= this.commit && !this.reportedCaughtUp.has(from)) {
      this.reportedCaughtUp.add(from);
      out.push({ to: this.options.controller, message: { type: 'caughtUp', epoch: this.epoch, node: from } });
    }
    if ((this.nextIndex.get(from) ?? 1) <= this.log.length) out.push(this.appendTo(from));
    return out;
  }

  private appendReject(from: string, m: Extract<PbMessage, { type: 'appendReject' }>): Out[] {
    if (m.stale || m.epoch > this.epoch) {
      if (m.epoch > this.epoch) {
        this.epoch = m.epoch;
        this.stepDown();
      }
      return [];
    }
    if (this.role !== 'primary') return [];
    this.nextIndex.set(from, this.matchPoint(m.ranges) + 1);
    return [this.appendTo(from)];
  }

  /** The last index where the follower's log (given as epoch ranges) and ours agree. */
  private matchPoint(theirs: EpochRange[]): number {
    const ours = new Map(this.ranges().map((r) => [r[0], r]));
    let match = 0;
    for (const [epoch, from, to] of theirs) {
      const mine = ours.get(epoch);
      if (!mine || mine[1] !== from) break;
      match = Math.min(to, mine[2]);
      if (to !== mine[2]) break;
    }
    return match;
  }

  private appendTo(to: string): Out {
    const next = this.nextIndex.get(to) ?? this.log.length + 1;
    const prevIndex = Math.min(next - 1, this.log.length);
    return {
      to,
      message: {
        type: 'append',
        epoch: this.epoch,
        prevIndex,
        prevEpoch: prevIndex === 0 ? 0 : this.log[prevIndex - 1]!.epoch,
        entries: this.log.slice(prevIndex, prevIndex + this.options.batch),
        commit: this.commit,
      },
    };
  }

  /**
   * Commits the highest index held by `writeQuorum` nodes (us included),
   * counting only entries of our own epoch (older ones commit with them),
   * as in Raft: an older epoch's entry held by enough nodes may still be
   * replaced by an election that did not see it.
   */
  private advanceCommit(): Out[] {
    const need = this.options.writeQuorum - 1;
    let target = this.commit;
    for (let i = this.log.length; i > this.commit; i--) {
      if (this.log[i - 1]!.epoch !== this.epoch) break;
      const holders = this.members.filter((m) => (this.matchIndex.get(m) ?? 0) >= i).length;
      if (holders >= need) {
        target = i;
        break;
      }
    }
    const out: Out[] = [];
    for (let i = this.commit + 1; i <= target; i++) {
      const pending = this.pending.get(i);
      if (!pending) continue;
      this.pending.delete(i);
      out.push({ to: pending.replyTo, message: { type: 'writeAck', writeId: pending.writeId, ok: true, reason: '', index: i } });
    }
    this.setCommit(target);
    return out;
  }

  private push(entry: LogEntry): void {
    this.log.push(entry);
    // Entries later truncated leave stale positions here; `write` checks the position still holds the id.
    if (entry.writeId !== '') this.indexOf.set(entry.writeId, this.log.length);
  }

  private setCommit(commit: number): void {
    if (commit <= this.commit) return;
    this.commit = commit;
    for (; this.applied < this.commit; this.applied++) {
      const entry = this.log[this.applied]!;
      if (entry.writeId !== '') this.kv.set(entry.key, { value: entry.value, index: this.applied + 1 });
    }
  }

  private promote(epoch: number, members: string[], learners: string[], now: number): Out[] {
    this.epoch = epoch;
    this.role = 'primary';
    this.knownPrimary = this.id;
    this.pending.clear();
    this.nextIndex.clear();
    this.matchIndex.clear();
    this.configure(members, learners);
    // A no-op of the new epoch: committing it commits everything before it.
    this.push({ epoch, writeId: '', key: '', value: '' });
    this.lastBeat = -Infinity;
    return this.tick(now);
  }

  private configure(members: string[], learners: string[]): void {
    this.members = members.filter((m) => m !== this.id);
    this.learners = learners.filter((m) => m !== this.id);
  }

  private stepDown(): void {
    if (this.role === 'primary') {
      // Writes we could not commit are indeterminate: the client times out.
      this.pending.clear();
    }
    this.role = 'secondary';
  }
}
