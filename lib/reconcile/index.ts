/**
 * Rateless set reconciliation (Yang, Gilad and Alizadeh, "Practical Rateless
 * Set Reconciliation", SIGCOMM 2024): one side streams coded symbols of its
 * set, the other subtracts its own and peels off the difference, in about
 * 1.35 to 1.72 symbols per differing item whatever the sizes of the sets.
 * I/O-free; the Merkle store's rateless mode (lib/merkle/rateless-session.ts)
 * puts it on the wire.
 *
 * Why our own coder rather than `@peerbit/riblt` (a WebAssembly build of the
 * authors' Rust port): it would add a WebAssembly module to load (and to
 * ship in a browser bundle) for work that is a few XORs per item, and its
 * encoder keeps its items inside the module, so a store could not keep a
 * prefix of its symbols up to date write by write (prefix.ts), which is
 * what lets a sync start without hashing the whole store. Its speed was not
 * measured here: the package is not a dependency, and this coder decodes a
 * difference of a thousand items in milliseconds (bench/reconcile.ts).
 */
export { ITEM_BYTES } from './item.js';
export { IndexSequence, MAX_INDEX } from './index-sequence.js';
export { CodedSymbols } from './coded-symbols.js';
export { Encoder } from './encoder.js';
export { Decoder, type SymbolSource } from './decoder.js';
export { SymbolPrefix, PrefixSource } from './prefix.js';
export { DifferenceSketch, HELLO_SKETCH_BUCKETS, SKETCH_BUCKETS } from './sketch.js';
export { type SymbolBatch, symbolBatchCodec, MIN_SYMBOL_BYTES } from './codec.js';
