/**
 * A member's short reference in digests: 48 bits of a hash of its id and
 * generation, so one life of one node is named in 6 bytes instead of its id
 * string and generation (about 20 bytes for `host:port` and a clock).
 *
 * Every node computes the same reference for the same life, so nothing has
 * to be agreed first. Two lives that share a reference are *ambiguous*: a
 * node that holds both (or sees one reference twice in a digest) never acts
 * on that reference, and sends and receives those members as full deltas
 * instead, which carry the id. What goes unnoticed is a collision between a
 * member only the sender holds and another only the receiver holds; with
 * 48 bits, at 1,000 members, that is about one join in 10^11 (32 bits would
 * be one in 4 million, too often for a membership).
 */
export function memberRef(id: string, generation: number): { ref: number; refCheck: number } {
  const low = generation % 0x4000000;
  const high = Math.floor(generation / 0x4000000);
  // Two FNV-1a passes with different offsets over the id's UTF-16 code units and the generation's two 26-bit halves.
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  a = Math.imul(Math.imul(a ^ low, 0x01000193) ^ high, 0x01000193);
  b = Math.imul(Math.imul(b ^ high, 0x01000193) ^ low, 0x01000193);
  // Two small integers rather than one 48-bit number: cheap map keys, and no boxed doubles.
  return { ref: fmix(a) | 0, refCheck: fmix(b) & 0xffff };
}

/** The murmur3 finalizer, so near ids and consecutive generations spread over all bits. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Values by member reference: keyed by its 32-bit part, with its 16-bit
 * check compared on lookup. Two values whose 32-bit parts meet make that
 * key *ambiguous*: `get` answers null for it, and callers fall back to ids.
 */
export class RefTable<V> {
  private readonly map = new Map<number, V | null>();

  constructor(
    private readonly refOf: (value: V) => number,
    private readonly checkOf: (value: V) => number,
  ) {}

  add(value: V): void {
    const key = this.refOf(value);
    this.map.set(key, this.map.has(key) ? null : value);
  }

  /** The value named by (`ref`, `check`); undefined if none; null if the key is ambiguous. */
  get(ref: number, check: number): V | null | undefined {
    const value = this.map.get(ref);
    if (value === null) return null;
    return value !== undefined && this.checkOf(value) === check ? value : undefined;
  }
}
