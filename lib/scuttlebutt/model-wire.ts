import type { Timestamp } from '../clock/index.js';
import { type Codec, type DecodeState, type EncodeState, readCount, string, uint } from '../codec/index.js';
import { decodeState, need } from '../codec/codec.js';
import { checkJsonDepth } from '../codec/values.js';
import { checkCanonicalJson } from '../codec/canonical.js';
import { decodeUtf8, uintLength, utf8Length, writeUint, writeUtf8 } from '../codec/primitives.js';
import { KeyTable } from './key-table.js';
import { errors } from '../errors.js';
import { type ScuttlebuttMessage, UPDATES_TAG, readStamp } from './messages.js';
import type { Update } from './update.js';

/** Longest key accepted, in bytes. */
export const MAX_KEY_BYTES = 4096;

/**
 * A set or a delete of one key. Values are kept as their JSON text: it is
 * what goes on the wire and to disk, it costs less memory than a parsed
 * object, and `get` hands out a fresh copy that no caller can mutate
 * behind the replica's back. `json === undefined` marks a delete.
 */
export interface ModelUpdate extends Update {
  readonly key: string;
  readonly json: string | undefined;
}

/**
 * An updates message of the Model as decoded, in columns: each update's
 * timestamp, and where its key and value lie in the frame it came in (its
 * UTF-8 bytes, checked as the reference decoder checks them), without an
 * object or a string per update. The session applies it before the frame's
 * buffer serves again: the key table copies the bytes it keeps.
 */
export interface ModelColumns {
  type: 'columns';
  source: string;
  count: number;
  /**
   * Each update's timestamp, increasing. The arrays may be longer than
   * `count` (a decoder reuses them): read the first `count`. A Float64Array,
   * as the key table's own timestamps and a local write's are: code that
   * reads timestamps from all of them sees one kind of array, and V8
   * optimizes it once.
   */
  stamps: Float64Array;
  /** The frame's bytes, which the ranges below are in. */
  buffer: Buffer;
  /** Each key's bytes: `buffer[keyStarts[i], keyEnds[i])`. */
  keyStarts: Int32Array;
  keyEnds: Int32Array;
  /** Each value's JSON text: `buffer[jsonStarts[i], jsonEnds[i])`; a start of -1 is a delete. */
  jsonStarts: Int32Array;
  jsonEnds: Int32Array;
  /** Where the message's source, count and updates start in `buffer`. */
  start: number;
  /** The encoded size of the source, the count and the updates, as decoded. */
  bytes: number;
}

/** The key of the `i`th update of decoded columns. */
export function columnsKey(m: ModelColumns, i: number): string {
  return decodeUtf8(m.buffer, m.keyStarts[i], m.keyEnds[i]);
}

/** The value (JSON text, or undefined for a delete) of the `i`th update of decoded columns. */
export function columnsJson(m: ModelColumns, i: number): string | undefined {
  return m.jsonStarts[i] < 0 ? undefined : decodeUtf8(m.buffer, m.jsonStarts[i], m.jsonEnds[i]);
}

/** What a Model's session sends and receives: the engine's messages, and updates in columns (received) or written from them (sent). */
export type ModelMessage = ScuttlebuttMessage<ModelUpdate> | ModelColumns | WrittenColumns;

// A value's JSON text goes with a length of text bytes + 1, so that 0 can mean "deleted".

/** The encoded size of one update's key and value (its timestamp apart). */
export function entryLength(key: string, json: string | undefined): number {
  const valueBytes = json === undefined ? 0 : utf8Length(json) + 1;
  return string.encodingLength(key) + uintLength(valueBytes) + (valueBytes && valueBytes - 1);
}

export function encodeEntry(key: string, json: string | undefined, state: EncodeState): void {
  string.encode(key, state);
  if (json === undefined) {
    state.buffer[state.offset++] = 0;
    return;
  }
  // The text is canonical JSON (JSON.stringify's output, or checked on arrival): no lone surrogates.
  const length = utf8Length(json);
  state.offset = writeUint(state.buffer, state.offset, length + 1);
  state.offset += writeUtf8(state.buffer, json, state.offset, length);
}

