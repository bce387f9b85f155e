import { type DecodeState, guardDecode, readCount, readLength, uint } from '../codec/index.js';
import { decodeUtf8 } from '../codec/primitives.js';
import { errors } from '../errors.js';
import { CLIENT_ENTRY, ClientTable, type DecodedUpdate, KIND_DELETED, KIND_TEXT, KIND_VALUES, MAX_RECORD, type Sink, type Struct, checkStruct, fitUnits, fittedJson, kindOf, readDeletes, readValues } from './records.js';
import { Writer } from './writer.js';

/*
 * The column form of a Seq update: the same records as the row form
 * (update-codec.ts), with each field of every record in a column of its
 * own, so that what repeats costs (almost) nothing. Full states and
 * catch-ups use it. Layout (integers are unsigned LEB128 varints):
 *
 *   0, 1                                 the mark of this form
 *   clientCount, client*                 client table, in order of first use
 *   groupCount, (clientIndex, startClock, recordCount)*
 *   info column:   byteLength, one byte per run of equal infos (below)
 *   length column: byteLength, element counts, run-length encoded (below)
 *   origin column: byteLength, varints (what the info's origin mode needs)
 *   right column:  byteLength, varints (what the info's right mode needs)
 *   text column:   byteLength, the UTF-8 of every text record, concatenated
 *   values column: byteLength, (byteLength, JSON array)* of the value records
 *   deleteGroupCount, deleteGroup*       deleted ranges, as in the row form
 *
 * Why these columns (measured on editing traces, where a record is a burst
 * of typing or a deleted stretch):
 * - Content is most of a document, and one text column costs its UTF-8 and
 *   nothing per record: a record's element count (which the deleted records
 *   need anyway) says where its text ends.
 * - The info byte: bits 0-1 the kind (0 text, 1 values, 2 deleted), bits 2-3
 *   the origin mode, bits 4-6 the right-origin mode. Runs of equal infos
 *   (random inserts, a stretch of one kind of edit) are written once: a
 *   run of L >= 2 is the byte with bit 7 set, then L - 2.
 * - Origins are relative to the record itself: an origin of the same
 *   client is written as its distance back (`clock - 2 - originClock`; a
 *   distance of 0 is the implicit "the element typed just before", mode 1,
 *   which costs nothing). Typing after a few backspaces is a distance of a
 *   few: one byte, where an absolute clock takes three in a long document.
 *   Modes: 0 none (start of the list), 1 implicit, 2 own client (distance),
 *   3 another client (clientIndex, clock).
 * - Right origins are usually predictable: the same as the previous
 *   record's (typing on in one gap after backspaces), or the element right
 *   after the origin (typing inside one's own earlier text). Both cost
 *   nothing. Modes: 0 none (end of the list), 1 the previous record's right
 *   origin, 2 the origin's successor (same client, clock + 1), 3 own client
 *   (`clock - 1 - rightClock`), 4 another client (clientIndex, clock).
 * - Lengths: a varint each; a run of three or more equal lengths is
 *   written `len, 0, r`, meaning `len` r + 3 times (no length is 0, so the
 *   0 marks the run). Random single-character inserts are all length 1.
 * A mode is always the first of its list that applies, and records that
 * merely continue each other are one record, so every update has exactly
 * one encoding: the decoder re-encodes what it read and refuses anything
 * else (ERR_DECODE), and a replica relays exactly the bytes it accepts.
 */

/** The first two bytes of a column update. */
export const COLUMNS_MARK: readonly [number, number] = [0, 1];

const ORIGIN_NONE = 0;
const ORIGIN_IMPLICIT = 1;
const ORIGIN_OWN = 2;
const ORIGIN_OTHER = 3;
const RIGHT_NONE = 0;
const RIGHT_PREVIOUS = 1;
const RIGHT_SUCCESSOR = 2;
const RIGHT_OWN = 3;
const RIGHT_OTHER = 4;
const REPEAT = 0x80;
/** Most records an update may hold per byte of its size (see readColumns). */
const MAX_RECORDS_PER_BYTE = 4;
/**
 * Room a record needs besides its origins and content: size() already holds
 * the pending info and length runs at their largest (9 and 17 bytes), and
 * pushing this record's may start new ones that need as much again; a value
 * record adds its JSON's length prefix (4).
 */
