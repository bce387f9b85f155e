/**
 * The receive window a node advertises in its digest: how many bytes of
 * deltas it takes in one exchange. Additive increase, multiplicative
 * decrease, as in the flow control of van Renesse et al.: when this node
 * falls behind (its own rounds run late, so it is taking in more than it
 * can process), it halves what it asks for; while it keeps up, the window
 * grows back by an eighth of the maximum per round.
 */
export class ReceiveWindow {
  private current: number;

  constructor(
    private readonly maxBytes: number,
    private readonly minBytes: number,
  ) {
    this.current = maxBytes;
  }

  get bytes(): number {
    return this.current;
  }

  /** One round went by; `late` says whether it ran noticeably late. */
  round(late: boolean): void {
    if (late) this.current = Math.max(this.minBytes, Math.floor(this.current / 2));
    else this.current = Math.min(this.maxBytes, this.current + Math.ceil(this.maxBytes / 8));
  }
}
