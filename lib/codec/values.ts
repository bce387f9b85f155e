import { ReplicationError, errors } from '../errors.js';
import { type Codec, type DecodeState, DEFAULT_LIMITS, decode, encode } from './codec.js';
import { bytes, decodeUtf8, readLength, uint, writeUtf8 } from './primitives.js';
import { canonicalValue, checkCanonicalJson } from './canonical.js';

/**
 * How a structure turns user values into bytes. Pluggable per replica: the
 * name travels in the handshake so two replicas with different encodings
 * refuse each other instead of misreading each other's values.
 */
export interface ValueEncoding<T = unknown> extends Codec<T> {
  readonly name: string;
  /**
   * What a replica stores for a caller's `value`: a copy of exactly what its
   * peers will decode. Throws ERR_INVALID_ARGUMENT for a value the encoding
   * cannot carry exactly (see canonical.ts).
   */
  canonical?(value: unknown): T;
}

/**
 * JSON values (the default). Decoding checks the nesting depth before
 * parsing, and relies on `JSON.parse`, which defines keys such as
 * `__proto__` as plain own properties and never touches `Object.prototype`.
 */
export const json: ValueEncoding<unknown> = {
  name: 'json',
  canonical: (value) => canonicalValue(value).value,
  encodingLength(value) {
    const length = Buffer.byteLength(stringify(value), 'utf8');
    return uint.encodingLength(length) + length;
  },
  encode(value, state) {
    const text = stringify(value);
    const length = Buffer.byteLength(text, 'utf8');
    uint.encode(length, state);
    state.offset += writeUtf8(state.buffer, text, state.offset, length);
  },
  decode(state: DecodeState) {
    const length = readLength(state);
    const start = state.offset;
    state.offset += length;
    const text = decodeUtf8(state.buffer, start, start + length);
    // JSON nesting has its own budget, the same the API allows, so that what
    // one replica accepts from its caller every peer accepts from the wire.
    checkJsonDepth(text, state.limits.maxDepth);
    // Only the canonical spelling: what we accept re-encodes byte for byte when relayed.
    return checkCanonicalJson(text);
  },
};

/**
 * What a replica should hold for a caller's `value` under `encoding`: the
 * encoding's own `canonical`, or else the value after a round trip through
 * the encoding (what peers would decode). ERR_INVALID_ARGUMENT if the
 * encoding cannot write it at all.
 */
export function canonicalOf<T>(encoding: ValueEncoding<T>, value: unknown): T {
  if (encoding.canonical) return encoding.canonical(value);
  let bytes: Buffer;
  try {
    bytes = encode(encoding, value as T);
  } catch (err) {
    if (err instanceof ReplicationError) throw err;
    throw errors.invalidArgument(`value cannot be encoded with ${encoding.name}: ${(err as Error)?.message ?? err}`);
  }
  return decode(encoding, bytes);
}

/** Raw bytes, for applications that bring their own serialisation. */
export const binary: ValueEncoding<Uint8Array> = {
  name: 'binary',
  ...bytes,
  canonical(value) {
    if (!(value instanceof Uint8Array)) throw errors.invalidArgument('binary values are Uint8Arrays');
    if (value.length > DEFAULT_LIMITS.maxBytes) throw errors.invalidArgument(`value of ${value.length} bytes; the limit is ${DEFAULT_LIMITS.maxBytes}`);
    // A copy: the caller may reuse its buffer.
    return Uint8Array.from(value);
  },
};

export const valueEncodings: Readonly<Record<string, ValueEncoding<any>>> = Object.freeze({ json, binary });

/**
 * JSON text for a value. JSON.stringify escapes lone surrogates (`"\ud800"`),
 * so the text is always well-formed UTF-8 and such strings round-trip exactly.
 */
function stringify(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    // BigInt, a cycle, or a throwing toJSON: the caller's value, not our bug.
    throw errors.invalidArgument(`value is not JSON-serialisable: ${(err as Error)?.message ?? err}`);
  }
  if (text === undefined) throw errors.invalidArgument('value is not JSON-serialisable');
  return text;
}

/** Fails with ERR_LIMIT if brackets outside strings nest deeper than `maxDepth`. */
export function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw errors.limit('JSON nesting depth', depth, maxDepth);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}
