import { type DecodeState, type Limits, decodeState, guardDecode, readCount, readLength, uint } from '../codec/index.js';
import { decodeUtf8, uintLength } from '../codec/primitives.js';
import { errors } from '../errors.js';
import type { Item } from './item.js';
import { Writer } from './writer.js';
import { CLIENT_ENTRY, ClientTable, type DecodedUpdate, type Sink, KIND_TEXT, KIND_VALUES, MAX_RECORD, type Struct, checkStruct, fitUnits, fittedJson, kindOf, readDeletes, readValues } from './records.js';
import { COLUMNS_MARK, ColumnSink, decodeColumns } from './column-codec.js';

export { KIND_DELETED, KIND_TEXT, KIND_VALUES, type DecodedUpdate, type Sink, type Struct } from './records.js';

/*
 * The binary update formats of a Seq. An update carries runs of elements and
 * deleted ranges; a whole document is simply the update that holds
 * everything. There are two forms of the same content:
 *
 * - rows (this file): one record after another, each complete in itself.
 *   Smallest for a live edit of a few runs, so live updates use it.
 * - columns (column-codec.ts): each field of every record in a column of
 *   its own, run-length and delta encoded. Smallest for many runs, so full
 *   states and catch-ups use it. It starts with the byte 0 then 1; a row
 *   update starting with 0 (no clients) can only be the empty update
 *   [0, 0, 0], so the first bytes tell the forms apart.
 *
 * The row layout (all integers are unsigned LEB128 varints):
 *
 *   clientCount, client*                 client table: runs refer to clients by index
 *   groupCount, group*                   runs, grouped by client, in clock order
 *     group = clientIndex, startClock, runCount, run*
 *     run   = info byte, [origin], [rightOrigin], content
 *       info bits 0-1: content kind (0 text, 1 values, 2 deleted)
 *       info bit 2: origin is the element just before this run in clock order
 *                   (same client, clock - 1): the common case of typing, not written
 *       info bit 3: explicit origin follows: clientIndex, clock
 *       info bit 4: rightOrigin follows: clientIndex, clock
 *       info bit 5: the explicit origin's client is the run's own (its index is left out)
 *       info bit 6: the rightOrigin's client is the run's own (its index is left out)
 *       content: text = byteLength, UTF-8; values = byteLength, JSON array;
 *                deleted = element count
 *   deleteGroupCount, deleteGroup*        deleted ranges
 *     deleteGroup = clientIndex, rangeCount, (clock - end of previous range, length)*
 *
 * A run's clock is implied: the group's start plus the lengths before it.
 * The bit values are part of the wire format: never change them, only add.
 */
const KIND_MASK = 3;
const IMPLICIT_ORIGIN = 4;
const HAS_ORIGIN = 8;
const HAS_RIGHT = 16;
const OWN_ORIGIN_CLIENT = 32;
const OWN_RIGHT_CLIENT = 64;
const KNOWN_BITS = KIND_MASK | IMPLICIT_ORIGIN | HAS_ORIGIN | HAS_RIGHT | OWN_ORIGIN_CLIENT | OWN_RIGHT_CLIENT;

/**
 * What an update should carry, as id ranges: `items` is flat triples
 * `[client, fromClock, toClock)`, `deletes` flat triples `[client, clock, length]`
 * sorted by client then clock. The runs are read from the store when encoded,
 * so an update can be cut into chunks lazily.
 */
export interface Delta {
  items: number[];
  deletes: number[];
  /** The whole delta encoded once (rows), shared by every session it fits. */
  encoded?: Buffer;
}

/** Where the next chunk of a delta starts. */
export interface Cursor {
  /** Index into `items` (a multiple of 3). */
  item: number;
  /** Next clock to encode within that range. */
  clock: number;
  /** Index into `deletes` (a multiple of 3). */
  del: number;
}

/** What the encoder needs from the document. */
export interface RunSource {
  runsOf(client: number): Item[];
  /** Index in `runsOf(client)` of the run holding `clock`. */
  indexOf(client: number, clock: number): number;
}

/** Which form to encode: `'rows'` for live edits, `'columns'` for full states and catch-ups. */
export type UpdateForm = 'rows' | 'columns';

