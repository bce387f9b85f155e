import { errors } from '../errors.js';
import type { Codec, DecodeState, EncodeState } from '../codec/index.js';
import { writeUint } from '../codec/primitives.js';
import { HASH_PRIME, HASH_START, finishHash } from '../key-hash.js';
import type { DotMapOptions, DotTable } from './dot-store.js';
import { type ElementDots, MAX_PACKED_SEQ, REPLICA_SLOTS, dotCountOf, elementDots, loneDot, replicaIdOf } from './element-dots.js';
import type { HashingKeyCodec } from './element-keys.js';

/**
 * Entries read or written per call of the inner loops. A full sync into a
 * fresh process runs these loops before they are optimized, once per
 * piece of about a thousand entries: a loop that runs long in one call is
 * compiled twice (once for later calls, once more to enter the running
 * loop, "on-stack replacement"), and short runs leave only the first.
 */
const RUN = 64;
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
  if (keys.length === 0) return 0;
  // The first entry by the general decoders: its dot is the first of its
  // replica in the delta, so its seq is written whole (a long varint),
  // which `readRun` leaves to them. Read here, every piece alike, the
  // loop's compiled code never meets a step it has not seen run (V8
  // would throw it away there and compile it again).
  keys[0] = key.decodeHashed(state, hashes, 0);
  const first = elementDots.decode(state, table);
  if (elementDots.isEmpty(first)) throw errors.decode('empty entry in a map delta');
  values[0] = first;
  let dots = dotCountOf(first);
  // The next dots of its replica are taken by `readRun` itself, where the table lets them.
  const taking: Taking = { position: -1, last: 0, runs: NO_RUNS, low: 0, high: 0, tag: 0 };
  if (typeof first === 'number') take(taking, table, table.readPosition);
  // In runs of at most RUN entries, each a call of its own (see RUN).
  for (let i = 1; i < keys.length; i += RUN) dots += readRun(state, table, key, keys, values, hashes, i, i + RUN < keys.length ? i + RUN : keys.length, taking);
  return dots;
}

/**
 * The replica whose next dots `readRun` takes itself, and what the table
 * keeps for it (see `DotTable.nextReads`), from one run to the next;
 * `position` -1 while none.
 */
interface Taking {
  position: number;
  last: number;
  runs: number[];
  low: number;
  high: number;
  /** The replica's number in packed dots (see element-dots.ts). */
  tag: number;
}

/** `runs` while no replica's dots are taken: never read. */
const NO_RUNS = [0];

/** Makes the replica at `position` (whose dot the table just read) the one whose next dots `readRun` takes, if the table lets it. */
function take(taking: Taking, table: DotTable, position: number): void {
  const next = table.nextReads(position);
  const tag = table.tags[position];
  if (next === undefined || tag < 0) {
    taking.position = -1;
    return;
  }
  taking.position = position;
  taking.last = next.last;
  taking.runs = next.runs;
  taking.low = next.low;
  taking.high = next.high < MAX_PACKED_SEQ ? next.high : MAX_PACKED_SEQ;
  taking.tag = tag;
}

/** `readSetEntries` of entries `from` to `to` (not included); returns how many dots they hold. */
function readRun(
  state: DecodeState,
  table: DotTable,
  key: HashingKeyCodec,
  keys: string[],
  values: ElementDots[],
  hashes: Int32Array,
  from: number,
  to: number,
  taking: Taking,
): number {
  const buf = state.buffer;
  const end = state.end;
  const plain = key.plainJson;
  let dots = 0;
  // `taking`, in locals for the loop.
  let position = taking.position;
  let last = taking.last;
  let runs = taking.runs;
  let low = taking.low;
  let high = taking.high;
  let tag = taking.tag;
  for (let i = from; i < to; i++) {
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
      const p = buf[at + 1];
      const z = buf[at + 2];
      state.offset = at + 3;
      dots++;
      // The next dot of the replica of the last one, ascending, within the
      // context range that holds the last one and small enough to pack:
      // accepted here as `accept` would, and packed as `loneDot` would.
      const seq = last + z / 2;
      if (p === position && (z & 1) === 0 && seq > runs[runs.length - 1] && seq >= low && seq <= high) {
        if (seq === runs[runs.length - 1] + 1) runs[runs.length - 1] = seq;
        else runs.push(seq, seq);
        last = seq;
        values[i] = seq * REPLICA_SLOTS + tag;
        continue;
      }
      // Anything else through the table, which then tells whether that replica's next dots can be taken here.
      if (position >= 0) table.setLastRead(position, last);
      values[i] = loneDot(table, p, z);
      take(taking, table, p);
      position = taking.position;
      last = taking.last;
      runs = taking.runs;
      low = taking.low;
      high = taking.high;
      tag = taking.tag;
      continue;
    }
    if (position >= 0) {
      table.setLastRead(position, last);
      position = -1;
    }
    const s = elementDots.decode(state, table);
    if (elementDots.isEmpty(s)) throw errors.decode('empty entry in a map delta');
    values[i] = s;
    dots += dotCountOf(s);
  }
  if (position >= 0) table.setLastRead(position, last);
  taking.position = position;
  taking.last = last;
  return dots;
}

/** Keys up to this long are written a byte at a time: cheaper than a call into the buffer's writer. */
const SHORT_WRITE = 32;

