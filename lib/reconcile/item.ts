/**
 * What the coder reconciles: items of a fixed 16 bytes, each the hash of one
 * entry (its key and its version), so two replicas hold the same item
 * exactly when they hold the same version of the same key.
 *
 * Why 16 bytes: an item has to be unique among the items of both sets, or
 * two different entries cancel out unseen. With 128 random bits, a
 * collision among a billion items needs a 2^-68 coincidence. Fewer bytes
 * would shrink every coded symbol (the sum is most of a symbol) but 8 bytes
 * already collide once in about 4 billion pairs, which a store of a million
 * keys reaches after a few thousand syncs. A user of the coder may put
 * structure into the 16 bytes (the Merkle store puts its key's 4-byte
 * position first, so an item leads straight to its key); only the
 * uniqueness matters here.
 *
 * Items are handled as four 32-bit words (little-endian), so summing two
 * items is four XORs.
 */
export const ITEM_BYTES = 16;
export const ITEM_WORDS = 4;

/** Reads an item's four words into `out` at `at`. */
export function readItem(item: Uint8Array, out: Uint32Array, at: number): void {
  if (item.length !== ITEM_BYTES) throw new RangeError(`an item is ${ITEM_BYTES} bytes, got ${item.length}`);
  for (let w = 0; w < ITEM_WORDS; w++) {
    const b = w * 4;
    out[at + w] = (item[b] | (item[b + 1] << 8) | (item[b + 2] << 16) | (item[b + 3] << 24)) >>> 0;
  }
}

/** The item whose four words are at `words[at..]`, as bytes. */
export function itemBytes(words: Uint32Array, at: number): Uint8Array {
  const out = new Uint8Array(ITEM_BYTES);
  for (let w = 0; w < ITEM_WORDS; w++) {
    const v = words[at + w];
    out[w * 4] = v & 0xff;
    out[w * 4 + 1] = (v >>> 8) & 0xff;
    out[w * 4 + 2] = (v >>> 16) & 0xff;
    out[w * 4 + 3] = v >>> 24;
  }
  return out;
}

/** Murmur3's 32-bit finalizer: every input bit flips about half the output bits. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 64-bit checksum of an item, as two 32-bit words written to `out[at]`
 * and `out[at + 1]`.
 *
 * A coded symbol carries the XOR of its items' checksums beside the XOR of
 * the items; a symbol whose count is ±1 holds a single item exactly when
 * the checksum of its sum equals its checksum. That needs a hash that is
 * not linear under XOR (else h(a ^ b ^ c) = h(a) ^ h(b) ^ h(c) and a mixed
 * symbol would pass), which the multiplications of `mix32` give. 64 bits,
 * as in the paper: a mixed symbol passes with probability 2^-64, and a
 * decoding checks a few symbols per differing item. A cryptographic hash
 * is not needed: the items are already hashes, and honest replicas only
 * need protection from accidents (an attacker who can write entries can
 * write any value anyway).
 */
export function checksum(words: Uint32Array, at: number, out: Uint32Array, outAt: number): void {
  let a = 0x2545f491;
  let b = 0x9e3779b9;
  for (let w = 0; w < ITEM_WORDS; w++) {
    a = mix32(a ^ words[at + w]);
    b = mix32((b + words[at + ITEM_WORDS - 1 - w]) | 0);
  }
  out[outAt] = a;
  out[outAt + 1] = mix32(a ^ b);
}
