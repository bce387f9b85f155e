import type { SimRandom } from '../../../lib/sim/random.js';

/**
 * How a node spreads one rumour.
 * - `push`, `pull`, `push-pull`: anti-entropy; every node contacts one random
 *   peer per round, forever (here: until everyone knows).
 * - `rumor`: rumour mongering (Demers et al. 1987, section 1.4): a node that
 *   learns the rumour becomes infective and spreads it until it loses
 *   interest, in one of the variants of `RumorVariant`.
 */
export type SpreadMode = 'push' | 'pull' | 'push-pull' | 'rumor';

/**
 * The rumour-mongering variants of Demers et al. 1987, section 1.4.
 * - `interest`: `feedback`, a node loses interest only after a round whose
 *   contacts all went to nodes that already knew; `blind`, after any round
 *   in which it passed the rumour on.
 * - `stop`: `counter`, it stops after k such rounds in a row (a round with a
 *   necessary contact resets the count); `coin`, after each such round it
 *   stops with probability 1/k.
 * - `direction`: `push`, an infective node calls a random peer each round;
 *   `pull`, every node calls a random peer each round and an infective one
 *   answers with the rumour (it may be called many times in a round).
 */
export interface RumorVariant {
  interest: 'feedback' | 'blind';
  stop: 'counter' | 'coin';
  direction: 'push' | 'pull';
}

export const PAPER_VARIANT: Readonly<RumorVariant> = Object.freeze({ interest: 'feedback', stop: 'counter', direction: 'push' });

/**
 * What a node knows when it answers within a round.
 * - `sync`: the synchronous rounds of the random phone call model (Karp et
 *   al. 2000; Demers et al.'s cycles): every answer in round r uses the state
 *   held at the start of round r, so a node informed in round r informs
 *   nobody before round r + 1, and "the recipient already knew" means it
 *   knew before this round began.
 * - `async`: answers use the state at the moment a message arrives, so a node
 *   informed early in a round can pass the rumour on within the same round.
 */
export type RoundSemantics = 'sync' | 'async';

export type RumorMessage =
  | { type: 'push'; has: boolean }
  /** A request; `knew`: rumour pull tells the callee whether the caller already knew (its feedback). */
  | { type: 'pull'; knew: boolean }
  | { type: 'exchange'; has: boolean }
  | { type: 'reply'; has: boolean }
  | { type: 'feedback'; knew: boolean };

/**
 * Every message there is, made once: a message is only read, and at 100,000
 * nodes one object per send is a large part of what a round holds. Indexed
 * by the flag (0 or 1).
 */
const MESSAGES = {
  push: [{ type: 'push', has: false }, { type: 'push', has: true }],
  pull: [{ type: 'pull', knew: false }, { type: 'pull', knew: true }],
  exchange: [{ type: 'exchange', has: false }, { type: 'exchange', has: true }],
  reply: [{ type: 'reply', has: false }, { type: 'reply', has: true }],
  feedback: [{ type: 'feedback', knew: false }, { type: 'feedback', knew: true }],
} as const satisfies Record<RumorMessage['type'], readonly RumorMessage[]>;

export interface Outgoing {
  to: number;
  message: RumorMessage;
}

/**
 * One node's part in spreading a rumour: a pure state machine. The driver
 * calls `tick(round)` once per round, `receive()` per message and
 * `endRound()` once every message of the round has arrived; `tick` and
 * `receive` return what to send. Peers are chosen from the other nodes
 * (indices 0..nodeCount-1) with the injected random source.
 */
export class RumorNode {
  knows = false;
  /** Rumour mongering: infective (still spreading). */
  active = false;
  /** Round in which this node learned the rumour (0: it started it). */
  learnedAt = -1;
  /** Rounds in a row that counted against the rumour (the counter variant). */
  private count = 0;
  /** This round, as an infective node: it passed the rumour on; a recipient did not know it; a recipient already did. */
  private contacted = false;
  private necessary = false;
  private unnecessary = false;

  constructor(
    readonly index: number,
    readonly mode: SpreadMode,
    private readonly nodeCount: number,
    private readonly random: SimRandom,
    /** Rumour mongering: the k of the counter (k rounds) or of the coin (probability 1/k). */
    private readonly k = 1,
    private readonly variant: RumorVariant = PAPER_VARIANT,
    private readonly rounds: RoundSemantics = 'sync',
  ) {}

  /** This node learns the rumour (from a client, or a peer) in `round`. */
  learn(round: number): void {
    if (this.knows) return;
    this.knows = true;
    this.learnedAt = round;
    this.active = this.mode === 'rumor';
  }

  /** Whether this node counts as knowing when it answers in `round` (see `RoundSemantics`). */
  private knewIn(round: number): boolean {
    return this.knows && (this.rounds === 'async' || this.learnedAt < round);
  }

