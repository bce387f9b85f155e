/**
 * A member's short reference in digests: 32 bits of a hash of its id and
 * generation, so one life of one node is named in 4 bytes instead of its id
 * string and generation (about 20 bytes for `host:port` and a clock).
 *
 * Every node computes the same reference for the same life, so nothing has
 * to be agreed first. Two lives that share a reference are *ambiguous*: a
 * node that holds both (or sees one reference twice in a digest) never acts
 * on that reference, and sends and receives those members as full deltas
 * instead, which carry the id. Only a collision between a member the sender
 * holds and another the receiver holds, each unknown to the other side, goes
 * unnoticed: at 1,000 members about one exchange in 10^7 while a member is
 * joining, and its effect is one heartbeat credited to the wrong member, or
 * one member not offered in one exchange. Digests carry no data, so nothing
 * is ever lost by it.
 */
export function memberRef(id: string, generation: number): number {
  // FNV-1a over the id's UTF-16 code units, then the generation's two 26-bit halves.
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (generation % 0x4000000), 0x01000193);
  h = Math.imul(h ^ Math.floor(generation / 0x4000000), 0x01000193);
  // The murmur3 finalizer, so near ids and consecutive generations spread over all 32 bits.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  // Signed: small integers are cheaper map keys than numbers past 2^31.
  return (h ^ (h >>> 16)) | 0;
}
