/**
 * The hash the in-memory key indexes use (the Model's key table, the sets'
 * key map): 32 bits computed in JavaScript, so an index can keep it in a
 * typed array beside the slot.
 *
 * Seeded at random per process, as V8 seeds its own string hashes: keys
 * come from peers, and with a hash anyone can compute, a peer could send
 * keys that all land in one run of an index, each lookup then walking all
 * of them (work per message growing with the store).
 */
const SEED = globalThis.crypto.getRandomValues(new Uint32Array(1))[0] | 0;

/** Where the hash of every key starts: FNV-1a's offset basis, seeded. */
export const HASH_START = SEED ^ 0x811c9dc5;
/** FNV-1a's prime: `hash = Math.imul(hash ^ unit, HASH_PRIME)` per UTF-16 unit. */
export const HASH_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 units from the seed, then MurmurHash3's finalizer so every bit reaches the low bits an index uses. */
export function hashOf(key: string): number {
  let hash = HASH_START;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), HASH_PRIME);
  return finishHash(hash);
}

/**
 * The last step of `hashOf`, for a decoder that ran the FNV steps over the
 * bytes of a key as it read them (one byte per unit: latin1 keys).
 */
export function finishHash(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}
