import { type DecodeState, type Limits, decodeState, guardDecode, readCount, readLength, uint } from '../codec/index.js';
import { need } from '../codec/codec.js';
import { decodeUtf8 } from '../codec/primitives.js';
import { checkJsonDepth } from '../codec/values.js';
import { checkCanonicalJson } from '../codec/canonical.js';
import { errors } from '../errors.js';
import type { Item } from './item.js';
import { uintLength } from '../codec/primitives.js';
import { Writer } from './writer.js';

/*
 * The binary update format of a Seq. An update carries runs of elements and
 * deleted ranges; a whole document is simply the update that holds
 * everything. Layout (all integers are unsigned LEB128 varints):
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
export const KIND_TEXT = 0;
export const KIND_VALUES = 1;
export const KIND_DELETED = 2;
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
  /** The whole delta encoded once, shared by every session it fits. */
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

/** A decoded run, validated but not yet integrated. */
export interface Struct {
  client: number;
  clock: number;
  len: number;
  content: string | unknown[] | null;
  originClient: number;
  originClock: number;
  rightClient: number;
  rightClock: number;
}

export interface DecodedUpdate {
  structs: Struct[];
  /** Flat triples `[client, clock, length]`. */
  deletes: number[];
}

const out = new Writer(1024);
const groups = new Writer(1024);
const group = new Writer(256);
const dels = new Writer(256);
const ranges = new Writer(256);

/** Estimated bytes of a client table entry (a 53-bit varint takes up to 8). */
const CLIENT_ENTRY = 8;

/**
 * Encodes the next chunk of `delta` from `cursor`, at most about `budget`
 * bytes (at least one element is always written), and advances the cursor.
 * Returns undefined once the delta is exhausted.
 */
