import { ed25519 } from '@noble/curves/ed25519.js';
import { errors } from '../errors.js';

/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * Ed25519 for signed logs. An author's replica id is its public key in
 * lowercase hex, so an entry names the key that must have signed it and no
 * directory of keys is needed: a relay can pass entries on, never forge or
 * change them. Verification is strict (RFC 8032, not ZIP 215) and refuses
 * small-order keys, which would verify signatures nobody made.
 */
export const signing = {
  /** A fresh secret key (32 bytes), from the system's CSPRNG. */
  secretKey: (): Uint8Array => ed25519.utils.randomSecretKey(),

  /** The replica id of the author holding `secretKey`: its public key in hex. */
  idOf(secretKey: Uint8Array): string {
    if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw errors.invalidArgument('an Ed25519 secret key is 32 bytes');
    return Buffer.from(ed25519.getPublicKey(secretKey)).toString('hex');
  },

  sign: (message: Uint8Array, secretKey: Uint8Array): Uint8Array => ed25519.sign(message, secretKey),

  /** ERR_AUTH unless `signature` is `author`'s (a hex public key) over `message`. */
  verify(signature: Uint8Array | undefined, message: Uint8Array, author: string): void {
    if (!HEX_KEY.test(author)) throw errors.auth(`signed entries need an author id that is an Ed25519 public key in hex, not ${JSON.stringify(author.slice(0, 80))}`);
    if (signature === undefined || signature.length !== SIGNATURE_BYTES) throw errors.auth('entry is not signed');
    const publicKey = Buffer.from(author, 'hex');
    let valid = false;
    try {
      valid = !ed25519.Point.fromBytes(publicKey).isSmallOrder() && ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      valid = false; // not a point on the curve
    }
    if (!valid) throw errors.auth(`entry of ${author.slice(0, 16)}... is not signed by its author`);
  },
};
