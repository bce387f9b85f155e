/**
 * The counts behind a connection's progress, for one session: the updates
 * its catch-up announced and the shell has not yet sent on (see
 * `Session.takeCatchUpTotal`), and the updates received from the peer.
 */
export class ProgressCount {
  /** Updates received from the peer, in the structure's unit. */
  received = 0;
  private announced: number | undefined;

  /** The catch-up will carry `count` more updates. */
  announce(count: number): void {
    this.announced = (this.announced ?? 0) + count;
  }

  /** What was announced since the last call, or undefined if nothing was. */
  take(): number | undefined {
    const total = this.announced;
    this.announced = undefined;
    return total;
  }
}