export function encodeChunk(source: RunSource, delta: Delta, cursor: Cursor, budget = Infinity): Buffer | undefined {
  const table = new Map<number, number>();
  const clients: number[] = [];
  let used = 12; // the three counts
  const indexOf = (client: number): number => {
    let index = table.get(client);
    if (index === undefined) {
      index = clients.length;
      table.set(client, index);
      clients.push(client);
      used += CLIENT_ENTRY;
    }
    return index;
  };
  groups.reset();
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
    const start = from;
    const clientIndex = indexOf(client);
    const header = uintLength(clientIndex) + uintLength(from) + 3;
    group.reset();
    let count = 0;
    while (from < to) {
      let k = source.indexOf(client, from);
      const run = runs[k];
      const offset = from - run.clock;
      let n = Math.min(run.len - offset, to - from);
      let content = sliceContent(run.content, offset, n);
      // Runs that merely continue this one (each element's origin is the one
      // before it, same rightOrigin, same kind) go out as one record.
      while (from + n < to && n < MAX_RECORD && ++k < runs.length) {
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
      const written = writeRecord(client, from, originClient, originClock, run.rightClient, run.rightClock, content, n, budget - used - header - group.pos, force, indexOf);
      if (written === 0) break;
      count++;
      from += written;
      if (written < n) break;
    }
    if (count > 0) {
      groups.uint(clientIndex);
      groups.uint(start);
      groups.uint(count);
      groups.append(group);
      groupCount++;
      used += header + group.pos;
    }
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
    const clientIndex = indexOf(client);
    ranges.reset();
    let count = 0;
    let end = 0;
    while (cursor.del < deletes.length && deletes[cursor.del] === client) {
      const clock = deletes[cursor.del + 1];
      const len = deletes[cursor.del + 2];
      const size = uintLength(clock - end) + uintLength(len);
      if (used + ranges.pos + size + 8 > budget && (count > 0 || delGroups > 0 || groupCount > 0)) {
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
      dels.uint(clientIndex);
      dels.uint(count);
      dels.append(ranges);
      delGroups++;
      used += ranges.pos + 8;
    }
  }

  if (groupCount === 0 && delGroups === 0) return undefined;
  out.reset();
  out.uint(clients.length);
  for (const client of clients) out.uint(client);
  out.uint(groupCount);
  out.append(groups);
  out.uint(delGroups);
  out.append(dels);
  return out.toBuffer();
}

/** Encodes a whole delta as one update, with no size bound. */
export function encodeDelta(source: RunSource, delta: Delta): Buffer {
  return encodeChunk(source, delta, { item: 0, clock: 0, del: 0 }) ?? EMPTY_UPDATE;
}

/** The update that carries nothing. */
export const EMPTY_UPDATE: Buffer = Buffer.from([0, 0, 0]);

/** Longest record the encoder builds by joining runs, in elements. */
const MAX_RECORD = 1 << 16;

function sliceContent(content: string | unknown[] | null, offset: number, n: number): string | unknown[] | null {
  if (content === null || (offset === 0 && n === content.length)) return content;
  return content.slice(offset, offset + n);
}

function joinContent(a: string | unknown[] | null, b: string | unknown[] | null): string | unknown[] | null {
  if (a === null) return null;
  return typeof a === 'string' ? a + (b as string) : a.concat(b as unknown[]);
}

/**
 * Writes one record: `n` elements from `(client, clock)` with the given
 * origins and content (the exact elements, or null for deleted ones), or
 * fewer if the budget runs out; returns how many were written (0: none fit).
 */
function writeRecord(
  client: number,
  clock: number,
  originClient: number,
  originClock: number,
  rightClient: number,
  rightClock: number,
  content: string | unknown[] | null,
  n: number,
  budget: number,
  force: boolean,
  indexOf: (client: number) => number,
): number {
  const mark = group.pos;
  const kind = content === null ? KIND_DELETED : typeof content === 'string' ? KIND_TEXT : KIND_VALUES;
  let info = kind;
  if (originClient === client && originClock === clock - 1) info |= IMPLICIT_ORIGIN;
  else if (originClient === client) info |= HAS_ORIGIN | OWN_ORIGIN_CLIENT;
  else if (originClient !== -1) info |= HAS_ORIGIN;
  if (rightClient === client) info |= HAS_RIGHT | OWN_RIGHT_CLIENT;
  else if (rightClient !== -1) info |= HAS_RIGHT;
  group.byte(info);
  if (info & HAS_ORIGIN) {
    if (!(info & OWN_ORIGIN_CLIENT)) group.uint(indexOf(originClient));
    group.uint(originClock);
  }
  if (info & HAS_RIGHT) {
    if (!(info & OWN_RIGHT_CLIENT)) group.uint(indexOf(rightClient));
    group.uint(rightClock);
  }
  const room = budget - (group.pos - mark) - 8;
  if (kind === KIND_DELETED) {
    // A deleted run is a header and a length, but a long stretch of them
    // still has to respect the budget like any other record.
    if (!force && room < uintLength(n)) {
      group.pos = mark;
      return 0;
    }
    group.uint(n);
    return n;
  }
  if (kind === KIND_TEXT) {
    const text = content as string;
    let units = n;
    if (n * 3 > room && Buffer.byteLength(text, 'utf8') > room) {
      units = Math.floor(room / 3);
      if (units <= 0) {
        if (!force) {
          group.pos = mark;
          return 0;
        }
        units = 1;
      }
      if (units < n) {
        // Never cut a surrogate pair in two.
        const code = text.charCodeAt(units - 1);
        if (code >= 0xd800 && code <= 0xdbff) units = units > 1 ? units - 1 : Math.min(n, 2);
      }
    }
    group.utf8(units === n ? text : text.slice(0, units));
    return units;
  }
  const values = content as unknown[];
  let units = n;
  let json = JSON.stringify(values);
  if (json.length * 3 > room && Buffer.byteLength(json, 'utf8') > room) {
    // Take values one at a time until the room is used up.
    units = 0;
    let size = 2;
    while (units < n) {
      const next = Buffer.byteLength(JSON.stringify(values[units]), 'utf8') + 1;
      if (size + next > room) break;
      size += next;
      units++;
    }
    if (units === 0) {
      if (!force) {
        group.pos = mark;
        return 0;
      }
      units = 1;
    }
    json = JSON.stringify(values.slice(0, units));
  }
  group.utf8(json);
  return units;
}

/**
 * Decodes and validates a whole update before anything is applied, so a
 * malformed update changes nothing. Fails with ERR_DECODE, ERR_LIMIT or
 * ERR_INTEGRITY.
 */
export function decodeUpdate(bytes: Uint8Array, limits?: Partial<Limits>): DecodedUpdate {
  const state = decodeState(bytes, limits);
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
          const text = decodeUtf8(state.buffer, state.offset, state.offset + length);
          state.offset += length;
          checkJsonDepth(text, state.limits.maxDepth); // the same budget the API allows (canonical.ts)
          // Only the canonical spelling: a run is re-encoded when it is split, and must not change.
          const parsed = checkCanonicalJson(text);
          if (!Array.isArray(parsed)) throw errors.decode('a value run is not a JSON array');
          content = parsed;
          len = parsed.length;
          break;
        }
        default:
          content = null;
          len = uint.decode(state);
      }
      if (len === 0) throw errors.decode('empty run');
      if (clock + len > Number.MAX_SAFE_INTEGER) throw errors.decode('clock beyond 2^53-1');
      // A run can only follow and precede elements that existed before it
      // was typed, so pointing at a later element of its own client is forged.
      if ((originClient === owner && originClock >= clock) || (rightClient === owner && rightClock >= clock)) {
        throw errors.integrity(`run ${owner}:${clock} refers to its own future`);
      }
      structs.push({ client: owner, clock, len, content, originClient, originClock, rightClient, rightClock });
      clock += len;
    }
  }
  const deletes: number[] = [];
  const deleteGroups = readCount(state, 2);
  for (let g = 0; g < deleteGroups; g++) {
    const owner = client(uint.decode(state));
    const rangeCount = readCount(state, 2);
    if (deletes.length / 3 + rangeCount > state.limits.maxItems) throw errors.limit('deleted ranges in an update', deletes.length / 3 + rangeCount, state.limits.maxItems);
    let end = 0;
    for (let r = 0; r < rangeCount; r++) {
      const clock = end + uint.decode(state);
      const len = uint.decode(state);
      if (len === 0) throw errors.decode('empty deleted range');
      if (clock + len > Number.MAX_SAFE_INTEGER) throw errors.decode('deleted range beyond 2^53-1');
      deletes.push(owner, clock, len);
      end = clock + len;
    }
  }
  return { structs, deletes };
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

