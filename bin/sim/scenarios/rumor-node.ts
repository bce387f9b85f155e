import type { SimRandom } from '../../../lib/sim/random.js';

/**
 * How a node spreads one rumour.
 * - `push`, `pull`, `push-pull`: anti-entropy; every node contacts one random
 *   peer per round, forever (here: until everyone knows).
 * - `rumor`: rumour mongering (Demers et al. 1987, "push, feedback, counter"):
 *   a node that knows pushes to a random peer each round; the peer answers
 *   whether it already knew; after `k` useless contacts the node stops.
 */
export type SpreadMode = 'push' | 'pull' | 'push-pull' | 'rumor';

export type RumorMessage =
  | { type: 'push'; has: boolean }
  | { type: 'pull' }
  | { type: 'exchange'; has: boolean }
  | { type: 'reply'; has: boolean }
  | { type: 'feedback'; knew: boolean };

export interface Outgoing {
  to: number;
  message: RumorMessage;
}

/**
 * One node's part in spreading a rumour: a pure state machine. The driver
 * calls `tick()` once per round and `receive()` per message; both return
 * what to send. Peers are chosen from `peers` (node indices) with the
 * injected random source.
 */
export class RumorNode {
  knows = false;
  /** Rumour mongering: still spreading. */
  active = false;
  /** Round in which this node learned the rumour. */
  learnedAt = -1;
  private useless = 0;

  constructor(
    readonly index: number,
    readonly mode: SpreadMode,
    private readonly nodeCount: number,
    private readonly random: SimRandom,
    /** Rumour mongering: stop after this many contacts with nodes that already knew. */
    private readonly k = 1,
  ) {}

  /** This node learns the rumour (from a client, or a peer) in `round`. */
  learn(round: number): void {
    if (this.knows) return;
    this.knows = true;
    this.learnedAt = round;
    this.active = this.mode === 'rumor';
  }

  tick(): Outgoing[] {
    if (this.mode === 'rumor' && !this.active) return [];
    const to = this.peer();
    switch (this.mode) {
      case 'push':
        // Anti-entropy push: the contact carries our updates, if any.
        return [{ to, message: { type: 'push', has: this.knows } }];
      case 'pull':
        return [{ to, message: { type: 'pull' } }];
      case 'push-pull':
        return [{ to, message: { type: 'exchange', has: this.knows } }];
      case 'rumor':
        return [{ to, message: { type: 'push', has: true } }];
    }
  }

  receive(from: number, message: RumorMessage, round: number): Outgoing[] {
    switch (message.type) {
      case 'push': {
        const knew = this.knows;
        if (message.has) this.learn(round);
        return this.mode === 'rumor' ? [{ to: from, message: { type: 'feedback', knew } }] : [];
      }
      case 'pull':
        return [{ to: from, message: { type: 'reply', has: this.knows } }];
      case 'exchange': {
        const reply: Outgoing = { to: from, message: { type: 'reply', has: this.knows } };
        if (message.has) this.learn(round);
        return [reply];
      }
      case 'reply':
        if (message.has) this.learn(round);
        return [];
      case 'feedback':
        if (message.knew && ++this.useless >= this.k) this.active = false;
        return [];
    }
  }

  private peer(): number {
    const other = this.random.int(0, this.nodeCount - 2);
    return other >= this.index ? other + 1 : other;
  }
}

/** Does this message carry the rumour? */
export function carriesRumor(message: RumorMessage): boolean {
  return (message.type === 'push' || message.type === 'exchange' || message.type === 'reply') && message.has;
}

/**
 * Demers et al. 1987: with push rumour mongering, feedback and a counter k,
 * the residue s (fraction never reached) satisfies s = e^{-(k+1)(1-s)}.
 * Solved by fixed-point iteration from s = 0.
 */
export function predictedResidue(k: number): number {
  let s = 0;
  for (let i = 0; i < 1000; i++) s = Math.exp(-(k + 1) * (1 - s));
  return s;
}

/** Published round counts for a rumour started at one node of n (the O(log log n) terms dropped). */
export function predictedRounds(mode: Exclude<SpreadMode, 'rumor'>, n: number): { rounds: number; source: string } {
  switch (mode) {
    case 'push':
      return { rounds: Math.log2(n) + Math.log(n), source: 'log2 N + ln N (Frieze & Grimmett 1985; Pittel 1987)' };
    case 'pull':
      return { rounds: Math.log2(n) + Math.log2(Math.log(n)), source: 'log2 N + O(log log N) (Karp et al. 2000)' };
    case 'push-pull':
      return { rounds: Math.log(n) / Math.log(3) + Math.log2(Math.log(n)), source: 'log3 N + O(log log N) (Karp et al. 2000)' };
  }
}
