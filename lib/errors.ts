/**
 * The one error class of tendril. Every failure that crosses the public API,
 * or destroys a stream, is a `ReplicationError` with a stable string `code`.
 * Errors are made only through the factories below, so codes stay a closed,
 * documented set.
 */
/** Every code tendril uses. Codes are stable: they may be added, never renamed. */
export const ERROR_CODES = [
  'ERR_HANDSHAKE',
  'ERR_PROTOCOL_VERSION',
  'ERR_FRAME_TOO_LARGE',
  'ERR_DECODE',
  'ERR_LIMIT',
  'ERR_CLOCK_SKEW',
  'ERR_INTEGRITY',
  'ERR_REMOTE',
  'ERR_CLOSED',
  'ERR_INVALID_ARGUMENT',
  'ERR_UNAVAILABLE',
  'ERR_TIMEOUT',
  'ERR_AUTH',
] as const;

export type ErrorCode =
  | 'ERR_HANDSHAKE' // the peer is not the same protocol, kind, name or cluster
  | 'ERR_PROTOCOL_VERSION' // the peer speaks another version of the protocol
  | 'ERR_FRAME_TOO_LARGE' // a frame over the maximum frame size
  | 'ERR_DECODE' // bytes that do not decode to a valid message
  | 'ERR_LIMIT' // a decoded length, count or depth over its limit
  | 'ERR_CLOCK_SKEW' // a remote timestamp further ahead than the allowed drift
  | 'ERR_INTEGRITY' // a history that fails verification (hash chain, ordering)
  | 'ERR_REMOTE' // the peer reported an error and closed
  | 'ERR_CLOSED' // the replica or stream is closed
  | 'ERR_INVALID_ARGUMENT' // a caller passed something unusable
  | 'ERR_UNAVAILABLE' // too few replicas answered in time for a quorum
  | 'ERR_TIMEOUT' // the peer did not complete its handshake, or fell silent, in time
  | 'ERR_AUTH'; // the peer could not prove the network key, or a signature did not verify

export class ReplicationError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplicationError';
    this.code = code;
  }
}

export const errors = {
  handshake: (message: string) => new ReplicationError('ERR_HANDSHAKE', message),
  protocolVersion: (ours: number, theirs: number) =>
    new ReplicationError('ERR_PROTOCOL_VERSION', `protocol version mismatch: ours ${ours}, peer ${theirs}`),
  frameTooLarge: (limit: number, size?: number) =>
    new ReplicationError('ERR_FRAME_TOO_LARGE', `frame ${size === undefined ? '' : `of ${size} bytes `}exceeds the limit of ${limit} bytes`),
  decode: (message: string, cause?: unknown) => new ReplicationError('ERR_DECODE', message, { cause }),
  limit: (what: string, value: number, limit: number) =>
    new ReplicationError('ERR_LIMIT', `${what} of ${value} exceeds the limit of ${limit}`),
  clockSkew: (aheadMs: number, maxDriftMs: number) =>
    new ReplicationError('ERR_CLOCK_SKEW', `remote timestamp is ${aheadMs} ms ahead; the allowed drift is ${maxDriftMs} ms`),
  integrity: (message: string) => new ReplicationError('ERR_INTEGRITY', message),
  /** An error the peer reported before closing; keeps the peer's code when it is one of ours. */
  remote: (code: string, message: string) =>
    new ReplicationError(
      (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'ERR_REMOTE',
      `peer reported ${code}: ${message}`,
    ),
  closed: (what: string) => new ReplicationError('ERR_CLOSED', `${what} is closed`),
  invalidArgument: (message: string, cause?: unknown) => new ReplicationError('ERR_INVALID_ARGUMENT', message, { cause }),
  timeout: (message: string) => new ReplicationError('ERR_TIMEOUT', message),
  auth: (message: string) => new ReplicationError('ERR_AUTH', message),
  /** A quorum operation that could not gather `needed` answers: says how many replicas were reachable and how many answered. */
  unavailable: (operation: string, needed: number, answered: number, asked: number) =>
    new ReplicationError('ERR_UNAVAILABLE', `${operation} needs ${needed} replicas; ${answered} answered of ${asked} reachable`),
};

export function isReplicationError(err: unknown): err is ReplicationError {
  return err instanceof ReplicationError;
}