/** The row form. */
class RowSink implements Sink {
  private readonly out = new Writer(1024);
  private readonly groups = new Writer(1024);
  private readonly group = new Writer(256);
  private readonly table = new ClientTable();
  private groupCount = 0;
  private groupClient = 0;
  private groupStart = 0;
  private header = 0;

  reset(): void {
    this.groups.reset();
    this.group.reset();
    this.table.clear();
    this.groupCount = 0;
    this.header = 0;
  }

  size(): number {
    return 12 + this.table.size * CLIENT_ENTRY + this.groups.pos + this.header + this.group.pos;
  }

  clientIndex(client: number): number {
    return this.table.indexOf(client);
  }

  beginGroup(client: number, clock: number): void {
    this.groupClient = this.clientIndex(client);
    this.groupStart = clock;
    this.header = uintLength(this.groupClient) + uintLength(clock) + 3;
    this.group.reset();
  }

  endGroup(count: number): void {
    if (count > 0) {
      this.groups.uint(this.groupClient);
      this.groups.uint(this.groupStart);
      this.groups.uint(count);
      this.groups.append(this.group);
      this.groupCount++;
    }
    this.header = 0;
    this.group.reset();
  }

  record(client: number, clock: number, originClient: number, originClock: number, rightClient: number, rightClock: number, content: string | unknown[] | null, n: number, budget: number, force: boolean): number {
    const group = this.group;
    const room0 = budget - this.size();
    const mark = group.pos;
    const kind = kindOf(content);
    let info = kind;
    if (originClient === client && originClock === clock - 1) info |= IMPLICIT_ORIGIN;
    else if (originClient === client) info |= HAS_ORIGIN | OWN_ORIGIN_CLIENT;
    else if (originClient !== -1) info |= HAS_ORIGIN;
    if (rightClient === client) info |= HAS_RIGHT | OWN_RIGHT_CLIENT;
    else if (rightClient !== -1) info |= HAS_RIGHT;
    group.byte(info);
    if (info & HAS_ORIGIN) {
      if (!(info & OWN_ORIGIN_CLIENT)) group.uint(this.clientIndex(originClient));
      group.uint(originClock);
    }
    if (info & HAS_RIGHT) {
      if (!(info & OWN_RIGHT_CLIENT)) group.uint(this.clientIndex(rightClient));
      group.uint(rightClock);
    }
    const room = room0 - (group.pos - mark) - 8;
    if (content === null) {
      // A deleted run is a header and a length, but a long stretch of them
      // still has to respect the budget like any other record.
      if (!force && room < uintLength(n)) {
        group.pos = mark;
        return 0;
      }
      group.uint(n);
      return n;
    }
    const units = fitUnits(content, n, room, force);
    if (units === 0) {
      group.pos = mark;
      return 0;
    }
    if (typeof content === 'string') group.utf8(units === n ? content : content.slice(0, units));
    else group.utf8(fittedJson);
    return units;
  }

  finish(deletes: Writer, deleteGroups: number): Buffer {
    const out = this.out.reset();
    this.table.write(out);
    out.uint(this.groupCount);
    out.append(this.groups);
    out.uint(deleteGroups);
    out.append(deletes);
    return out.toBuffer();
  }
}

const rows = new RowSink();
const columns = new ColumnSink();
const dels = new Writer(256);
const ranges = new Writer(256);

/**
 * Encodes the next chunk of `delta` from `cursor`, at most about `budget`
 * bytes (at least one element is always written), in the given form, and
 * advances the cursor. Returns undefined once the delta is exhausted.
 */