/** A peer's key, at most MAX_KEY_BYTES. */
export function decodeKey(state: DecodeState): string {
  const keyStart = state.offset;
  const key = string.decode(state);
  if (state.offset - keyStart > MAX_KEY_BYTES + 2) throw errors.limit('key bytes', state.offset - keyStart, MAX_KEY_BYTES);
  return key;
}

/** A peer's value: undefined for a delete, else JSON text checked canonical and within the depth limit. */
export function decodeJson(state: DecodeState): string | undefined {
  const marker = uint.decode(state);
  if (marker === 0) return undefined;
  const length = marker - 1;
  if (length > state.limits.maxBytes) throw errors.limit('value bytes', length, state.limits.maxBytes);
  need(state, length);
  const start = state.offset;
  state.offset += length;
  const json = decodeUtf8(state.buffer, start, state.offset);
  if (!isPlainAsciiString(state.buffer, start, state.offset)) validateJson(json, state.limits.maxDepth);
  return json;
}

/**
 * True if the bytes are a JSON string of printable ASCII with no escapes,
 * the commonest value: canonical as it stands. One pass over bytes the
 * decoder has just read, cheaper than a regular expression over the string.
 */
function isPlainAsciiString(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2 || buf[start] !== 0x22 || buf[end - 1] !== 0x22) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const byte = buf[i]!;
    if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) return false;
  }
  return true;
}

// A JSON string with no escapes or control characters.
const PLAIN_JSON_STRING = /^"[^"\\\u0000-\u001f]*"$/;

/** Validates a peer's JSON text once on arrival, so that `get` can never throw. */
function validateJson(json: string, maxDepth: number): void {
  if (PLAIN_JSON_STRING.test(json)) return;
  checkJsonDepth(json, maxDepth);
  checkCanonicalJson(json);
}

/** How a `ModelUpdate` travels inside the engine's updates message (the reference codec, messages.ts). */
export const modelUpdateCodec = {
  encodingLength: (u: ModelUpdate): number => entryLength(u.key, u.json),
  encode: (u: ModelUpdate, state: EncodeState): void => encodeEntry(u.key, u.json, state),
  decode(state: DecodeState, source: string, ts: Timestamp): ModelUpdate {
    const key = decodeKey(state);
    return { source, ts, key, json: decodeJson(state) };
  },
};

/**
 * Writes `s` at `offset` as its length plus `extra` in one byte, then its
 * bytes, if it is ASCII and that length fits a one-byte varint; returns the
 * offset after it, or -1 (and -1 stays -1) if it does not (the caller then
 * writes the entry the general way, over whatever this wrote).
 */
function writeShortAscii(buffer: Uint8Array, offset: number, s: string, extra: number): number {
  const length = s.length;
  if (offset < 0 || length + extra > 0x7f) return -1;
  buffer[offset++] = length + extra;
  for (let i = 0; i < length; i++) {
    const code = s.charCodeAt(i);
    if (code > 0x7f) return -1;
    buffer[offset + i] = code;
  }
  return offset + length;
}

/** Columns no longer used, for the decoder to fill again (see `recycle`). */
type Spare = Pick<ModelColumns, 'stamps' | 'keyStarts' | 'keyEnds' | 'jsonStarts' | 'jsonEnds'>;
const SPARES = 4;

/** Arrays for `count` updates: spare ones if long enough, else new ones with room for messages a little larger. */
function takeSpare(spares: Spare[], count: number): Spare {
  const spare = spares.pop();
  if (spare !== undefined && spare.stamps.length >= count) return spare;
  const room = Math.max(16, 2 ** Math.ceil(Math.log2(count)));
  return makeSpare(new Float64Array(room), new Int32Array(room), new Int32Array(room), new Int32Array(room), new Int32Array(room));
}

