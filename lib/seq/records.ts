import { type DecodeState, readCount, uint } from '../codec/index.js';
import { decodeUtf8 } from '../codec/primitives.js';
import { checkJsonDepth } from '../codec/values.js';
import { checkCanonicalJson } from '../codec/canonical.js';
import { errors } from '../errors.js';
import type { Writer } from './writer.js';

/*
 * What the two update forms (rows in update-codec.ts, columns in
 * column-codec.ts) share: the record kinds, the decoded shape, how much of a
 * run fits a byte budget, and the deleted-ranges section.
 */

/** Content kinds of a record. The values are part of both wire forms: never change them. */
export const KIND_TEXT = 0;
export const KIND_VALUES = 1;
export const KIND_DELETED = 2;

/**
 * Longest record the encoders build by joining text or value runs, in
 * elements (joining copies the content). Deleted runs carry no content and
 * are joined whatever their length.
 */
export const MAX_RECORD = 1 << 16;

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

/**
 * Where an encoder puts records: the row or the column form. The walk over
 * the document (which runs, joined how, cut where) is the same for both.
 */
export interface Sink {
  reset(): void;
  /** Bytes the update would take if finished now, with room for what finish() adds: never less than the truth. */
  size(): number;
  /** The index of `client` in the client table, adding it on first use. */
  clientIndex(client: number): number;
  beginGroup(client: number, clock: number): void;
  /**
   * Writes one record of `n` elements from `(client, clock)` (content null
   * for deleted ones), or fewer if `budget` runs out; returns how many were
   * written (0: none fit, and nothing was written). `force`: at least one.
   */
  record(client: number, clock: number, originClient: number, originClock: number, rightClient: number, rightClock: number, content: string | unknown[] | null, n: number, budget: number, force: boolean): number;
  /** Closes the group begun last, which holds `count` records (0: drop it). */
  endGroup(count: number): void;
  /** The update, with the deleted-ranges section `deletes` (holding `deleteGroups` groups). */
  finish(deletes: Writer, deleteGroups: number): Buffer;
}

/** Estimated bytes of a client table entry (a 53-bit varint takes up to 8). */
export const CLIENT_ENTRY = 8;

/** The clients an update names, in order of first use: records refer to them by index. */
export class ClientTable {
  private readonly indexes = new Map<number, number>();
  readonly clients: number[] = [];

  get size(): number {
    return this.clients.length;
  }

  /** The client's index, entering it if it is new. */
  indexOf(client: number): number {
    let index = this.indexes.get(client);
    if (index === undefined) {
      index = this.clients.length;
      this.indexes.set(client, index);
      this.clients.push(client);
    }
    return index;
  }

  /** Forgets the clients entered after the first `size` (a record that was taken back). */
  truncate(size: number): void {
    for (let i = size; i < this.clients.length; i++) this.indexes.delete(this.clients[i]);
    this.clients.length = size;
  }

  clear(): void {
    this.indexes.clear();
    this.clients.length = 0;
  }

  write(out: Writer): void {
    out.uint(this.clients.length);
    for (const client of this.clients) out.uint(client);
  }
}

export function kindOf(content: string | unknown[] | null): number {
  return content === null ? KIND_DELETED : typeof content === 'string' ? KIND_TEXT : KIND_VALUES;
}

/** The JSON of the values `fitUnits` let through (set when it returns for a value run). */
export let fittedJson = '';

/**
 * How many of the `n` elements of `content` (text or values) fit in `room`
 * bytes of encoded content: all of them if they fit, else as many as fit,
 * never cutting a surrogate pair; 0 if none fit, or 1 (2 for a pair) when
 * `force` (a chunk always carries at least one element).
 */
export function fitUnits(content: string | unknown[], n: number, room: number, force: boolean): number {
  if (typeof content === 'string') {
    let units = n;
    if (n * 3 > room && Buffer.byteLength(content, 'utf8') > room) {
      units = Math.floor(room / 3);
      if (units <= 0) {
        if (!force) return 0;
        units = 1;
      }
      if (units < n) {
        // Never cut a surrogate pair in two.
        const code = content.charCodeAt(units - 1);
        if (code >= 0xd800 && code <= 0xdbff) units = units > 1 ? units - 1 : Math.min(n, 2);
      }
    }
    return units;
  }
  let units = n;
  let json = JSON.stringify(content);
  if (json.length * 3 > room && Buffer.byteLength(json, 'utf8') > room) {
    // Take values one at a time until the room is used up.
    units = 0;
    let size = 2;
    while (units < n) {
      const next = Buffer.byteLength(JSON.stringify(content[units]), 'utf8') + 1;
      if (size + next > room) break;
      size += next;
      units++;
    }
    if (units === 0) {
      if (!force) return 0;
      units = 1;
    }
    json = JSON.stringify(content.slice(0, units));
  }
  fittedJson = json;
  return units;
}

/**
 * Checks what every decoded run must satisfy, whichever form carried it.
 * A run can only follow and precede elements that existed before it was
 * typed, so pointing at a later element of its own client is forged.
 */
export function checkStruct(s: Struct): void {
  if (s.len === 0) throw errors.decode('empty run');
  if (s.clock + s.len > Number.MAX_SAFE_INTEGER) throw errors.decode('clock beyond 2^53-1');
  if ((s.originClient === s.client && s.originClock >= s.clock) || (s.rightClient === s.client && s.rightClock >= s.clock)) {
    throw errors.integrity(`run ${s.client}:${s.clock} refers to its own future`);
  }
}

/**
 * Reads the deleted-ranges section (the same in both forms):
 * `deleteGroupCount, (clientIndex, rangeCount, (clock - end of previous range, length)*)*`.
 * With `canonical`, ranges that touch (a gap of 0 after the first) are
 * refused: the encoder always joins them.
 */
export function readDeletes(state: DecodeState, client: (index: number) => number, canonical: boolean): number[] {
  const deletes: number[] = [];
  const deleteGroups = readCount(state, 2);
  for (let g = 0; g < deleteGroups; g++) {
    const owner = client(uint.decode(state));
    const rangeCount = readCount(state, 2);
    if (deletes.length / 3 + rangeCount > state.limits.maxItems) throw errors.limit('deleted ranges in an update', deletes.length / 3 + rangeCount, state.limits.maxItems);
    let end = 0;
    for (let r = 0; r < rangeCount; r++) {
      const gap = uint.decode(state);
      if (canonical && r > 0 && gap === 0) throw errors.decode('deleted ranges that touch are not joined');
      const clock = end + gap;
      const len = uint.decode(state);
      if (len === 0) throw errors.decode('empty deleted range');
      if (clock + len > Number.MAX_SAFE_INTEGER) throw errors.decode('deleted range beyond 2^53-1');
      deletes.push(owner, clock, len);
      end = clock + len;
    }
  }
  return deletes;
}

/** Reads `length` bytes of a value run: a JSON array, in its canonical spelling only. */
export function readValues(state: DecodeState, length: number): unknown[] {
  const text = decodeUtf8(state.buffer, state.offset, state.offset + length);
  state.offset += length;
  checkJsonDepth(text, state.limits.maxDepth); // the same budget the API allows (canonical.ts)
  // Only the canonical spelling: a run is re-encoded when it is split, and must not change.
  const parsed = checkCanonicalJson(text);
  if (!Array.isArray(parsed)) throw errors.decode('a value run is not a JSON array');
  return parsed;
}

