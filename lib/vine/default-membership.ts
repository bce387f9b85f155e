import { Gossiper } from '../gossip/gossiper.js';
import { GossipMembership } from './gossip-membership.js';
import type { Member, Membership } from './membership.js';

/**
 * Vine's default membership: a `Gossiper` on the port after the node's own
 * (`port + 1`), with the same id and cluster name, seeded with the gossip
 * ports of the nodes passed to `join()`.
 */
export function gossipMembership(options: { cluster?: string; intervalMs?: number; removeAfterMs?: number } = {}) {
  return (self: Member, seeds: Array<{ host: string; port: number }>): Membership => {
    const timing = {
      ...(options.intervalMs === undefined ? {} : { gossipIntervalMs: options.intervalMs }),
      ...(options.removeAfterMs === undefined ? {} : { removeAfterMs: options.removeAfterMs }),
    };
    const gossiper = new Gossiper({
      id: self.id,
      host: self.host,
      port: self.port + 1,
      cluster: options.cluster,
      seeds: seeds.map((seed) => `${seed.host}:${seed.port + 1}`),
      timing,
    });
    return new GossipMembership(self, gossiper, options.intervalMs);
  };
}