/** Spare columns, made in one place so that every one has the same shape (the decoder's compiled code expects one). */
function makeSpare(stamps: Float64Array, keyStarts: Int32Array, keyEnds: Int32Array, jsonStarts: Int32Array, jsonEnds: Int32Array): Spare {
  return { stamps, keyStarts, keyEnds, jsonStarts, jsonEnds };
}

/**
 * An updates message to send, written as its updates were taken (see
 * `ColumnsWriter`): the same bytes as an updates message of objects, ready
 * to be copied into a frame. A session takes the updates from the key
 * table and writes them at once, in one pass over each string, instead of
 * measuring them, copying them into columns and then writing those.
 */
export interface WrittenColumns {
  type: 'written';
  source: string;
  count: number;
  /** The last update's timestamp, in an array of its own (a double held in a field or passed around is boxed). */
  last: Float64Array;
  /** Each update's timestamp delta, key and value, in `entries[0, length)`; undefined once encoded (the buffer serves again). */
  entries: Buffer | undefined;
  length: number;
  /** The encoded size of the source, the count and the entries. */
  bytes: number;
}

/** Room for one short ASCII entry: a timestamp delta (at most 8 bytes) and two strings of at most 127 bytes with a byte of length each. */
const SHORT_ENTRY_ROOM = 8 + 2 * 128;
/** A writer's first buffer when none is spare; it doubles as needed, and the grown one serves again. */
const FIRST_WRITER_BYTES = 4096;
/** Largest writer's buffer kept to serve again: a message is cut at 32 KiB, so only one with a large value outgrows it, and that buffer goes. */
const SPARE_WRITER_BYTES = 64 * 1024;

/**
 * Writes the updates of one source, in timestamp order, straight into the
 * bytes of an updates message (after its source and count, which are
 * written with the frame). Its buffer comes from the codec's spares and
 * goes back to them once the message is encoded.
 */
export class ColumnsWriter {
  count = 0;
  /** The last timestamp written (0 before any), in an array so that it stays an unboxed double. */
  readonly last = new Float64Array(1);
  private offset = 0;
  private readonly state: EncodeState;

  constructor(
    readonly source: string,
    private buffer: Buffer,
  ) {
    this.state = { buffer, offset: 0 };
  }

  /**
   * Writes the update at `stamps[at]` (newer than the last one written),
   * of `key` to `json`; returns the encoded size of its key and value (its
   * timestamp apart), as `entryLength` measures it. The timestamp is read
   * from its array: passed as a double to a call not inlined, it is boxed.
   */
  add(stamps: ArrayLike<number>, at: number, key: string, json: string | undefined): number {
    if (this.buffer.length - this.offset < SHORT_ENTRY_ROOM) this.room(SHORT_ENTRY_ROOM);
    const ts = stamps[at];
    const start = writeUint(this.buffer, this.offset, ts - this.last[0]);
    this.last[0] = ts;
    this.count++;
    // Short ASCII, the common entry, in one pass: a one-byte length, then the bytes.
    let end = writeShortAscii(this.buffer, start, key, 0);
    if (end >= 0) {
      if (json === undefined) this.buffer[end++] = 0;
      else end = writeShortAscii(this.buffer, end, json, 1);
    }
    if (end < 0) {
      // Anything else the general way, over whatever the short path wrote.
      const length = entryLength(key, json);
      this.offset = start;
      if (this.buffer.length - start < length) this.room(length);
      this.state.buffer = this.buffer;
      this.state.offset = start;
      encodeEntry(key, json, this.state);
      end = this.state.offset;
    }
    this.offset = end;
    return end - start;
  }

  /**
   * Writes the update held in `slot` of `table` (newer than the last one
   * written), copying its key and value as the bytes the table holds;
   * returns their encoded size, as `add` does.
   */
  addFrom(table: KeyTable, slot: number): number {
    const length = table.entryLength(slot);
    if (this.buffer.length - this.offset < 8 + length) this.room(8 + length);
    const stamps = table.stampPageOf(slot);
    const at = KeyTable.at(slot);
    const ts = stamps[at];
    const start = writeUint(this.buffer, this.offset, ts - this.last[0]);
    this.last[0] = ts;
    this.count++;
    this.offset = table.writeEntry(slot, this.buffer, start);
    return length;
  }

