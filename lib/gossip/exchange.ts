import { DEFAULT_LIMITS, decode, encode } from '../codec/index.js';
import type { GossipMessage } from './messages.js';
import type { Membership } from './membership.js';

export interface ExchangeOptions {
  /** Largest message either side makes, bytes. Default 32 KiB, as over a stream with the default frame size. */
  maxMessageBytes?: number;
  /** Deliver only the first `n` messages in each direction (a connection that broke). Default all. */
  deliver?: number;
}

export interface ExchangeResult {
  /** Bytes of messages a sent to b, and b to a (encoded; framing not included). */
  bytes: [number, number];
  messages: [number, number];
}

/**
 * One gossip round between two memberships in memory, with no stream: both
 * sessions run non-live, and every message goes through the codec both ways,
 * exactly as on the wire. For tests and the simulator; throws the coded
 * error a real stream would fail with.
 */
export function exchange(a: Membership, b: Membership, options: ExchangeOptions = {}): ExchangeResult {
  const session = { live: false, readable: true, writable: true, maxMessageBytes: options.maxMessageBytes ?? 32 * 1024, limits: { ...DEFAULT_LIMITS } };
  const sa = a.openSession(session);
  const sb = b.openSession(session);
  const result: ExchangeResult = { bytes: [0, 0], messages: [0, 0] };
  const deliver = options.deliver ?? Infinity;
  try {
    sa.start({ id: b.id, readable: true, writable: true, live: false });
    sb.start({ id: a.id, readable: true, writable: true, live: false });
    const move = (from: typeof sa, to: typeof sb, side: 0 | 1): boolean => {
      const message = from.pull();
      if (message === undefined) return false;
      const bytes = encode(from.codec, message);
      result.bytes[side] += bytes.length;
      if (++result.messages[side] <= deliver) to.receive(decode<GossipMessage>(to.codec, bytes));
      return true;
    };
    let moved = true;
    while (moved) {
      const ab = move(sa, sb, 0);
      const ba = move(sb, sa, 1);
      moved = ab || ba;
    }
  } finally {
    sa.close();
    sb.close();
  }
  return result;
}