export function encodeChunk(source: RunSource, delta: Delta, cursor: Cursor, budget = Infinity, form: UpdateForm = 'rows'): Buffer | undefined {
  const sink: Sink = form === 'rows' ? rows : columns;
  sink.reset();
  let groupCount = 0;
  let full = false;
  const items = delta.items;
  while (cursor.item < items.length) {
    const client = items[cursor.item];
    const to = items[cursor.item + 2];
    let from = Math.max(cursor.clock, items[cursor.item + 1]);
    if (from >= to) {
      cursor.item += 3;
      cursor.clock = 0;
      continue;
    }
    const runs = source.runsOf(client);
    sink.beginGroup(client, from);
    let count = 0;
    while (from < to) {
      let k = source.indexOf(client, from);
      const run = runs[k];
      const offset = from - run.clock;
      let n = Math.min(run.len - offset, to - from);
      let content = sliceContent(run.content, offset, n);
      // Runs that merely continue this one (each element's origin is the one
      // before it, same rightOrigin, same kind) go out as one record. Past
      // MAX_RECORD a record still takes the next run if it would otherwise
      // end inside a surrogate pair (a peer's origin can split a run there):
      // a record's text is always whole characters.
      while (from + n < to && (content === null || n < MAX_RECORD || endsInsidePair(content)) && ++k < runs.length) {
        const next = runs[k];
        if (
          next.originClient !== client ||
          next.originClock !== next.clock - 1 ||
          next.rightClient !== run.rightClient ||
          next.rightClock !== run.rightClock ||
          (next.content === null) !== (content === null) ||
          (content !== null && typeof next.content !== typeof content)
        ) {
          break;
        }
        const m = Math.min(next.len, to - from - n);
        content = joinContent(content, sliceContent(next.content, 0, m));
        n += m;
      }
      const originClient = offset > 0 ? client : run.originClient;
      const originClock = offset > 0 ? from - 1 : run.originClock;
      const force = groupCount === 0 && count === 0;
      const written = sink.record(client, from, originClient, originClock, run.rightClient, run.rightClock, content, n, budget, force);
      if (written === 0) break;
      count++;
      from += written;
      if (written < n) break;
    }
    sink.endGroup(count);
    if (count > 0) groupCount++;
    cursor.clock = from;
    if (from < to) {
      full = true;
      break;
    }
    cursor.item += 3;
    cursor.clock = 0;
  }

  dels.reset();
  let delGroups = 0;
  const deletes = delta.deletes;
  while (!full && cursor.del < deletes.length) {
    const client = deletes[cursor.del];
    ranges.reset();
    let count = 0;
    let end = 0;
    while (cursor.del < deletes.length && deletes[cursor.del] === client) {
      const clock = deletes[cursor.del + 1];
      const len = deletes[cursor.del + 2];
      const size = uintLength(clock - end) + uintLength(len);
      if (sink.size() + dels.pos + ranges.pos + size + 8 + CLIENT_ENTRY > budget && (count > 0 || delGroups > 0 || groupCount > 0)) {
        full = true;
        break;
      }
      ranges.uint(clock - end);
      ranges.uint(len);
      end = clock + len;
      count++;
      cursor.del += 3;
    }
    if (count > 0) {
      // Only now: a client that ends up with no range must not be in the table.
      dels.uint(sink.clientIndex(client));
      dels.uint(count);
      dels.append(ranges);
      delGroups++;
    }
  }

  if (groupCount === 0 && delGroups === 0) return undefined;
  return sink.finish(dels, delGroups);
}

/** Encodes a whole delta as one update, with no size bound. */
export function encodeDelta(source: RunSource, delta: Delta, form: UpdateForm = 'rows'): Buffer {
  return encodeChunk(source, delta, { item: 0, clock: 0, del: 0 }, Infinity, form) ?? EMPTY_UPDATE;
}

/** The update that carries nothing. */
export const EMPTY_UPDATE: Buffer = Buffer.from([0, 0, 0]);