  /** The message written, which takes the buffer with it (the writer is done). */
  finish(): WrittenColumns {
    const { source, count, last, buffer, offset } = this;
    return { type: 'written', source, count, last, entries: buffer, length: offset, bytes: string.encodingLength(source) + uintLength(count) + offset };
  }

  /** Makes room for `bytes` more after `offset`, keeping what is written before it. */
  private room(bytes: number): void {
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.offset + bytes));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}

/** The updates of a written message, as objects (for a session that stops following the table with messages still unsent). */
export function writtenUpdates(m: WrittenColumns): ModelUpdate[] {
  if (m.entries === undefined) throw new Error('updates message already encoded');
  // Written here from what the replica holds: no limit to check but the bytes'.
  const state = decodeState(m.entries.subarray(0, m.length), { maxBytes: m.length, maxItems: m.count, maxDepth: Number.MAX_SAFE_INTEGER });
  const updates: ModelUpdate[] = [];
  let ts = 0;
  for (let i = 0; i < m.count; i++) {
    ts = readStamp(state, i, ts);
    updates.push({ source: m.source, ts, key: decodeKey(state), json: decodeJson(state) });
  }
  return updates;
}

/**
 * Decodes an updates message (after its tag) into columns, with every
 * check the reference decoder makes; into spare arrays if one as long is
 * at hand.
 */
function decodeColumns(state: DecodeState, spares: Spare[]): ModelColumns {
  const start = state.offset;
  const source = string.decode(state);
  const count = readCount(state, 2);
  const { stamps, keyStarts, keyEnds, jsonStarts, jsonEnds } = takeSpare(spares, count);
  // In steps of DECODE_STEP entries a call: a loop that runs long in one call is compiled twice (for later calls, and again as it runs).
  const { buffer, end } = state;
  const maxBytes = state.limits.maxBytes;
  let ts = 0;
  for (let from = 0; from < count; from += DECODE_STEP) {
    ts = decodeEntries(state, from, Math.min(count, from + DECODE_STEP), ts, buffer, end, maxBytes, stamps, keyStarts, keyEnds, jsonStarts, jsonEnds);
  }
  return { type: 'columns', source, count, stamps, buffer: state.buffer, keyStarts, keyEnds, jsonStarts, jsonEnds, start, bytes: state.offset - start };
}

/** Entries of an updates message decoded per call (see decodeColumns). */
const DECODE_STEP = 64;

/**
 * Entries `from` to `to` of `decodeColumns`, the timestamp before them
 * `previous`; returns the last one. Everything it needs is passed in: code
 * ahead of the loop that read fields would have run a few times only, and
 * a compiled loop that met it untried would be thrown away.
 */
function decodeEntries(state: DecodeState, from: number, to: number, previous: number, buffer: Buffer, end: number, maxBytes: number, stamps: Float64Array, keyStarts: Int32Array, keyEnds: Int32Array, jsonStarts: Int32Array, jsonEnds: Int32Array): number {
  let ts = previous;
  for (let i = from; i < to; i++) {
    ts = readStamp(state, i, ts);
    stamps[i] = ts;
    // The common entry checked in one pass each, with no string made: a
    // short ASCII key, then a delete or a short plain string value, each
    // with a one-byte length. Anything else, or anything wrong, is read by
    // the general path from the same place, which then refuses what it
    // refuses (and its strings tell where the bytes were).
    const at = state.offset;
    const keyLength = buffer[at]!;
    const keyEnd = at + 1 + keyLength;
    let ascii = keyLength < 0x80 && keyLength <= maxBytes && keyEnd < end;
    for (let j = at + 1; ascii && j < keyEnd; j++) ascii = buffer[j]! < 0x80;
    if (!ascii) {
      const key = decodeKey(state);
      keyEnds[i] = state.offset;
      keyStarts[i] = state.offset - utf8Length(key);
      const json = decodeJson(state);
      jsonEnds[i] = state.offset;
      jsonStarts[i] = json === undefined ? -1 : state.offset - utf8Length(json);
      continue;
    }
    keyStarts[i] = at + 1;
    keyEnds[i] = keyEnd;
    const marker = buffer[keyEnd]!;
    const jsonEnd = keyEnd + marker;
    if (marker === 0) {
      jsonStarts[i] = -1;
      jsonEnds[i] = keyEnd + 1;
      state.offset = keyEnd + 1;
    } else if (marker < 0x80 && marker - 1 <= maxBytes && jsonEnd <= end && isPlainAsciiString(buffer, keyEnd + 1, jsonEnd)) {
      jsonStarts[i] = keyEnd + 1;
      jsonEnds[i] = jsonEnd;
      state.offset = jsonEnd;
    } else {
      state.offset = keyEnd;
      const json = decodeJson(state);
      jsonEnds[i] = state.offset;
      jsonStarts[i] = json === undefined ? -1 : state.offset - utf8Length(json);
    }
  }
  return ts;
}

