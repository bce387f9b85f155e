import type { PeerInfo, SessionOptions } from './contract.js';

/** Which way updates flow on one connection, from both sides' readable/writable flags. */
export interface Gate {
  /** We send our updates: we are readable and the peer is writable. */
  sending: boolean;
  /** We apply the peer's updates: we are writable and the peer is readable. */
  accepting: boolean;
}

export function gate(options: SessionOptions, peer: PeerInfo): Gate {
  return { sending: options.readable && peer.writable, accepting: options.writable && peer.readable };
}
