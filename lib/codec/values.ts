import { errors } from '../errors.js';
import { type Codec, type DecodeState } from './codec.js';
import { bytes, decodeUtf8, readLength, uint, writeUtf8 } from './primitives.js';

/**
 * How a structure turns user values into bytes. Pluggable per replica: the
 * name travels in the handshake so two replicas with different encodings
 * refuse each other instead of misreading each other's values.
 */
export interface ValueEncoding<T = unknown> extends Codec<T> {
  readonly name: string;
}

/**
 * JSON values (the default). Decoding checks the nesting depth before
 * parsing, and relies on `JSON.parse`, which defines keys such as
 * `__proto__` as plain own properties and never touches `Object.prototype`.
 */
export const json: ValueEncoding<unknown> = {
  name: 'json',
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
    checkJsonDepth(text, state.limits.maxDepth - state.depth);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw errors.decode(`invalid JSON value: ${(err as Error).message}`, err);
    }
  },
};

/** Raw bytes, for applications that bring their own serialisation. */
export const binary: ValueEncoding<Uint8Array> = { name: 'binary', ...bytes };

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
