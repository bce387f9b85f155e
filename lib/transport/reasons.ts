import { ReplicationError } from '../errors.js';

/** Why a connection ended, as transports report it with `'disconnected'`. */
export interface DisconnectInfo {
  /** One line for people: `'connection refused'`, `'an HTTP server answered, not a tendril peer'`... */
  reason: string;
  /** The error behind it, if any: a socket error or a coded ReplicationError. */
  error?: Error;
  /** True when retrying cannot help: the reconnect loop stops with `'error'`. */
  permanent: boolean;
}

/**
 * Errors that reconnecting cannot cure: the peer is another structure kind,
 * another document, another cluster or another protocol version, or claims
 * our own replica id. Garbage from a peer that is not tendril at all is not
 * among them (the right server may come back on that port), nor are decode
 * errors or limits (the next connection may go well).
 */
export function isPermanent(err: unknown): boolean {
  if (!(err instanceof ReplicationError)) return false;
  if (err.code === 'ERR_PROTOCOL_VERSION') return true;
  return err.code === 'ERR_HANDSHAKE' && /mismatch|own replica id|has no document/.test(err.message);
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'the peer went away',
};

/** A socket error in words: `'connection refused'` rather than `connect ECONNREFUSED 127.0.0.1:9`. */
export function describeSocketError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && SOCKET_ERRORS[code]) ?? err.message;
}

/**
 * What answered, judged by the first bytes it sent, if it is plainly not
 * tendril: an SSH banner, an HTTP response, a mail or FTP greeting. A tendril
 * peer's first bytes are a length and a handshake frame, never ASCII text.
 */
export function describeForeign(first: Uint8Array | undefined): string | undefined {
  if (!first || first.length === 0) return undefined;
  const text = new TextDecoder().decode(first.subarray(0, 64));
  const line = JSON.stringify(text.split(/\r?\n/)[0]!.slice(0, 40));
  if (/^SSH-\d/.test(text)) return `an SSH server answered (${line}), not a tendril peer`;
  if (/^HTTP\/\d/.test(text)) return `an HTTP server answered (${line}), not a tendril peer`;
  if (/^(220|\+OK|\* OK)[ -]/.test(text)) return `a mail or FTP server answered (${line}), not a tendril peer`;
  return undefined;
}

/** The reason for a connection that ended, from what the transport saw. */
export function disconnectInfo(seen: {
  closedByUs: boolean;
  socketError?: Error;
  streamError?: Error;
  firstBytes?: Uint8Array;
  synced: boolean;
}): DisconnectInfo {
  // Whatever our own closing caused (a WebSocket closed while connecting reports an error), the reason is ours.
  if (seen.closedByUs) return { reason: 'closed', permanent: false };
  const error = seen.streamError ?? seen.socketError;
  const foreign = describeForeign(seen.firstBytes);
  if (foreign) return { reason: foreign, error, permanent: false };
  if (seen.streamError) {
    const code = (seen.streamError as ReplicationError).code;
    const reason = code ? `${code}: ${seen.streamError.message}` : seen.streamError.message;
    return { reason, error: seen.streamError, permanent: isPermanent(seen.streamError) };
  }
  if (seen.socketError) return { reason: describeSocketError(seen.socketError), error: seen.socketError, permanent: false };
  if (!seen.synced) return { reason: 'the peer closed the connection before the sync completed', permanent: false };
  return { reason: 'the peer closed the connection', permanent: false };
}
