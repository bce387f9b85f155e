import type { Progress } from './reconnector.js';

/**
 * The progress of a connection whose stream (or frame protocol) has
 * received `bytes`: a Doc's connection also counts its channels. The
 * transport only asks, so it never needs to know what it carries.
 */
export function progressOf(carrier: unknown, bytes: number): Progress {
  type Counts = { synced: number; total: number };
  const c = carrier as { channelCounts?: () => Counts; protocol?: { channelCounts?: () => Counts } };
  const counts = c.channelCounts?.() ?? c.protocol?.channelCounts?.();
  return counts ? { bytes, channels: counts } : { bytes };
}
