// A child process for crash.test: writes to a MerkleStore with `sync` and
// prints each write's sequence number once `put` has resolved, until killed.
// Usage: node crash-writer.js <path> <first sequence number>
import { MerkleStore } from '../../lib/index.js';

const [path, first] = process.argv.slice(2);
const KEYS = 400;
const IN_FLIGHT = 4;

// Depth 14 stores the tree in several chunks, and a checkpoint every few buckets
// makes kills land in the middle of one (some chunks newer than the header says).
const store = new MerkleStore<{ seq: number }>({ path, depth: 14, sync: true, checkpointBuckets: 8 });
await store.open();
process.stdout.write(`open ${store.openedFrom}\n`);
let next = Number(first);
async function writer(): Promise<never> {
  while (true) {
    const seq = next++;
    await store.put(`k${seq % KEYS}`, { seq });
    process.stdout.write(`${seq}\n`);
  }
}
// Several writers at once: writes in one group share a batch and an fsync.
await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