const RECORD_OVERHEAD = 9 + 17 + 4;

/** The column form's encoder (see encodeChunk in update-codec.ts for the walk that feeds it). */
export class ColumnSink implements Sink {
  private readonly out = new Writer(1024);
  private readonly groups = new Writer(256);
  private readonly infos = new Writer(256);
  private readonly lengths = new Writer(256);
  private readonly origins = new Writer(256);
  private readonly rights = new Writer(256);
  private readonly text = new Writer(1024);
  private readonly values = new Writer(256);
  private readonly table = new ClientTable();
  private groupCount = 0;
  private groupClient = 0;
  private groupStart = 0;
  private groupOpen = false;
  private groupRecords = 0;
  // The pending runs of the info and length columns.
  private info = -1;
  private infoRepeats = 0;
  private length = 0;
  private lengthRepeats = 0;
  // The previous record's right origin, for RIGHT_PREVIOUS.
  private prevRightClient = -1;
  private prevRightClock = 0;

  reset(): void {
    for (const w of [this.groups, this.infos, this.lengths, this.origins, this.rights, this.text, this.values]) w.reset();
    this.table.clear();
    this.groupCount = 0;
    this.groupOpen = false;
    this.info = -1;
    this.length = 0;
    this.prevRightClient = -1;
    this.prevRightClock = 0;
  }

  size(): number {
    return (
      2 +
      8 +
      this.table.size * CLIENT_ENTRY +
      4 +
      this.groups.pos +
      (this.groupOpen ? 20 : 0) +
      6 * 4 +
      this.infos.pos +
      9 +
      this.lengths.pos +
      17 +
      this.origins.pos +
      this.rights.pos +
      this.text.pos +
      this.values.pos +
      4
    );
  }

  clientIndex(client: number): number {
    return this.table.indexOf(client);
  }

  beginGroup(client: number, clock: number): void {
    // The group's client enters the table with its first record: a group
    // that ends up empty must leave no trace, or the table would differ
    // from what the decoder's re-encoding gives.
    this.groupClient = client;
    this.groupStart = clock;
    this.groupOpen = true;
    this.groupRecords = 0;
  }

  endGroup(count: number): void {
    this.groupOpen = false;
    if (count === 0) return;
    this.groups.uint(this.table.indexOf(this.groupClient));
    this.groups.uint(this.groupStart);
    this.groups.uint(count);
    this.groupCount++;
  }

  record(client: number, clock: number, originClient: number, originClock: number, rightClient: number, rightClock: number, content: string | unknown[] | null, n: number, budget: number, force: boolean): number {
    const tableMark = this.table.size;
    const originMark = this.origins.pos;
    const rightMark = this.rights.pos;
    if (this.groupRecords === 0) this.clientIndex(client);
    let originMode: number;
    if (originClient === -1) originMode = ORIGIN_NONE;
    else if (originClient === client && originClock === clock - 1) originMode = ORIGIN_IMPLICIT;
    else if (originClient === client) {
      originMode = ORIGIN_OWN;
      this.origins.uint(clock - 2 - originClock);
    } else {
      originMode = ORIGIN_OTHER;
      this.origins.uint(this.clientIndex(originClient));
      this.origins.uint(originClock);
    }
    let rightMode: number;
    if (rightClient === -1) rightMode = RIGHT_NONE;
    else if (rightClient === this.prevRightClient && rightClock === this.prevRightClock) rightMode = RIGHT_PREVIOUS;
    else if (rightClient === originClient && rightClock === originClock + 1) rightMode = RIGHT_SUCCESSOR;
    else if (rightClient === client) {
      rightMode = RIGHT_OWN;
      this.rights.uint(clock - 1 - rightClock);
    } else {
      rightMode = RIGHT_OTHER;
      this.rights.uint(this.clientIndex(rightClient));
      this.rights.uint(rightClock);
    }
    const room = budget - this.size() - RECORD_OVERHEAD;
    let units: number;
    if (content === null) units = force || room >= 0 ? n : 0;
    else units = fitUnits(content, n, room, force);
    if (units === 0) {
      // Nothing of it fits: undo what the record wrote.
      this.origins.pos = originMark;
      this.rights.pos = rightMark;
      this.table.truncate(tableMark);
      return 0;
    }
    if (typeof content === 'string') this.text.raw(units === n ? content : content.slice(0, units));
    else if (content !== null) this.values.utf8(fittedJson);
    this.pushInfo(kindOf(content) | (originMode << 2) | (rightMode << 4));
    this.pushLength(units);
    this.prevRightClient = rightClient;
    this.prevRightClock = rightClock;
    this.groupRecords++;
    return units;
  }

