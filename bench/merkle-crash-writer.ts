// A child process for the merkle bench's "open after a crash" row: opens the
// store, writes to `writes` of its keys (each acknowledged: in the database),
// prints "written" and waits to be killed with SIGKILL.
// Usage: node merkle-crash-writer.js <path> <depth> <keys> <writes>
import { MerkleStore } from '../lib/index.js';

const [path, depth, keys, writes] = process.argv.slice(2).map((arg, i) => (i === 0 ? arg : Number(arg))) as [string, number, number, number];
const store = new MerkleStore<unknown>({ path, depth });
await store.open();
const window = 4096;
// Spread over the key space, so the writes touch as many buckets as they can.
const stride = Math.max(1, Math.floor(keys / writes));
for (let i = 0; i < writes; i += window) {
  const puts: Promise<string>[] = [];
  for (let j = i; j < Math.min(writes, i + window); j++) puts.push(store.put(`key-${(j * stride) % keys}`, { rewritten: j, payload: 'z'.repeat(24) }));
  await Promise.all(puts);
}
process.stdout.write('written\n');
setInterval(() => {}, 1000); // stay alive until killed
