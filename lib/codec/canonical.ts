import { errors } from '../errors.js';
import { DEFAULT_LIMITS } from './codec.js';

/**
 * The one door every JSON value passes, from the API or from the wire.
 *
 * A replica must hold exactly what its peers will receive. JSON cannot
 * carry everything JavaScript can (`-0`, `Infinity`, `1e309`, `BigInt`,
 * `Date`, cycles), and text from a peer can spell one value many ways
 * (`1.0`, `{"a":1,"a":2}`, `"\u005f_proto__"`, spaces). So:
 *
 * - at the API, `canonicalValue` refuses what JSON cannot carry exactly
 *   (ERR_INVALID_ARGUMENT) and returns the value's canonical text and a
 *   fresh copy parsed from it: the caller's object is never kept, and the
 *   replica holds what its peers will decode (so `-0` is held as `0`);
 * - at the decoder, `checkCanonicalJson` refuses text that is not the
 *   canonical spelling of its value (ERR_DECODE), so what a replica accepts
 *   re-encodes byte for byte when it is relayed.
 *
 * Canonical means what `JSON.stringify` writes for the parsed value. The
 * limits are the decoders' own (nesting depth, bytes), so a value accepted
 * here is never refused by a peer that keeps the default limits.
 */
export interface CanonicalLimits {
  /** Deepest nesting of arrays and objects; the top-level container is depth 1. Default 64, the decoders' limit. */
  maxDepth?: number;
  /** Longest canonical text, in UTF-8 bytes. Default `MAX_VALUE_BYTES`. */
  maxBytes?: number;
}

/**
 * Longest value text accepted at the API by default: 1 MiB (the default
 * frame and string limit) less 64 KiB of room for the message around it,
 * so that a value accepted here always fits in one frame of the default size.
 */
export const MAX_VALUE_BYTES = (1 << 20) - (64 << 10);

export interface Canonical {
  /** The canonical JSON text: exactly what goes on the wire. */
  text: string;
  /** A fresh copy of the value, parsed from `text`. */
  value: unknown;
}

/** Checks `value` and returns its canonical text and copy; ERR_INVALID_ARGUMENT if JSON cannot carry it exactly. */
export function canonicalValue(value: unknown, limits: CanonicalLimits = {}): Canonical {
  const text = canonicalText(value, limits);
  return { text, value: JSON.parse(text) };
}

/**
 * The canonical text alone, for a replica that keeps values as their text
 * (the Model, the Log): the same checks as `canonicalValue`, without
 * parsing a copy that nobody reads (a third of the cost of a `set`).
 */
export function canonicalText(value: unknown, limits?: CanonicalLimits): string {
  // A string, the commonest value, with the default limits: nothing to check
  // but its size, and a short one (at most 3 UTF-8 bytes per unit) needs no count.
  if (typeof value === 'string' && limits === undefined) {
    if (value.length <= PLAIN_SHORT && isPlainAscii(value)) return `"${value}"`;
    const text = JSON.stringify(value);
    if (text.length * 3 <= MAX_VALUE_BYTES) return text;
  }
  const maxDepth = limits?.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const maxBytes = limits?.maxBytes ?? MAX_VALUE_BYTES;
  check(value, 0, maxDepth, '');
  const text = JSON.stringify(value);
  if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes)) {
    throw errors.invalidArgument(`value takes ${Buffer.byteLength(text)} bytes as JSON; the limit is ${maxBytes}`);
  }
  return text;
}

/** Strings up to this long are checked for `isPlainAscii`: quoted, they stay under 13 units, which V8 makes a flat string rather than a concatenation to flatten later. */
const PLAIN_SHORT = 10;

/** True if JSON.stringify would write `s` as it stands between quotes: printable ASCII, no quote or backslash. */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
  }
  return true;
}

/** Checks a peer's JSON text: ERR_DECODE unless it is the canonical spelling of its value. Returns the parsed value. */
export function checkCanonicalJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw errors.decode(`invalid JSON value: ${(err as Error).message}`, err);
  }
  if (JSON.stringify(value) !== text) throw errors.decode('JSON value is not in canonical form (it would change when relayed)');
  return value;
}

/** True if `text` is a string with no lone surrogate: the string codec could not carry one. */
export function isWellFormed(text: string): boolean {
  return text.isWellFormed();
}

function check(value: unknown, depth: number, maxDepth: number, path: string): void {
  switch (typeof value) {
    case 'string':
      return;
    case 'boolean':
      return;
    case 'number':
      // -0 is taken as 0: the copy made from the canonical text holds 0, which is what peers get.
      if (!Number.isFinite(value)) throw errors.invalidArgument(`${where(path)}${value} cannot be replicated as JSON`);
      return;
    case 'object': {
      if (value === null) return;
      if (depth + 1 > maxDepth) throw errors.invalidArgument(`${where(path)}value nested deeper than ${maxDepth} levels (or circular)`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          // JSON writes holes and unrepresentable items as null: the replica would hold something else.
          if (!(i in value) || item === undefined || typeof item === 'function' || typeof item === 'symbol') {
            throw errors.invalidArgument(`${where(`${path}[${i}]`)}array item cannot be replicated as JSON`);
          }
          check(item, depth + 1, maxDepth, `${path}[${i}]`);
        }
        return;
      }
      const proto = Object.getPrototypeOf(value);
      // Dates, Maps, class instances: JSON turns them into something else (or nothing).
      if (proto !== Object.prototype && proto !== null) {
        throw errors.invalidArgument(`${where(path)}only plain objects and arrays replicate as JSON, not ${(value as object).constructor?.name ?? 'this object'}`);
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw errors.invalidArgument(`${where(path)}objects with toJSON do not replicate as themselves`);
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
          throw errors.invalidArgument(`${where(`${path}.${key}`)}property cannot be replicated as JSON`);
        }
        check(item, depth + 1, maxDepth, `${path}.${key}`);
      }
      return;
    }
    case 'bigint':
      throw errors.invalidArgument(`${where(path)}BigInt cannot be replicated as JSON`);
    default:
      throw errors.invalidArgument(`${where(path)}${typeof value} cannot be replicated as JSON`);
  }
}

function where(path: string): string {
  return path === '' ? '' : `at ${path}: `;
}
