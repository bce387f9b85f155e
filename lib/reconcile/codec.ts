import { type Codec, type DecodeState, readCount, uint, int } from '../codec/index.js';
import { errors } from '../errors.js';
import { CodedSymbols, MAX_COUNT, SYMBOL_WORDS } from './coded-symbols.js';
import { MAX_INDEX } from './index-sequence.js';

/** A run of consecutive coded symbols, the first at index `first`. */
export interface SymbolBatch {
  first: number;
  symbols: CodedSymbols;
}

/** Fixed bytes of a symbol on the wire: the 16-byte item sum and the 8-byte checksum. */
export const SYMBOL_FIXED_BYTES = SYMBOL_WORDS * 4;
/** Least bytes of one symbol on the wire: the fixed part and a one-byte count. */
export const MIN_SYMBOL_BYTES = SYMBOL_FIXED_BYTES + 1;

/**
 * Wire form of a batch: `first` and the number of symbols as varints, then
 * per symbol its sum and checksum (24 bytes, little-endian words) and its
 * count as a zig-zag varint (1 byte for the small counts of a difference,
 * 3 for symbol 0 of a million items). The index of each symbol is implied
 * by its place, so a symbol costs 25 to 28 bytes.
 *
 * Limits: the count of symbols is checked against the bytes left and
 * `limits.maxItems` before anything is allocated; a count beyond ±2^31-1
 * or a batch reaching past index 2^32 is ERR_DECODE.
 */
export const symbolBatchCodec: Codec<SymbolBatch> = {
  encodingLength({ first, symbols }) {
    let length = uint.encodingLength(first) + uint.encodingLength(symbols.length) + symbols.length * SYMBOL_FIXED_BYTES;
    for (let i = 0; i < symbols.length; i++) length += int.encodingLength(symbols.counts[i]);
    return length;
  },
  encode({ first, symbols }, state) {
    uint.encode(first, state);
    uint.encode(symbols.length, state);
    const buffer = state.buffer;
    for (let i = 0; i < symbols.length; i++) {
      const s = i * SYMBOL_WORDS;
      for (let w = 0; w < SYMBOL_WORDS; w++) {
        buffer.writeUInt32LE(symbols.words[s + w], state.offset);
        state.offset += 4;
      }
      int.encode(symbols.counts[i], state);
    }
  },
  decode(state: DecodeState) {
    const first = uint.decode(state);
    const count = readCount(state, MIN_SYMBOL_BYTES);
    if (first + count > MAX_INDEX) throw errors.decode(`coded symbols ${first}..${first + count - 1} reach past index ${MAX_INDEX}`);
    const symbols = new CodedSymbols(count);
    const buffer = state.buffer;
    for (let i = 0; i < count; i++) {
      const at = symbols.push();
      if (state.end - state.offset < SYMBOL_FIXED_BYTES) throw errors.decode('coded symbol truncated');
      const s = at * SYMBOL_WORDS;
      for (let w = 0; w < SYMBOL_WORDS; w++) {
        symbols.words[s + w] = buffer.readUInt32LE(state.offset);
        state.offset += 4;
      }
      const c = int.decode(state);
      if (c > MAX_COUNT || c < -MAX_COUNT) throw errors.decode(`coded symbol count ${c} out of range`);
      symbols.counts[at] = c;
    }
    return { first, symbols };
  },
};
