// Shared checks for the codec tests: round trips and coded failures.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import type { Test } from 'tape';
import { type Codec, type Limits, decode, encode } from '../../lib/codec/index.js';
import { ReplicationError } from '../../lib/errors.js';

/** Values are equal when deep-equal; NaN and -0 compare as Object.is does. */
export function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** Byte strings are equal when their bytes are, whatever view or class holds them. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/**
 * True when `value` survives encode then decode, and re-encoding what was
 * decoded gives back the very same bytes (one encoding per value).
 */
export function survives<T>(codec: Codec<T>, value: T, equal: (a: T, b: T) => boolean = same): boolean {
  const bytes = encode(codec, value);
  if (bytes.length !== codec.encodingLength(value)) return false;
  const back = decode(codec, bytes);
  return equal(back, value) && encode(codec, back).equals(bytes);
}

/** One tape assertion per case: the value round-trips exactly (an exception fails the case, not the file). */
export function roundTrip<T>(t: Test, codec: Codec<T>, value: T, name: string, equal?: (a: T, b: T) => boolean): void {
  try {
    t.ok(survives(codec, value, equal), `round trip: ${name}`);
  } catch (err) {
    t.fail(`round trip: ${name}: threw ${err instanceof ReplicationError ? `${err.code}: ${err.message}` : String(err)}`);
  }
}

/** Asserts that `fn` throws a ReplicationError with `code`. */
export function throwsCode(t: Test, fn: () => unknown, code: string, name: string): void {
  try {
    fn();
    t.fail(`${name}: expected ${code}, but nothing was thrown`);
  } catch (err) {
    if (err instanceof ReplicationError && err.code === code) t.pass(`${name} -> ${code}`);
    else t.fail(`${name}: expected ${code}, got ${err instanceof ReplicationError ? err.code : String(err)}`);
  }
}

/** Asserts that decoding `bytes` fails with `code`. */
export function rejects(t: Test, codec: Codec<any>, bytes: Uint8Array | number[], code: string, name: string, limits?: Partial<Limits>): void {
  throwsCode(t, () => decode(codec, Uint8Array.from(bytes), limits), code, name);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * Strings of any Unicode scalar values (every code point but the
 * surrogates). Built by hand because fast-check's `unit: 'binary'` costs about
 * a second of CPU to set up, per file.
 */
export function unicodeString(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const SURROGATES = 0x800;
  const scalar = fc.integer({ min: 0, max: 0x10ffff - SURROGATES }).map((n) => String.fromCodePoint(n < 0xd800 ? n : n + SURROGATES));
  return fc.string({ unit: scalar, maxLength: options.maxLength });
}
