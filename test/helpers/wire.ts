import { Transform, type TransformCallback } from 'node:stream';
import type { Random } from '../../lib/random.js';

/** Re-splits the byte stream into chunks of exactly `size` bytes (1 = every byte alone). */
export function chunker(size = 1): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let i = 0; i < chunk.length; i += size) this.push(chunk.subarray(i, i + size));
      callback();
    },
  });
}

/** Re-splits the byte stream at random points. */
export function randomChunker(random: Random, maxSize = 64): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let i = 0; i < chunk.length; ) {
        const size = random.int(1, maxSize);
        this.push(chunk.subarray(i, i + size));
        i += size;
      }
      callback();
    },
  });
}

/**
 * Delays every chunk by `latencyMs` plus up to `jitterMs`, keeping order (a
 * stream link never reorders bytes).
 */
export function latency(random: Random, latencyMs: number, jitterMs = 0): Transform {
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const due = Math.max(last, Date.now() + latencyMs + random.int(0, jitterMs));
      last = due;
      setTimeout(() => callback(null, chunk), due - Date.now());
    },
  });
}

/** Counts the bytes that pass (the benches' counter). */
export { byteCounter as counter } from '../../bench/harness.js';
