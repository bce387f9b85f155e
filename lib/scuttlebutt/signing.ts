import { ed25519 } from '@noble/curves/ed25519.js';
import { type KeyObject, createPublicKey, verify as nativeVerify } from 'node:crypto';
import { errors } from '../errors.js';

/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
const HEX_KEY = /^[0-9a-f]{64}$/;
// The order of the Ed25519 group: a signature's S must be below it (RFC 8032, 5.1.7).
const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
// An Ed25519 public key as SPKI DER: this prefix, then the 32 key bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Authors whose key has passed the checks, kept up to this many (then forgotten and checked again). */
const KEY_CACHE_LIMIT = 4096;

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
    if (!verifiers.fast(signature, message, author)) throw errors.auth(`entry of ${author.slice(0, 16)}... is not signed by its author`);
  },
};

/**
 * Two verifiers that accept exactly the same signatures (a test holds them
 * to it). `strict` is @noble/curves alone, as the browser runs it. `fast`
 * is the one used: in Node it checks the key as `strict` does (canonical
 * encoding, not of small order: once per author) and S below the group
 * order, and leaves the equation to OpenSSL, which is about ten times
 * faster; that is what makes checking every entry loaded from disk cheap.
 * Both use the cofactorless equation and compare R byte for byte.
 */
export const verifiers = {
  strict(signature: Uint8Array, message: Uint8Array, author: string): boolean {
    const publicKey = Buffer.from(author, 'hex');
    try {
      return !ed25519.Point.fromBytes(publicKey).isSmallOrder() && ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false; // not a point on the curve
    }
  },

  fast(signature: Uint8Array, message: Uint8Array, author: string): boolean {
    // The browser's stand-in for node:crypto has no verify.
    if (typeof nativeVerify !== 'function' || typeof createPublicKey !== 'function') return verifiers.strict(signature, message, author);
    const key = checkedKey(author);
    if (key === undefined) return false;
    if (littleEndian(signature.subarray(32)) >= GROUP_ORDER) return false;
    return nativeVerify(null, message, key, signature);
  },
};

const checkedKeys = new Map<string, KeyObject | undefined>();

/** The author's key for OpenSSL, or undefined if `strict` would refuse every signature under it. */
function checkedKey(author: string): KeyObject | undefined {
  if (checkedKeys.has(author)) return checkedKeys.get(author);
  const publicKey = Buffer.from(author, 'hex');
  let key: KeyObject | undefined;
  try {
    if (!ed25519.Point.fromBytes(publicKey).isSmallOrder()) key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    key = undefined; // not a canonical encoding of a point on the curve
  }
  if (checkedKeys.size >= KEY_CACHE_LIMIT) checkedKeys.clear();
  checkedKeys.set(author, key);
  return key;
}

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}
