import { ReplicationError, errors } from '../errors.js';

/**
 * Limits every decoder enforces. A peer controls the bytes we decode, so
 * every length, count and depth read from the wire is checked before it is
 * trusted.
 */
export interface Limits {
  /** Longest byte string or UTF-8 string, in bytes. Default 1 MiB. */
  maxBytes: number;
  /** Most items in one array or map. Default 1,048,576. */
  maxItems: number;
  /** Deepest nesting of arrays, maps, structs and JSON values. Default 64. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBytes: 1 << 20,
  maxItems: 1 << 20,
  maxDepth: 64,
});

export interface EncodeState {
  buffer: Buffer;
  offset: number;
}

export interface DecodeState {
  buffer: Buffer;
  offset: number;
  end: number;
  depth: number;
  limits: Limits;
}

/**
 * A codec is three small functions over one type: how many bytes a value
 * takes, how to write it at `state.offset`, and how to read it back. Codecs
 * compose: messages are built from primitives with `struct`, `array`, `union`.
 */
export interface Codec<T> {
  encodingLength(value: T): number;
  encode(value: T, state: EncodeState): void;
  decode(state: DecodeState): T;
}

/** The type a codec reads and writes. */
export type Infer<C> = C extends Codec<infer T> ? T : never;

export function encode<T>(codec: Codec<T>, value: T): Buffer {
  const length = codec.encodingLength(value);
  const state: EncodeState = { buffer: Buffer.allocUnsafe(length), offset: 0 };
  codec.encode(value, state);
  if (state.offset !== length) {
    throw new Error(`codec wrote ${state.offset} bytes but announced ${length}`);
  }
  return state.buffer;
}

export function decodeState(bytes: Uint8Array, limits: Partial<Limits> = {}): DecodeState {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { buffer, offset: 0, end: buffer.length, depth: 0, limits: withDefaults(limits) };
}

/**
 * Fills in the default for every limit not given. A limit passed as
 * `undefined` (an unset option passed along) takes its default too: spread
 * over the defaults it would compare false against every length and switch
 * the limit off.
 */
export function withDefaults(limits: Partial<Limits>): Limits {
  return {
    maxBytes: limits.maxBytes ?? DEFAULT_LIMITS.maxBytes,
    maxItems: limits.maxItems ?? DEFAULT_LIMITS.maxItems,
    maxDepth: limits.maxDepth ?? DEFAULT_LIMITS.maxDepth,
  };
}

/**
 * Decodes one whole value. Trailing bytes are an error, and so is anything a
 * codec throws that is not already a coded ReplicationError.
 */
export function decode<T>(codec: Codec<T>, bytes: Uint8Array, limits?: Partial<Limits>): T {
  const state = decodeState(bytes, limits);
  const value = guardDecode(() => codec.decode(state));
  if (state.offset !== state.end) throw errors.decode(`${state.end - state.offset} trailing bytes`);
  return value;
}

/** Runs a decoder and turns any stray exception into ERR_DECODE. */
export function guardDecode<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ReplicationError) throw err;
    throw errors.decode(`malformed input: ${(err as Error)?.message ?? err}`, err);
  }
}

/** Fails with ERR_DECODE unless `n` more bytes are available. */
export function need(state: DecodeState, n: number): void {
  if (n > state.end - state.offset) throw errors.decode(`unexpected end of input: need ${n} bytes`);
}

/** Enters one level of nesting, failing with ERR_LIMIT past maxDepth. */
export function enter(state: DecodeState): void {
  if (++state.depth > state.limits.maxDepth) throw errors.limit('nesting depth', state.depth, state.limits.maxDepth);
}

export function leave(state: DecodeState): void {
  state.depth--;
}
