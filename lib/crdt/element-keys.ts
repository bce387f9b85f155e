import { type Codec, type ValueEncoding, canonicalOf, decode, encode, json } from '../codec/index.js';

/**
 * Set elements and register values are compared by their encoded form: two
 * values are the same element exactly when the value encoding writes the
 * same bytes for them (with JSON, `{"a":1,"b":2}` and `{"b":2,"a":1}` are
 * two elements). In memory an element is keyed by those bytes as a latin1
 * string; on the wire it travels as the encoding's own bytes.
 */
export class ElementKeys {
  /** Wire codec for element keys: decodes what a peer sent and re-encodes it, so keys are canonical. */
  readonly codec: Codec<string>;

  constructor(readonly encoding: ValueEncoding<any> = json) {
    this.codec = {
      encodingLength: (key) => Buffer.byteLength(key, 'latin1'),
      encode(key, state) {
        state.offset += state.buffer.write(key, state.offset, 'latin1');
      },
      decode: (state) => encode(encoding, encoding.decode(state)).toString('latin1'),
    };
  }

  keyOf(value: unknown): string {
    // Canonical first: a value the encoding would change (Infinity, -0) is refused, not silently turned into another element.
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
