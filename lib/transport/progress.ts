import type { Progress } from './reconnector.js';

/**
 * The progress of a connection whose stream (or frame protocol) has
 * received `bytes`: the updates of the peer's catch-up, done of the total it
 * announced, and for a Doc its channels too. The transport only asks, so it
 * never needs to know what it carries.
 */
export function progressOf(carrier: unknown, bytes: number): Progress {
  type Counts = { synced: number; total: number };
  type Updates = { done: number; total: number };
  type Source = { channelCounts?: () => Counts; updateProgress?: () => Updates | undefined };
  const c = carrier as Source & { protocol?: Source };
  const source = c.channelCounts !== undefined || c.updateProgress !== undefined ? c : c.protocol;
  const progress: Progress = { bytes };
  const updates = source?.updateProgress?.();
  if (updates) progress.updates = updates;
  const counts = source?.channelCounts?.();
  if (counts) progress.channels = counts;
  return progress;
}
