import type { SimRandom } from '../../../lib/sim/random.js';

export interface PushSumMessage {
  s: number;
  w: number;
}

/**
 * Push-sum (Kempe, Dobra and Gehrke 2003): each node holds a sum `s` and a
 * weight `w`; every round it keeps half of both and sends the other half to
 * a random peer. s/w converges to sum(s0) / sum(w0) at every node, as long
 * as no mass is lost. With s0 = the node's value and w0 = 1 that is the
 * average; with s0 = 1 everywhere and w0 = 1 at one node only, it is the
 * count of nodes.
 */
export class PushSumNode {
  constructor(
    readonly index: number,
    private readonly nodeCount: number,
    private readonly random: SimRandom,
    public s: number,
    public w: number,
  ) {}

  /** The current estimate, NaN while the node has no weight yet. */
  get estimate(): number {
    return this.w === 0 ? NaN : this.s / this.w;
  }

  tick(): { to: number; message: PushSumMessage } {
    this.s /= 2;
    this.w /= 2;
    const other = this.random.int(0, this.nodeCount - 2);
    return { to: other >= this.index ? other + 1 : other, message: { s: this.s, w: this.w } };
  }

  receive(message: PushSumMessage): void {
    this.s += message.s;
    this.w += message.w;
  }
}