/**
 * Writes a flat set's entries (keys, then each element's dots) exactly as
 * `key.encode` and `elementDots.encode` would, the usual entry (a short key
 * and a dot held as a number) without a call per part; the position of
 * the last replica is remembered, not looked up per dot.
 */
export function writeSetEntries(keys: readonly string[], values: readonly ElementDots[], table: DotTable, key: Codec<string>, state: EncodeState): void {
  writeEntries(keys, values, table, key, state, false);
}

/** What `scratch` is kept at, at most: a buffer grown past it for a large piece goes with that piece. */
const SCRATCH_BYTES = 1 << 16;
/** Where `encodeSetEntries` writes: a piece is copied out of it at its size. */
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

/**
 * A flat set's entries written with a measuring `table` (which numbers
 * the replicas as it meets them and records the context), as
 * `writeSetEntries` writes them with the table of that context: their
 * bytes, in an array of their own.
 */
export function encodeSetEntries(keys: readonly string[], values: readonly ElementDots[], table: DotTable): Uint8Array {
  const state = { buffer: scratch, offset: 0 };
  writeEntries(keys, values, table, undefined, state, true);
  // A copy (not zero-filled first): the scratch is written over by the next piece.
  const out = Buffer.allocUnsafe(state.offset);
  state.buffer.copy(out, 0, 0, state.offset);
  return out;
}

/**
 * The loop of both: with `grow`, the buffer is made larger (for this piece
 * only) whenever an entry's worst case may not fit; a key longer than
 * SHORT_WRITE goes through `key` if given, else is written as the latin1
 * bytes it is (an `ElementKeys` key).
 */
function writeEntries(
  keys: readonly string[],
  values: readonly ElementDots[],
  table: DotTable,
  key: Codec<string> | undefined,
  state: EncodeState,
  grow: boolean,
): void {
  // In runs of at most RUN entries, each a call of its own (see RUN).
  for (let j = 0; j < keys.length; j += RUN) writeRun(keys, values, table, key, state, grow, j, j + RUN < keys.length ? j + RUN : keys.length);
}

/** `writeEntries` of entries `from` to `to` (not included). */
function writeRun(
  keys: readonly string[],
  values: readonly ElementDots[],
  table: DotTable,
  key: Codec<string> | undefined,
  state: EncodeState,
  grow: boolean,
  from: number,
  to: number,
): void {
  let buf = state.buffer;
  const measures = table.measures;
  // The replica number and position of the last packed dot written, what
  // `DotTable.writeAt` keeps for that position (its last seq, the ranges
  // measured), while its dots are written here; -1 while none is.
  let lastNumber = -1;
  let position = -1;
  let last = 0;
  let ranges: number[] | undefined;
  for (let j = from; j < to; j++) {
    const k = keys[j];
    const s = values[j];
    if (grow) {
      // The worst case: the key, a count, and per dot a position and a seq difference of any safe size.
      const room = k.length + (typeof s === 'number' ? 1 + 3 + 8 : 5 + 13 * dotCountOf(s));
      if (state.offset + room > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(2 * buf.length, state.offset + room));
        buf.copy(grown, 0, 0, state.offset);
        state.buffer = buf = grown;
      }
    }
    if (k.length <= SHORT_WRITE) {
      let at = state.offset;
      for (let c = 0; c < k.length; c++) buf[at++] = k.charCodeAt(c);
      state.offset = at;
    } else if (key !== undefined) key.encode(k, state);
    else state.offset += buf.write(k, state.offset, k.length, 'latin1');
    if (typeof s !== 'number') {
      if (position >= 0) table.setLastWritten(position, last);
      lastNumber = position = -1;
      elementDots.encode(s, table, state);
      continue;
    }
    // A packed dot taken apart in place (see element-dots.ts) and written as `writeAt` writes it, no call per entry.
    const n = s % REPLICA_SLOTS;
    if (n !== lastNumber) {
      if (position >= 0) table.setLastWritten(position, last);
      const i = table.positionOf(replicaIdOf(n));
      if (i === undefined) throw errors.invalidArgument(`dot of ${replicaIdOf(n)} outside the delta's context`);
      lastNumber = n;
      position = i;
      last = table.lastWritten(i);
      ranges = measures ? table.measuredRangesOf(i) : undefined;
    }
    const seq = (s - n) / REPLICA_SLOTS;
    const d = seq - last;
    const z = d >= 0 ? d * 2 : -d * 2 - 1;
    let at = state.offset;
    buf[at++] = 1;
    // Both one byte: the common case, without the general writer.
    if (position < 0x80 && z < 0x80) {
      buf[at++] = position;
      buf[at++] = z;
    } else {
      at = writeUint(buf, at, position);
      at = writeUint(buf, at, z);
    }
    state.offset = at;
    last = seq;
    if (measures) {
      if (ranges !== undefined && seq === ranges[ranges.length - 1] + 1) ranges[ranges.length - 1] = seq;
      else ranges = table.recordAt(position, seq);
    }
  }
  if (position >= 0) table.setLastWritten(position, last);
}

/** The options of a standalone set's store: read flat, and its entries read, written and measured by the loops above. */
export const setWire: DotMapOptions = {
  flatDecode: true,
  readEntries: readSetEntries,
  writeEntries: writeSetEntries,
  encodeEntries: encodeSetEntries,
};
