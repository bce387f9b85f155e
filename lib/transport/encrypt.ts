import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { ReplicationError, errors } from '../errors.js';

// A CommonJS package without types: typed here, by what we use of it.
interface NoiseStream extends Duplex {
  readonly publicKey: Uint8Array;
  readonly remotePublicKey: Uint8Array | null;
}
interface NoiseStreamClass {
  new (isInitiator: boolean, rawStream: Duplex, options: { keyPair?: KeyPair }): NoiseStream;
  keyPair(seed?: Uint8Array): KeyPair;
}
// Loaded on first use: applications that never encrypt never load libsodium.
let loaded: NoiseStreamClass | undefined;
const secretStream = () => (loaded ??= createRequire(import.meta.url)('@hyperswarm/secret-stream') as NoiseStreamClass);

/** A static Noise key pair (Ed25519): 32-byte public key, 64-byte secret key. */
export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface EncryptOptions {
  /** Our static key pair, which peers see and may allow-list. Default: a fresh one for each connection. */
  keyPair?: KeyPair;
  /**
   * The peers let in, by static public key (a list, or a function); any other
   * peer is refused with ERR_AUTH once the Noise handshake has shown its key,
   * before a byte of replication flows. Default: any peer.
   */
  allow?: Uint8Array[] | ((remotePublicKey: Uint8Array) => boolean);
  /** How long the encrypted handshake may take, in ms; then ERR_TIMEOUT. Default 10,000. */
  handshakeTimeoutMs?: number;
}

// What a plaintext tendril peer sends first: a length, the handshake frame type (0), then the protocol name.
const PLAINTEXT_HELLO = Buffer.from([0, 7, ...Buffer.from('tendril')]);

/** A new static key pair for `encrypt` (from the system's CSPRNG, or from a 32-byte seed). */
export function encryptionKeyPair(seed?: Uint8Array): KeyPair {
  return secretStream().keyPair(seed);
}

/**
 * Runs a connection inside a Noise channel (the XX pattern, then libsodium's
 * secretstream: every message encrypted and authenticated), by
 * `@hyperswarm/secret-stream`. Calls `ready(plaintext, remotePublicKey)`
 * once the handshake is done and the peer is allowed; pipe the plaintext
 * side to a replication stream there. Anything wrong (a plaintext peer, a
 * tampered or truncated message, a peer not on the allow-list) destroys
 * the connection and reports a coded ERR_AUTH to `failed`.
 */
export function encrypt(
  raw: Duplex,
  isInitiator: boolean,
  options: EncryptOptions,
  ready: (plaintext: Duplex, remotePublicKey: Uint8Array) => void,
  failed: (err: ReplicationError) => void,
): void {
  let reported = false;
  let secure: NoiseStream | undefined;
  const fail = (err: ReplicationError) => {
    if (!reported) failed(err);
    reported = true;
    clearTimeout(timer);
    secure?.destroy();
    raw.destroy();
  };
  const timer = setTimeout(() => {
    if (!secure?.remotePublicKey) fail(errors.timeout('the encrypted handshake did not complete in time'));
  }, options.handshakeTimeoutMs ?? 10_000);
  timer.unref?.();
  // A peer that hangs up in the middle of the Noise handshake never proved anything.
  raw.once('close', () => {
    if (!secure?.remotePublicKey) fail(errors.auth('the peer closed before the encrypted handshake completed'));
  });
  raw.on('error', () => {}); // reported as the failure of the channel
  if (isInitiator) return start();
  // The responder looks at the first bytes: a plaintext tendril peer is told so at once, not after a timeout.
  raw.once('readable', () => {
    const first = raw.read() as Buffer | null;
    if (first && first.indexOf(PLAINTEXT_HELLO) >= 1 && first.indexOf(PLAINTEXT_HELLO) <= 3) {
      fail(errors.auth('a plaintext peer, where encryption is required'));
      return;
    }
    if (first) raw.unshift(first);
    start();
  });

  function start(): void {
    const SecretStream = secretStream();
    secure = new SecretStream(isInitiator, raw, { keyPair: options.keyPair });
    wire(secure);
  }

  function wire(secure: NoiseStream): void {
    secure.on('error', (err: Error) => fail(err instanceof ReplicationError ? err : errors.auth(`encrypted channel failed: ${err.message}`)));
    secure.once('connect', () => {
      clearTimeout(timer);
      const remote = secure.remotePublicKey!;
      if (!allowed(options.allow, remote)) {
        fail(errors.auth(`peer ${Buffer.from(remote).toString('hex').slice(0, 16)}... is not on the allow-list`));
        return;
      }
      ready(secure, remote);
    });
  }
}

function allowed(allow: EncryptOptions['allow'], remote: Uint8Array): boolean {
  if (allow === undefined) return true;
  if (typeof allow === 'function') return allow(remote);
  return allow.some((key) => Buffer.compare(Buffer.from(key), Buffer.from(remote)) === 0);
}
