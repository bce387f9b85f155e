// The browser's stand-in for `node:crypto` (package.json "browser" field):
// replica ids and client ids come from the Web Crypto random source.

/** `n` random bytes from the platform's CSPRNG, as Node's `randomBytes`. */
export function randomBytes(n: number): Buffer {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n)));
}

// Ed25519 verification in the browser is @noble/curves' (lib/scuttlebutt/signing.ts falls back to it).
export const verify = undefined;
export const createPublicKey = undefined;
// SHA-256 of the Merkle tree in the browser is @noble/hashes' (lib/merkle/hash.ts falls back to it).
export const hash = undefined;
