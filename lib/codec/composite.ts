import { errors } from '../errors.js';
import { type Codec, enter, leave } from './codec.js';
import { readCount, uint } from './primitives.js';

/**
 * A counted array of one item codec. `minItemBytes` (default 1) is the least
 * an item takes on the wire; the decoder refuses a count the bytes left cannot
 * hold before allocating. Pass 0 for items that may encode to nothing
 * (`constant`, an empty `struct`): encoding refuses an item shorter than it.
 */
export function array<T>(item: Codec<T>, minItemBytes = 1): Codec<T[]> {
  return {
    encodingLength(items) {
      let length = uint.encodingLength(items.length);
      for (let i = 0; i < items.length; i++) length += item.encodingLength(items[i]);
      return length;
    },
    encode(items, state) {
      uint.encode(items.length, state);
      for (let i = 0; i < items.length; i++) {
        const start = state.offset;
        item.encode(items[i], state);
        checkMinimum(state.offset - start, minItemBytes, 'array item', 'minItemBytes');
      }
    },
    decode(state) {
      enter(state);
      const count = readCount(state, minItemBytes);
      const items = new Array<T>(count);
      for (let i = 0; i < count; i++) items[i] = item.decode(state);
      leave(state);
      return items;
    },
  };
}

/**
 * A counted map. Decodes into a `Map`, so peer-chosen keys never meet an
 * object prototype; a key seen twice is ERR_DECODE. `minEntryBytes` (default
 * 1) is the least a key and its value take together, as for `array`: a set
 * such as `map(uint, constant(true))` takes one byte per entry.
 */
export function map<K, V>(key: Codec<K>, value: Codec<V>, minEntryBytes = 1): Codec<Map<K, V>> {
  return {
    encodingLength(m) {
      let length = uint.encodingLength(m.size);
      for (const [k, v] of m) length += key.encodingLength(k) + value.encodingLength(v);
      return length;
    },
    encode(m, state) {
      uint.encode(m.size, state);
      for (const [k, v] of m) {
        const start = state.offset;
        key.encode(k, state);
        value.encode(v, state);
        checkMinimum(state.offset - start, minEntryBytes, 'map entry', 'minEntryBytes');
      }
    },
    decode(state) {
      enter(state);
      const count = readCount(state, minEntryBytes);
      const m = new Map<K, V>();
      for (let i = 0; i < count; i++) {
        const k = key.decode(state);
        if (m.has(k)) throw errors.decode('duplicate key in map');
        m.set(k, value.decode(state));
      }
      leave(state);
      return m;
    },
  };
}

/** Refuses to write what the decoder's count check would refuse to read. */
function checkMinimum(written: number, minimum: number, what: string, option: string): void {
  if (written < minimum) {
    throw errors.invalidArgument(`${what} encoded in ${written} bytes, below ${option} ${minimum}; lower ${option}`);
  }
}

type Fields = Record<string, Codec<any>>;
type StructOf<F extends Fields> = { [K in keyof F]: F[K] extends Codec<infer T> ? T : never };

/**
 * A record of named fields, written in declaration order with no field names
 * on the wire. Messages are structs, never positional arrays.
 */
export function struct<F extends Fields>(fields: F): Codec<StructOf<F>> {
  const entries = Object.entries(fields);
  return {
    encodingLength(value) {
      let length = 0;
      for (const [name, codec] of entries) length += codec.encodingLength((value as any)[name]);
      return length;
    },
    encode(value, state) {
      for (const [name, codec] of entries) codec.encode((value as any)[name], state);
    },
    decode(state) {
      enter(state);
      const value: Record<string, unknown> = {};
      for (const [name, codec] of entries) value[name] = codec.decode(state);
      leave(state);
      return value as StructOf<F>;
    },
  };
}

/** A value that takes no bytes: the `type` tag of a message struct. */
export function constant<T>(value: T): Codec<T> {
  return {
    encodingLength: () => 0,
    encode() {},
    decode: () => value,
  };
}

/** A value or `undefined`, behind a one-byte flag. */
export function optional<T>(codec: Codec<T>): Codec<T | undefined> {
  return {
    encodingLength: (v) => (v === undefined ? 1 : 1 + codec.encodingLength(v)),
    encode(v, state) {
      if (v === undefined) {
        state.buffer[state.offset++] = 0;
        return;
      }
      state.buffer[state.offset++] = 1;
      codec.encode(v, state);
    },
    decode(state) {
      if (state.offset >= state.end) throw errors.decode('truncated optional');
      const flag = state.buffer[state.offset++];
      if (flag === 0) return undefined;
      if (flag !== 1) throw errors.decode(`invalid optional flag ${flag}`);
      return codec.decode(state);
    },
  };
}

/**
 * Messages of several types told apart by a varint tag. Each case is
 * `[tag, codec]`, keyed by the message's `type`; tags are part of the wire
 * format, so a list of cases may only ever be appended to.
 */
export function union<M extends { type: string }>(cases: { [K in M['type']]: [tag: number, codec: Codec<Extract<M, { type: K }>>] }): Codec<M> {
  const byType = new Map<string, [number, Codec<any>]>();
  const byTag = new Map<number, Codec<any>>();
  for (const [type, [tag, codec]] of Object.entries(cases) as [string, [number, Codec<any>]][]) {
    if (byTag.has(tag)) throw new Error(`duplicate union tag ${tag}`);
    byType.set(type, [tag, codec]);
    byTag.set(tag, codec);
  }
  const caseOf = (m: M) => {
    const found = byType.get(m.type);
    if (!found) throw errors.invalidArgument(`unknown message type ${m.type}`);
    return found;
  };
  return {
    encodingLength(m) {
      const [tag, codec] = caseOf(m);
      return uint.encodingLength(tag) + codec.encodingLength(m);
    },
    encode(m, state) {
      const [tag, codec] = caseOf(m);
      uint.encode(tag, state);
      codec.encode(m, state);
    },
    decode(state) {
      const tag = uint.decode(state);
      const codec = byTag.get(tag);
      if (!codec) throw errors.decode(`unknown message tag ${tag}`);
      return codec.decode(state);
    },
  };
}

/** Defers building a codec, for recursive types. */
export function lazy<T>(build: () => Codec<T>): Codec<T> {
  let codec: Codec<T> | undefined;
  const get = () => (codec ??= build());
  return {
    encodingLength: (v) => get().encodingLength(v),
    encode: (v, state) => get().encode(v, state),
    decode: (state) => get().decode(state),
  };
}
