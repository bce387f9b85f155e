import { errors } from '../errors.js';
import type { DecodeState } from '../codec/index.js';
import { HASH_PRIME, HASH_START, finishHash } from '../key-hash.js';
import type { DotTable } from './dot-store.js';
import { type ElementDots, dotCountOf, elementDots, loneDot } from './element-dots.js';
import type { HashingKeyCodec } from './element-keys.js';

/** Longest plain key read here (its length prefix is then one byte). */
const MAX_PLAIN = 0x7f;
/** One array of each length, reused: the character codes of a key, made into a string by one `String.fromCharCode` call. */
const codes: number[][] = Array.from({ length: MAX_PLAIN + 2 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Reads the `count` entries of a standalone set's delta (a key, then its
 * element's dots) into `keys`, `values` and `hashes`, and returns how many
 * dots they hold. Reads exactly what the map's own loop (the key codec's
 * `decodeHashed`, then `elementDots.decode`) reads, with the same checks
 * and errors, but the usual entry (a plain JSON string key of at most 127
 * bytes, one dot, both of its varints one byte) in one loop without a call
 * per part: a full sync into a fresh process runs mostly before the
 * compiler has inlined those calls, so each layer costs there. Any other
 * entry goes to those decoders, from its first byte.
 */
export function readSetEntries(
  state: DecodeState,
  table: DotTable,
  key: HashingKeyCodec,
  keys: string[],
  values: ElementDots[],
  hashes: Int32Array,
): number {
  const buf = state.buffer;
  const end = state.end;
  const plain = key.plainJson;
  let dots = 0;
  for (let i = 0; i < keys.length; i++) {
    // The key: see plainJsonString in element-keys.ts, whose key and hash this is.
    const start = state.offset;
    const length = start < end ? buf[start] : 0;
    let k: string | undefined;
    if (plain && length >= 2 && length <= MAX_PLAIN && start + 1 + length <= end && buf[start + 1] === 0x22 && buf[start + length] === 0x22) {
      const chars = codes[length + 1];
      chars[0] = length;
      chars[1] = 0x22;
      chars[length] = 0x22;
      let hash = Math.imul(Math.imul(HASH_START ^ length, HASH_PRIME) ^ 0x22, HASH_PRIME);
      const stop = start + length;
      let j = start + 2;
      for (; j < stop; j++) {
        const c = buf[j];
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
        hash = Math.imul(hash ^ c, HASH_PRIME);
        chars[j - start] = c;
      }
      if (j === stop) {
        hashes[i] = finishHash(Math.imul(hash ^ 0x22, HASH_PRIME));
        state.offset = stop + 1;
        k = String.fromCharCode.apply(null, chars);
      }
    }
    keys[i] = k === undefined ? key.decodeHashed(state, hashes, i) : k;
    // The dots: a count of one, then a dot as two one-byte varints (see elementDots.decode and DotTable.readSeq).
    const at = state.offset;
    if (at + 2 < end && buf[at] === 1 && buf[at + 1] < 0x80 && buf[at + 2] < 0x80) {
      state.offset = at + 3;
      values[i] = loneDot(table, buf[at + 1], buf[at + 2]);
      dots++;
      continue;
    }
    const s = elementDots.decode(state, table);
    if (elementDots.isEmpty(s)) throw errors.decode('empty entry in a map delta');
    values[i] = s;
    dots += dotCountOf(s);
  }
  return dots;
}
