import type { Out, PbMessage, Role } from './primary-backup-messages.js';

export interface ControllerOptions {
  writeQuorum: number;
  /** Ping every member this often, ms. Default 200. */
  pollEvery: number;
  /** A member that has not answered for this long is suspected down, ms. Default 800. */
  pollTimeout: number;
  /** An election that has not gathered its quorum by then starts over with a new epoch, ms. Default 1,000. */
  electionTimeout: number;
  /** A member down this long is replaced by a fresh server, ms. Default 10,000. */
  replaceAfter: number;
  /** Elect at once when a send to the primary fails; otherwise only the polling detects failures. Default true. */
  detectOnFailedSend: boolean;
}

export interface Election {
  epoch: number;
  /** What set it off: a failed send to the primary, the polling, or a primary that says it is not one. */
  reason: 'failed-send' | 'polling' | 'not-primary' | 'timeout';
  startedAt: number;
  /** When the winner was promoted. */
  decidedAt: number | undefined;
  winner: string | undefined;
}

/**
 * The gateway and monitor of the group (the seed's "network"): it routes
 * client traffic, polls the servers, and runs elections. It never crashes
 * (it stands for a replicated control plane). Pure: messages and time in,
 * messages out.
 *
 * Election: bump the epoch and send `freeze` to every member; a member
 * adopts the epoch (so it refuses the old primary from then on) and answers
 * with its last (epoch, index). With N members and writes acknowledged by W
 * of them, any N - W + 1 answers include a copy of every acknowledged
 * write; among them the most up-to-date (highest last epoch, then highest
 * index, then lowest name) wins and is promoted. Without enough answers
 * the group stays unavailable: electing a less complete server would lose
 * acknowledged writes.
 *
 * Replacement: a member down longer than `replaceAfter` gets a fresh
 * server as a learner; the primary catches it up and reports `caughtUp`;
 * only then does it take the dead member's place (before, it holds no copy
 * of the writes the dead member held, so it could not stand in for it).
 */
export class PbController {
  epoch = 0;
  primary: string | undefined;
  members: string[];
  learners: string[] = [];
  /** Members replaced for good. */
  readonly retired: string[] = [];
  readonly elections: Election[] = [];
  /** Names of servers spawned as replacements; the driver adds them to the network. */
  readonly spawned: string[] = [];
  /** Set once the current primary has confirmed its role in a pong. */
  private confirmed = false;
  private readonly lastSeen = new Map<string, number>();
  private readonly roles = new Map<string, { role: Role; epoch: number }>();
  private election: { epoch: number; deadline: number; states: Map<string, [number, number]> } | undefined;
  private lastPoll = -Infinity;
  private replacing: { dead: string; learner: string } | undefined;
  private spawnCount = 0;

  constructor(
    readonly id: string,
    members: string[],
    readonly options: ControllerOptions,
  ) {
    this.members = [...members];
  }

  /** Starts the group: the first member is promoted in epoch 1. */
  bootstrap(now: number): Out[] {
    for (const m of this.members) this.lastSeen.set(m, now);
    this.epoch = 1;
    this.primary = this.members[0];
    this.elections.push({ epoch: 1, reason: 'timeout', startedAt: now, decidedAt: now, winner: this.primary });
    return [{ to: this.primary!, message: { type: 'promote', epoch: 1, members: this.members, learners: [] } }];
  }

  get available(): boolean {
    return this.primary !== undefined && this.election === undefined;
  }

  /** Where the gateway sends a write: the primary, if there is one. */
  route(): string | undefined {
    return this.available ? this.primary : undefined;
  }

  /** A send to `to` failed at once: if it is the primary, elect now. */
  sendFailed(to: string, now: number): Out[] {
    if (this.options.detectOnFailedSend && to === this.primary && this.election === undefined) return this.elect(now, 'failed-send');
    return [];
  }

