import { type Codec, type DecodeState, type ValueEncoding, canonicalOf, decode, encode, json } from '../codec/index.js';
import { MAX_VALUE_BYTES } from '../codec/canonical.js';
import { decodeUtf8 } from '../codec/primitives.js';
import { HASH_PRIME, HASH_START, finishHash, hashOf } from '../key-hash.js';

/** A key codec that can also give each key's hash (`hashOf` in lib/key-hash.ts) as it decodes it. */
export interface HashingKeyCodec extends Codec<string> {
  /** Decodes a key as `decode` does, and writes its `hashOf` to `hashes[at]`. */
  decodeHashed(state: DecodeState, hashes: Int32Array, at: number): string;
  /** True if a key whose bytes are a plain JSON string (see `plainJsonString`) is those bytes as they are: readers of whole entries may take it so. */
  readonly plainJson: boolean;
}

/**
 * Set elements and register values are compared by their encoded form: two
 * values are the same element exactly when the value encoding writes the
 * same bytes for them (with JSON, `{"a":1,"b":2}` and `{"b":2,"a":1}` are
 * two elements). In memory an element is keyed by those bytes as a latin1
 * string; on the wire it travels as the encoding's own bytes.
 */
export class ElementKeys {
  /** Wire codec for element keys: decodes what a peer sent and re-encodes it, so keys are canonical. */
  readonly codec: HashingKeyCodec;

  constructor(readonly encoding: ValueEncoding<any> = json) {
    const canonical = (value: unknown) => encode(encoding, value).toString('latin1');
    this.codec = {
      plainJson: encoding === json,
      encodingLength: (key) => key.length,
      encode(key, state) {
        // Short keys (most elements) byte by byte: cheaper than a call into the buffer's writer.
        if (key.length > 32) {
          state.offset += state.buffer.write(key, state.offset, key.length, 'latin1');
          return;
        }
        const buf = state.buffer;
        let at = state.offset;
        for (let i = 0; i < key.length; i++) buf[at++] = key.charCodeAt(i);
        state.offset = at;
      },
      decode(state) {
        if (encoding === json) {
          const key = plainJsonString(state);
          if (key !== undefined) return key;
        }
        // Decoded, then written again our way: a peer's non-canonical form
        // becomes the one key every replica uses for that element.
        const value = encoding.decode(state);
        return (encoding === json ? jsonKey(value) : undefined) ?? canonical(value);
      },
      decodeHashed(state, hashes, at) {
        if (encoding === json) {
          const key = plainJsonString(state, hashes, at);
          if (key !== undefined) return key;
        }
        const key = this.decode(state);
        hashes[at] = hashOf(key);
        return key;
      },
    };
  }

  keyOf(value: unknown): string {
    if (this.encoding === json) {
      const key = jsonKey(value);
      if (key !== undefined && key.length <= MAX_VALUE_BYTES) return key;
    }
    // Canonical first: a value the encoding would change (Infinity, a Date) is refused, not silently turned into another element.
    return encode(this.encoding, canonicalOf(this.encoding, value)).toString('latin1');
  }

  valueOf(key: string): unknown {
    return decode(this.encoding, Buffer.from(key, 'latin1'));
  }

  /** Keys sorted by their bytes, so every replica lists elements in the same order. */
  static sorted(keys: Iterable<string>): string[] {
    return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/**
 * The key `json` writes for a string whose JSON text is plain ASCII (the
 * common element), built without a buffer: the varint length as
 * characters, then the text, which is its own latin1 form. Undefined for
 * anything else, which takes the encoder's own path.
 */
function jsonKey(value: unknown): string | undefined {
  // Strings only: their JSON text has one form; other values take the encoder's own path.
  if (typeof value !== 'string') return undefined;
  const text = JSON.stringify(value);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return undefined;
  let n = text.length;
  if (n < 0x80) return String.fromCharCode(n) + text;
  let prefix = '';
  while (n >= 0x80) {
    prefix += String.fromCharCode((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  return prefix + String.fromCharCode(n) + text;
}

/**
 * A JSON string of printable ASCII without escapes (`"k123"`), read as it
 * is: such text has one JSON form, so its bytes (with their length prefix)
 * are the key, and nothing needs parsing. Undefined, with nothing read,
 * for anything else.
 */
function plainJsonString(state: DecodeState, hashes?: Int32Array, at = 0): string | undefined {
  const buf = state.buffer;
  const start = state.offset;
  const length = buf[start];
  // One-byte length prefix only: longer elements take the general path.
  if (length === undefined || length < 2 || length >= 0x80) return undefined;
  const end = start + 1 + length;
  if (end > state.end || buf[start + 1] !== 0x22 || buf[end - 1] !== 0x22) return undefined;
  // The key's hash is taken over the same bytes on the way (each byte is one unit of the latin1 key): no second pass.
  let hash = Math.imul(Math.imul(HASH_START ^ length, HASH_PRIME) ^ 0x22, HASH_PRIME);
  for (let i = start + 2; i < end - 1; i++) {
    const c = buf[i];
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return undefined;
    hash = Math.imul(hash ^ c, HASH_PRIME);
  }
  if (hashes !== undefined) hashes[at] = finishHash(Math.imul(hash ^ 0x22, HASH_PRIME));
  state.offset = end;
  // Every byte is ASCII, so its latin1 string is its UTF-8 one: read the way the codec reads short strings.
  return decodeUtf8(buf, start, end);
}