function endsInsidePair(content: string | unknown[]): boolean {
  if (typeof content !== 'string') return false;
  const last = content.charCodeAt(content.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}

function sliceContent(content: string | unknown[] | null, offset: number, n: number): string | unknown[] | null {
  if (content === null || (offset === 0 && n === content.length)) return content;
  return content.slice(offset, offset + n);
}

function joinContent(a: string | unknown[] | null, b: string | unknown[] | null): string | unknown[] | null {
  if (a === null) return null;
  return typeof a === 'string' ? a + (b as string) : a.concat(b as unknown[]);
}

/**
 * Decodes and validates a whole update, in either form, before anything is
 * applied, so a malformed update changes nothing. Fails with ERR_DECODE,
 * ERR_LIMIT or ERR_INTEGRITY.
 */
export function decodeUpdate(bytes: Uint8Array, limits?: Partial<Limits>): DecodedUpdate {
  const state = decodeState(bytes, limits);
  if (state.end > 3 && state.buffer[0] === COLUMNS_MARK[0] && state.buffer[1] === COLUMNS_MARK[1]) return decodeColumns(state);
  const update = guardDecode(() => readUpdate(state));
  if (state.offset !== state.end) throw errors.decode(`${state.end - state.offset} trailing bytes in update`);
  return update;
}

function readUpdate(state: DecodeState): DecodedUpdate {
  const clientCount = readCount(state);
  const clients = new Array<number>(clientCount);
  for (let i = 0; i < clientCount; i++) clients[i] = uint.decode(state);
  const client = (index: number): number => {
    if (index >= clientCount) throw errors.decode(`client index ${index} outside the table of ${clientCount}`);
    return clients[index];
  };
  const structs: Struct[] = [];
  const groupCount = readCount(state, 3);
  for (let g = 0; g < groupCount; g++) {
    const owner = client(uint.decode(state));
    let clock = uint.decode(state);
    const runCount = readCount(state, 2);
    if (structs.length + runCount > state.limits.maxItems) throw errors.limit('runs in an update', structs.length + runCount, state.limits.maxItems);
    for (let r = 0; r < runCount; r++) {
      const info = uint.decode(state);
      if (
        (info & ~KNOWN_BITS) !== 0 ||
        (info & KIND_MASK) === 3 ||
        (info & IMPLICIT_ORIGIN && info & HAS_ORIGIN) ||
        (info & OWN_ORIGIN_CLIENT && !(info & HAS_ORIGIN)) ||
        (info & OWN_RIGHT_CLIENT && !(info & HAS_RIGHT))
      ) {
        throw errors.decode(`invalid run info ${info}`);
      }
      let originClient = -1;
      let originClock = 0;
      let rightClient = -1;
      let rightClock = 0;
      if (info & IMPLICIT_ORIGIN) {
        if (clock === 0) throw errors.integrity('run at clock 0 claims a predecessor');
        originClient = owner;
        originClock = clock - 1;
      } else if (info & HAS_ORIGIN) {
        originClient = info & OWN_ORIGIN_CLIENT ? owner : client(uint.decode(state));
        originClock = uint.decode(state);
      }
      if (info & HAS_RIGHT) {
        rightClient = info & OWN_RIGHT_CLIENT ? owner : client(uint.decode(state));
        rightClock = uint.decode(state);
      }
      let content: string | unknown[] | null;
      let len: number;
      switch (info & KIND_MASK) {
        case KIND_TEXT: {
          const length = readLength(state);
          content = decodeUtf8(state.buffer, state.offset, state.offset + length);
          state.offset += length;
          len = content.length;
          break;
        }
        case KIND_VALUES: {
          const length = readLength(state);
          content = readValues(state, length);
          len = content.length;
          break;
        }
        default:
          content = null;
          len = uint.decode(state);
      }
      const struct = { client: owner, clock, len, content, originClient, originClock, rightClient, rightClock };
      checkStruct(struct);
      structs.push(struct);
      clock += len;
    }
  }
  return { structs, deletes: readDeletes(state, client, false) };
}

/** A state vector: for each client, the clock of the next element we expect from it. */
export function encodeStateVector(vector: Map<number, number>): Buffer {
  const w = new Writer(16 + vector.size * 12);
  w.uint(vector.size);
  for (const [client, clock] of vector) {
    w.uint(client);
    w.uint(clock);
  }
  return w.toBuffer();
}

export function decodeStateVector(bytes: Uint8Array, limits?: Partial<Limits>): Map<number, number> {
  const state = decodeState(bytes, limits);
  const vector = guardDecode(() => {
    const count = readCount(state, 2);
    const result = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const client = uint.decode(state);
      if (result.has(client)) throw errors.decode(`client ${client} twice in a state vector`);
      result.set(client, uint.decode(state));
    }
    return result;
  });
  if (state.offset !== state.end) throw errors.decode(`${state.end - state.offset} trailing bytes in state vector`);
  return vector;
}

