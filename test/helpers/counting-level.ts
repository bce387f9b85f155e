import { MemoryLevel } from 'memory-level';

/** A memory database that counts the write round trips reaching it, as a subclass: the object itself is never patched. */
export class CountingLevel extends MemoryLevel<Uint8Array, Uint8Array> {
  batches = 0;
  async _batch(...args: unknown[]): Promise<void> {
    this.batches++;
    return (MemoryLevel.prototype as unknown as { _batch: (...a: unknown[]) => Promise<void> })._batch.apply(this, args);
  }
}