  private pushInfo(info: number): void {
    if (info === this.info) {
      this.infoRepeats++;
      return;
    }
    this.flushInfo();
    this.info = info;
    this.infoRepeats = 0;
  }

  private flushInfo(): void {
    if (this.info === -1) return;
    if (this.infoRepeats === 0) this.infos.byte(this.info);
    else {
      this.infos.byte(this.info | REPEAT);
      this.infos.uint(this.infoRepeats - 1);
    }
    this.info = -1;
  }

  private pushLength(length: number): void {
    if (length === this.length) {
      this.lengthRepeats++;
      return;
    }
    this.flushLength();
    this.length = length;
    this.lengthRepeats = 0;
  }

  private flushLength(): void {
    if (this.length === 0) return;
    const w = this.lengths;
    w.uint(this.length);
    if (this.lengthRepeats === 1) w.uint(this.length);
    else if (this.lengthRepeats >= 2) {
      w.uint(0);
      w.uint(this.lengthRepeats - 2);
    }
    this.length = 0;
  }

  finish(deletes: Writer, deleteGroups: number): Buffer {
    this.flushInfo();
    this.flushLength();
    const out = this.out.reset();
    out.byte(COLUMNS_MARK[0]);
    out.byte(COLUMNS_MARK[1]);
    this.table.write(out);
    out.uint(this.groupCount);
    out.append(this.groups);
    for (const column of [this.infos, this.lengths, this.origins, this.rights, this.text, this.values]) {
      out.uint(column.pos);
      out.append(column);
    }
    out.uint(deleteGroups);
    out.append(deletes);
    return out.toBuffer();
  }
}

/** A separate encoder for the decoder's check, so that checking never disturbs an encoding in progress. */
const checker = new ColumnSink();
const checkDeletes = new Writer(64);

/**
 * Decodes a column update (its first two bytes are COLUMNS_MARK) and checks
 * that it is the one encoding of what it holds.
 */
export function decodeColumns(state: DecodeState): DecodedUpdate {
  const update = guardDecode(() => readColumns(state));
  if (!sameBytes(encodeStructs(update), state.buffer, state.end)) throw errors.decode('a column update not in its canonical encoding');
  return update;
}

