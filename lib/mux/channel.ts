import type { ReplicationError } from '../errors.js';
import type { Replicable } from '../session/contract.js';
import { WireProtocol, type WireProtocolOptions } from '../stream/wire-protocol.js';

/**
 * Our side of one structure on a multiplexed connection: the structure's own
 * WireProtocol (handshake, session, markers, errors), the number we send its
 * frames under, and the peer's number for it once paired.
 */
export class Channel {
  readonly protocol: WireProtocol;
  /** The peer's number for this channel, once it has opened it too. */
  remoteId: number | undefined;
  /** Our `open` has left in a control frame: the channel may send. */
  announced = false;
  /** No frame goes out or comes in any more. */
  closed = false;
  /** The error frame that is this channel's last frame, if it failed. */
  lastFrame: Buffer | undefined;
  /** Why it closed, if it failed. */
  error: ReplicationError | undefined;
  reportedSynced = false;

  constructor(
    readonly name: string,
    readonly localId: number,
    readonly replica: Replicable,
    options: WireProtocolOptions,
  ) {
    this.protocol = new WireProtocol(replica.descriptor, (o) => replica.openSession(o), options);
  }

  get paired(): boolean {
    return this.remoteId !== undefined;
  }
}
