import { SimRandom } from './random.js';
import { Scheduler } from './scheduler.js';

export interface SpreadModelOptions {
  nodes: number;
  seed: number;
  /** Live members gossiped with per round, as `MembershipTiming.fanout`. Default 2. */
  fanout?: number;
  /** Gossip interval, ms. Default 1,000. */
  intervalMs?: number;
}

/**
 * Gossip rounds until one key set on one node is held by all `nodes`, in a
 * healthy cluster where everyone knows everyone: the membership's spread
 * with nothing but what decides it kept. Each node ticks every interval
 * with the same 10% jitter as the networked node and the full simulator,
 * and picks its targets as `chooseTargets` does (`fanout` distinct random
 * members, and the seed, node 0, with probability 1 / (n - 1) when the
 * first pick was not the seed); an exchange is push-pull, so afterwards both
 * sides hold the key if either did (in a quiet cluster the one key is all
 * the deltas there are, far under any byte budget).
 *
 * Why a model: the full simulator runs every node's real `Membership`, and
 * full membership is N members on each of N nodes: 10^8 member records and
 * digests of 10,000 entries per exchange at 10,000 nodes, beyond this
 * machine. The model is checked against the full simulator at 1,000 nodes
 * (the `membership` scenario prints both).
 */
export function spreadModelRounds(options: SpreadModelOptions): number {
  const n = options.nodes;
  const fanout = options.fanout ?? 2;
  const interval = options.intervalMs ?? 1000;
  const random = new SimRandom(options.seed);
  const scheduler = new Scheduler();
  const holds = new Uint8Array(n);
  let holders = 0;
  let done: number | undefined;
  // The key is set at a round boundary after every node has ticked a few times, as in the full run.
  const writeAt = 3 * interval;
  const other = (self: number) => {
    const pick = random.int(0, n - 2);
    return pick >= self ? pick + 1 : pick;
  };
  const exchange = (a: number, b: number) => {
    if (holds[a] === holds[b]) return;
    holds[a] = holds[b] = 1;
    holders++;
    if (holders === n && done === undefined) done = scheduler.now;
  };
  const tick = (i: number) => {
    if (done !== undefined) return;
    const targets = [other(i)];
    const extra = Math.floor(fanout - 1) + (random.float() < fanout % 1 ? 1 : 0);
    for (let k = 0; k < extra && targets.length < n - 1; k++) {
      let pick = other(i);
      while (targets.includes(pick)) pick = other(i);
      targets.push(pick);
    }
    if (i !== 0 && targets[0] !== 0 && random.float() < 1 / (n - 1) && !targets.includes(0)) targets.push(0);
    for (const target of targets) exchange(i, target);
    scheduler.schedule(interval * (0.9 + 0.2 * random.float()), () => tick(i));
  };
  for (let i = 0; i < n; i++) scheduler.at(random.float() * interval, () => tick(i));
  scheduler.at(writeAt, () => {
    holds[n - 1] = 1;
    holders++;
  });
  scheduler.runUntil(writeAt + 100 * interval);
  if (done === undefined) throw new Error(`the key did not reach all ${n} nodes in 100 rounds`);
  return Math.ceil((done - writeAt) / interval);
}
