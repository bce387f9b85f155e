// How the store lays out its keys in the database.
import { keyPosition } from './hash.js';

export const EMPTY_BYTES = new Uint8Array(0);

/** 8-byte big-endian hybrid-clock time: tombstone-index keys sort by delete time. */
export function timeKey(ts: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32BE(Math.floor(ts / 2 ** 32), 0);
  out.writeUInt32BE(ts >>> 0, 4);
  return out;
}

/** A tombstone-index key: the delete time, then the stored key. */
export function tombstoneKey(deleted: number, stored: Uint8Array): Buffer {
  return Buffer.concat([timeKey(deleted), stored]);
}

/** A 4-byte big-endian position. */
export function position(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** How a key is stored: its 4-byte hash position, then its UTF-8 bytes, so a bucket is a key range. */
export function dataKey(key: string): Buffer {
  const bytes = Buffer.from(key, 'utf8');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(keyPosition(bytes));
  out.set(bytes, 4);
  return out;
}