  tick(now: number): Out[] {
    const out: Out[] = [];
    if (this.election && now >= this.election.deadline) out.push(...this.elect(now, 'timeout'));
    if (now - this.lastPoll >= this.options.pollEvery) {
      this.lastPoll = now;
      for (const m of [...this.members, ...this.learners]) out.push({ to: m, message: { type: 'ping' } });
      if (this.primary && !this.confirmed && this.election === undefined) {
        // The promotion may have been lost: say it again until the primary confirms.
        out.push({ to: this.primary, message: { type: 'promote', epoch: this.epoch, members: this.members, learners: this.learners } });
      }
    }
    if (this.election === undefined && this.primary && this.down(this.primary, now)) out.push(...this.elect(now, 'polling'));
    out.push(...this.replace(now));
    return out;
  }

  receive(from: string, message: PbMessage, now: number): Out[] {
    switch (message.type) {
      case 'pong': {
        this.lastSeen.set(from, now);
        this.roles.set(from, { role: message.role, epoch: message.epoch });
        if (from === this.primary && this.election === undefined) {
          if (message.role === 'primary' && message.epoch === this.epoch) this.confirmed = true;
          else if (this.confirmed) return this.elect(now, 'not-primary');
        }
        return [];
      }
      case 'state': {
        this.lastSeen.set(from, now);
        const e = this.election;
        if (!e || message.epoch !== e.epoch || !this.members.includes(from)) return [];
        e.states.set(from, [message.lastEpoch, message.lastIndex]);
        if (e.states.size < this.members.length - this.options.writeQuorum + 1) return [];
        const winner = [...e.states.entries()].sort(([a, [ae, ai]], [b, [be, bi]]) => be - ae || bi - ai || (a < b ? -1 : 1))[0]![0];
        this.election = undefined;
        this.primary = winner;
        this.confirmed = false;
        const record = this.elections[this.elections.length - 1]!;
        record.decidedAt = now;
        record.winner = winner;
        return [{ to: winner, message: { type: 'promote', epoch: this.epoch, members: this.members, learners: this.learners } }];
      }
      case 'suspect':
        return this.options.detectOnFailedSend && message.node === this.primary && this.election === undefined ? this.elect(now, 'failed-send') : [];
      case 'caughtUp': {
        const r = this.replacing;
        if (!r || message.node !== r.learner || message.epoch !== this.epoch || from !== this.primary) return [];
        this.members = this.members.map((m) => (m === r.dead ? r.learner : m));
        this.learners = [];
        this.retired.push(r.dead);
        this.replacing = undefined;
        return [{ to: this.primary, message: { type: 'configure', epoch: this.epoch, members: this.members, learners: [] } }];
      }
      default:
        return [];
    }
  }

  private down(node: string, now: number): boolean {
    return now - (this.lastSeen.get(node) ?? -Infinity) > this.options.pollTimeout;
  }

  private elect(now: number, reason: Election['reason']): Out[] {
    this.epoch++;
    this.confirmed = false;
    this.election = { epoch: this.epoch, deadline: now + this.options.electionTimeout, states: new Map() };
    // A retry continues the same outage: keep its first reason and start time.
    const last = this.elections[this.elections.length - 1];
    if (reason === 'timeout' && last && last.decidedAt === undefined) last.epoch = this.epoch;
    else this.elections.push({ epoch: this.epoch, reason, startedAt: now, decidedAt: undefined, winner: undefined });
    return this.members.map((m) => ({ to: m, message: { type: 'freeze', epoch: this.epoch } as PbMessage }));
  }

  /** Replaces one long-dead member at a time, while a confirmed primary can catch the newcomer up. */
  private replace(now: number): Out[] {
    if (this.replacing || !this.primary || !this.confirmed || this.election) return [];
    const dead = this.members.find((m) => m !== this.primary && now - (this.lastSeen.get(m) ?? now) > this.options.replaceAfter);
    if (!dead) return [];
    const learner = `${this.id}-spare${++this.spawnCount}`;
    this.spawned.push(learner);
    this.replacing = { dead, learner };
    this.learners = [learner];
    this.lastSeen.set(learner, now);
    return [{ to: this.primary, message: { type: 'configure', epoch: this.epoch, members: this.members, learners: this.learners } }];
  }
}
