import { Membership, type MembershipOptions } from '../../lib/gossip/membership.js';
import { exchange } from '../../lib/gossip/exchange.js';
import { Random } from '../../lib/random.js';

/** A virtual wall clock shared by the nodes of a test. */
export class FakeClock {
  constructor(public time = 1_700_000_000_000) {}
  now = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export function node(clock: FakeClock, port: number, options: Partial<MembershipOptions> = {}): Membership {
  return new Membership({ address: `127.0.0.1:${port}`, now: clock.now, random: new Random(port), ...options });
}

/** `rounds` rounds of: every node ticks, then exchanges with one random other node. */
export function gossipRounds(clock: FakeClock, nodes: Membership[], rounds: number, random: Random, stepMs = 1000): void {
  for (let r = 0; r < rounds; r++) {
    clock.advance(stepMs);
    for (const n of nodes) n.tick();
    for (const n of nodes) {
      const others = nodes.filter((o) => o !== n);
      exchange(n, random.pick(others));
    }
  }
}