/** True if `a` is the first `length` bytes of `b` and as long (a loop: the browser's Buffer has no equals). */
function sameBytes(a: Uint8Array, b: Uint8Array, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The column encoding of decoded records and ranges, record for record. */
function encodeStructs(update: DecodedUpdate): Buffer {
  const sink = checker;
  sink.reset();
  const structs = update.structs;
  for (let i = 0; i < structs.length; ) {
    const first = structs[i];
    sink.beginGroup(first.client, first.clock);
    let clock = first.clock;
    let count = 0;
    for (; i < structs.length && structs[i].client === first.client && structs[i].clock === clock; i++, count++) {
      const s = structs[i];
      sink.record(s.client, s.clock, s.originClient, s.originClock, s.rightClient, s.rightClock, s.content, s.len, Infinity, true);
      clock += s.len;
    }
    sink.endGroup(count);
  }
  const deletes = update.deletes;
  const w = checkDeletes.reset();
  let groups = 0;
  for (let i = 0; i < deletes.length; ) {
    const client = deletes[i];
    let count = 0;
    while (i + count * 3 < deletes.length && deletes[i + count * 3] === client) count++;
    w.uint(sink.clientIndex(client));
    w.uint(count);
    let end = 0;
    for (let k = 0; k < count; k++, i += 3) {
      w.uint(deletes[i + 1] - end);
      w.uint(deletes[i + 2]);
      end = deletes[i + 1] + deletes[i + 2];
    }
    groups++;
  }
  return sink.finish(w, groups);
}

/** Reads the info column: a byte per run of equal infos, bit 7 set if a count of further repeats (less one) follows. */
class InfoRuns {
  value = 0;
  repeats = 0;
  constructor(private readonly column: DecodeState) {}

  /** The next record's info; `left` records remain, this one included. */
  next(left: number): number {
    if (this.repeats > 0) {
      this.repeats--;
      return this.value;
    }
    const column = this.column;
    if (column.offset >= column.end) throw errors.decode('info column too short');
    const byte = column.buffer[column.offset++];
    this.value = byte & ~REPEAT;
    if (byte & REPEAT) {
      this.repeats = uint.decode(column) + 1;
      if (this.repeats >= left) throw errors.decode('an info run longer than the records');
    }
    return this.value;
  }
}

/** Reads the length column: a length, or 0 then r: the previous length r + 2 more times. */
class LengthRuns {
  value = 0;
  repeats = 0;
  constructor(private readonly column: DecodeState) {}

  /** The next record's length; `left` records remain, this one included. */
  next(left: number): number {
    if (this.repeats > 0) {
      this.repeats--;
      return this.value;
    }
    const value = uint.decode(this.column);
    if (value !== 0) return (this.value = value);
    if (this.value === 0) throw errors.decode('a length run with no length');
    // This record is the first of the repeats.
    this.repeats = uint.decode(this.column) + 1;
    if (this.repeats >= left) throw errors.decode('a length run longer than the records');
    return this.value;
  }
}

/** A column: a view of `length` bytes of the update, read with the update's limits. */
function column(state: DecodeState): DecodeState {
  const length = readLength(state);
  const col = { ...state, end: state.offset + length };
  state.offset += length;
  return col;
}

function readColumns(state: DecodeState): DecodedUpdate {
  state.offset = 2;
  const clientCount = readCount(state);
  const clients = new Array<number>(clientCount);
  for (let i = 0; i < clientCount; i++) clients[i] = uint.decode(state);
  const client = (index: number): number => {
    if (index >= clientCount) throw errors.decode(`client index ${index} outside the table of ${clientCount}`);
    return clients[index];
  };
  const groupCount = readCount(state, 3);
  const groups: number[] = [];
  let total = 0;
  for (let g = 0; g < groupCount; g++) {
    const owner = client(uint.decode(state));
    const start = uint.decode(state);
    const count = uint.decode(state);
    if (count === 0) throw errors.decode('empty group');
    total += count;
    if (total > state.limits.maxItems) throw errors.limit('runs in an update', total, state.limits.maxItems);
    // Runs of equal infos and lengths could let a few bytes claim a million
    // records. A real record costs about a byte at least: consecutive
    // records with equal infos and nothing in the origin and right columns
    // either continue each other (and are joined), or sit at the start of
    // the list with the right origin of the record before (local edits
    // never make two such in a row: the first becomes the second's right),
    // or have neither origin nor right origin (an insert into an empty
    // list). So the work an update asks for stays proportional to its size.
    if (total > MAX_RECORDS_PER_BYTE * state.end) throw errors.decode(`${total} records in an update of ${state.end} bytes`);
    groups.push(owner, start, count);
  }
  const infos = column(state);
  const lengths = column(state);
  const origins = column(state);
  const rights = column(state);
  const textColumn = column(state);
  const values = column(state);
  const text = decodeUtf8(textColumn.buffer, textColumn.offset, textColumn.end);
  let textAt = 0;

  const infoRuns = new InfoRuns(infos);
  const lengthRuns = new LengthRuns(lengths);
  let left = total;
  const structs: Struct[] = [];
  let prevRightClient = -1;
  let prevRightClock = 0;
  for (let g = 0; g < groups.length; g += 3) {
    const owner = groups[g];
    let clock = groups[g + 1];
    const count = groups[g + 2];
    let previous: Struct | undefined;
    for (let r = 0; r < count; r++, left--) {
      const bits = infoRuns.next(left);
      const kind = bits & 3;
      const originMode = (bits >> 2) & 3;
      const rightMode = bits >> 4;
      if (kind === 3 || rightMode > RIGHT_OTHER) throw errors.decode(`invalid run info ${bits}`);
      let originClient = -1;
      let originClock = 0;
      if (originMode === ORIGIN_IMPLICIT) {
        if (clock === 0) throw errors.integrity('run at clock 0 claims a predecessor');
        originClient = owner;
        originClock = clock - 1;
      } else if (originMode === ORIGIN_OWN) {
        originClient = owner;
        originClock = clock - 2 - uint.decode(origins);
        if (originClock < 0) throw errors.integrity('an origin before the first element');
      } else if (originMode === ORIGIN_OTHER) {
        originClient = client(uint.decode(origins));
        originClock = uint.decode(origins);
      }
      let rightClient = -1;
      let rightClock = 0;
      if (rightMode === RIGHT_PREVIOUS) {
        rightClient = prevRightClient;
        rightClock = prevRightClock;
      } else if (rightMode === RIGHT_SUCCESSOR) {
        if (originClient === -1) throw errors.decode('the successor of no origin');
        rightClient = originClient;
        rightClock = originClock + 1;
      } else if (rightMode === RIGHT_OWN) {
        rightClient = owner;
        rightClock = clock - 1 - uint.decode(rights);
        if (rightClock < 0) throw errors.integrity('a right origin before the first element');
      } else if (rightMode === RIGHT_OTHER) {
        rightClient = client(uint.decode(rights));
        rightClock = uint.decode(rights);
      }
      const len = lengthRuns.next(left);
      let content: string | unknown[] | null = null;
      if (kind === KIND_TEXT) {
        if (textAt + len > text.length) throw errors.decode('text column too short');
        content = text.slice(textAt, textAt + len);
        textAt += len;
        const last = content.charCodeAt(len - 1);
        if (last >= 0xd800 && last <= 0xdbff) throw errors.decode('a text record ends inside a surrogate pair');
      } else if (kind === KIND_VALUES) {
        content = readValues(values, readLength(values));
        if (content.length !== len) throw errors.decode(`a value record of ${content.length} values claims ${len}`);
      }
      const struct: Struct = { client: owner, clock, len, content, originClient, originClock, rightClient, rightClock };
      checkStruct(struct);
      if (
        previous !== undefined &&
        originMode === ORIGIN_IMPLICIT &&
        rightClient === previous.rightClient &&
        rightClock === previous.rightClock &&
        kindOf(previous.content) === kind &&
        (kind === KIND_DELETED || previous.len < MAX_RECORD)
      ) {
        throw errors.decode('a record that continues the previous one is not joined to it');
      }
      structs.push(struct);
      previous = struct;
      prevRightClient = rightClient;
      prevRightClock = rightClock;
      clock += len;
    }
  }
  if (infoRuns.repeats > 0 || lengthRuns.repeats > 0) throw errors.decode('a run longer than the records');
  for (const col of [infos, lengths, origins, rights, values]) if (col.offset !== col.end) throw errors.decode(`${col.end - col.offset} bytes left in a column`);
  if (textAt !== text.length) throw errors.decode(`${text.length - textAt} units left in the text column`);
  const deletes = readDeletes(state, client, true);
  if (state.offset !== state.end) throw errors.decode(`${state.end - state.offset} trailing bytes in update`);
  return { structs, deletes };
}
