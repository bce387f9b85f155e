/** One write in the replicated log. `writeId` '' marks the no-op a new primary appends to commit its epoch. */
export interface LogEntry {
  epoch: number;
  writeId: string;
  key: string;
  value: string;
}

/** A run of consecutive log entries of one epoch: [epoch, first index, last index] (1-based). */
export type EpochRange = [epoch: number, from: number, to: number];

export type Role = 'primary' | 'secondary';

export type PbMessage =
  // client traffic (from the gateway, or forwarded by any node)
  | { type: 'write'; writeId: string; key: string; value: string; replyTo: string }
  | { type: 'writeAck'; writeId: string; ok: boolean; reason: string; index: number }
  | { type: 'read'; readId: string; key: string; replyTo: string }
  | { type: 'readResult'; readId: string; ok: boolean; value: string | undefined; index: number }
  // replication, primary -> secondaries and back
  | { type: 'append'; epoch: number; prevIndex: number; prevEpoch: number; entries: LogEntry[]; commit: number }
  | { type: 'appendOk'; epoch: number; lastIndex: number }
  | { type: 'appendReject'; epoch: number; stale: boolean; ranges: EpochRange[] }
  // monitoring and elections, controller <-> nodes
  | { type: 'ping' }
  | { type: 'pong'; epoch: number; role: Role; lastEpoch: number; lastIndex: number; commit: number }
  | { type: 'freeze'; epoch: number }
  | { type: 'state'; epoch: number; lastEpoch: number; lastIndex: number }
  | { type: 'promote'; epoch: number; members: string[]; learners: string[] }
  | { type: 'configure'; epoch: number; members: string[]; learners: string[] }
  | { type: 'caughtUp'; epoch: number; node: string }
  | { type: 'suspect'; node: string };

export interface Out {
  to: string;
  message: PbMessage;
}