  tick(round: number): Outgoing[] {
    if (this.mode === 'rumor') {
      if (this.variant.direction === 'pull') return [{ to: this.peer(), message: MESSAGES.pull[+this.knows]! }];
      if (!this.active) return [];
      this.contacted = true;
      return [{ to: this.peer(), message: MESSAGES.push[1]! }];
    }
    const to = this.peer();
    switch (this.mode) {
      case 'push':
        // Anti-entropy push: the contact carries our updates, if any.
        return [{ to, message: MESSAGES.push[+this.knows]! }];
      case 'pull':
        return [{ to, message: MESSAGES.pull[+this.knows]! }];
      case 'push-pull':
        return [{ to, message: MESSAGES.exchange[+this.knows]! }];
    }
  }

  receive(from: number, message: RumorMessage, round: number): Outgoing[] {
    switch (message.type) {
      case 'push': {
        const knew = this.knewIn(round);
        if (message.has) this.learn(round);
        const feedback = this.mode === 'rumor' && this.variant.interest === 'feedback';
        return feedback ? [{ to: from, message: MESSAGES.feedback[+knew]! }] : [];
      }
      case 'pull':
        if (this.mode !== 'rumor') return [{ to: from, message: MESSAGES.reply[+this.knewIn(round)]! }];
        // Rumour pull: only an infective node answers, and only with what it held at the start of the round (sync).
        if (!this.active || !this.knewIn(round)) return [];
        this.contacted = true;
        this.record(message.knew);
        return [{ to: from, message: MESSAGES.reply[1]! }];
      case 'exchange': {
        const reply: Outgoing = { to: from, message: MESSAGES.reply[+this.knewIn(round)]! };
        if (message.has) this.learn(round);
        return [reply];
      }
      case 'reply':
        if (message.has) this.learn(round);
        return [];
      case 'feedback':
        this.record(message.knew);
        return [];
    }
  }

  /**
   * The round is over: an infective node decides whether it loses interest,
   * from the round's contacts as a whole (Demers et al.: a counter of
   * unnecessary rounds, reset by a necessary one; or a coin).
   */
  endRound(): void {
    const { contacted, necessary, unnecessary } = this;
    this.contacted = this.necessary = this.unnecessary = false;
    if (!this.active) return;
    // Blind: every round with a contact counts. Feedback: a round counts only if no contact was necessary, and a necessary one resets the counter.
    const feedback = this.variant.interest === 'feedback';
    if (feedback && necessary) this.count = 0;
    if (!(feedback ? unnecessary && !necessary : contacted)) return;
    if (this.variant.stop === 'counter' ? ++this.count >= this.k : this.random.chance(1 / this.k)) this.active = false;
  }

  private record(recipientKnew: boolean): void {
    if (recipientKnew) this.unnecessary = true;
    else this.necessary = true;
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
 * Demers et al. 1987: push rumour mongering with feedback and a coin of 1/k
 * leaves a residue s (fraction never reached) with s = e^{-(k+1)(1-s)}.
 * Solved by fixed-point iteration from s = 0.
 */
export function predictedResidue(k: number): number {
  let s = 0;
  for (let i = 0; i < 1000; i++) s = Math.exp(-(k + 1) * (1 - s));
  return s;
}

/**
 * The synchronous model's mean number of rounds until all n nodes know a
 * rumour started at one node, from the recurrences for the fraction p_i of
 * nodes not yet informed after round i (Demers et al. 1987, section 1.3):
 * push p' = p·e^{-(1-p)}, pull p' = p², push-pull p' = p²·e^{-(1-p)}.
 * With the n·p_i uninformed nodes taken as Poisson, P(T > i) ≈ 1 - e^{-n·p_i},
 * and E[T] = Σ_i P(T > i). Karp et al. 2000 give the orders:
 * push log₂n + ln n (Frieze & Grimmett; Pittel), pull log₂n + O(log log n),
 * push-pull log₃n + O(log log n).
 */
export function predictedRounds(mode: Exclude<SpreadMode, 'rumor'>, n: number): { rounds: number; source: string } {
  const next = {
    push: (p: number) => p * Math.exp(-(1 - p)),
    pull: (p: number) => p * p,
    'push-pull': (p: number) => p * p * Math.exp(-(1 - p)),
  }[mode];
  let p = 1 - 1 / n;
  let rounds = 0;
  for (let i = 0; i < 1000 && n * p > 1e-12; i++) {
    rounds += 1 - Math.exp(-n * p);
    p = next(p);
  }
  const order = { push: 'log2 N + ln N', pull: 'log2 N + O(log log N)', 'push-pull': 'log3 N + O(log log N)' }[mode];
  const recurrence = { push: "p' = p e^-(1-p)", pull: "p' = p^2", 'push-pull': "p' = p^2 e^-(1-p)" }[mode];
  return { rounds, source: `synchronous model, ${recurrence} (order ${order})` };
}