/**
 * The Model session's codec: the same wire format as `reference` (the
 * engine's message codec for `ModelUpdate`), which it uses for digests and
 * for updates messages of objects; it also encodes updates in columns and
 * messages written as they were taken, and decodes every updates message
 * into columns.
 */
export interface ModelWireCodec extends Codec<ModelMessage> {
  /**
   * A decoded message has been applied and nothing holds it: its arrays
   * may be filled again by the next message decoded. A sync of many keys
   * then allocates a few sets of columns, not one per message.
   */
  recycle(message: ModelColumns): void;
  /**
   * A writer for a message of `source`'s updates. Its buffer serves again
   * once the message is encoded: a written message is encoded once (the
   * stream encodes each message it pulls once), and encoding it spends it,
   * so that a second encode throws instead of writing what the buffer holds
   * by then.
   */
  writer(source: string): ColumnsWriter;
}

export function modelWireCodec(reference: Codec<ScuttlebuttMessage<ModelUpdate>>): ModelWireCodec {
  const tagLength = uint.encodingLength(UPDATES_TAG);
  const EMPTY_BUFFER = Buffer.alloc(0);
  const spares: Spare[] = []; // for the decoder
  const buffers: Buffer[] = []; // for writers
  return {
    recycle(message) {
      if (spares.length < SPARES) spares.push(makeSpare(message.stamps, message.keyStarts, message.keyEnds, message.jsonStarts, message.jsonEnds));
      // Hold no frame past its message.
      message.buffer = EMPTY_BUFFER;
    },
    writer(source) {
      return new ColumnsWriter(source, buffers.pop() ?? Buffer.allocUnsafe(FIRST_WRITER_BYTES));
    },
    encodingLength(m) {
      return m.type === 'columns' || m.type === 'written' ? tagLength + m.bytes : reference.encodingLength(m);
    },
    encode(m, state) {
      if (m.type === 'columns') {
        // As decoded: the same bytes.
        uint.encode(UPDATES_TAG, state);
        state.buffer.set(m.buffer.subarray(m.start, m.start + m.bytes), state.offset);
        state.offset += m.bytes;
        return;
      }
      if (m.type !== 'written') return reference.encode(m, state);
      const entries = m.entries;
      if (entries === undefined) throw new Error('updates message already encoded');
      uint.encode(UPDATES_TAG, state);
      string.encode(m.source, state);
      uint.encode(m.count, state);
      state.buffer.set(entries.subarray(0, m.length), state.offset);
      state.offset += m.length;
      // Spent: the buffer serves the next writer.
      m.entries = undefined;
      if (buffers.length < SPARES && entries.length <= SPARE_WRITER_BYTES) buffers.push(entries);
    },
    decode(state) {
      const at = state.offset;
      if (uint.decode(state) !== UPDATES_TAG) {
        state.offset = at;
        return reference.decode(state);
      }
      return decodeColumns(state, spares);
    },
  };
}
