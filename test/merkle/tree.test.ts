import test from 'tape';
import { MAX_STALE_BUCKETS, MerkleTree } from '../../lib/merkle/tree.js';
import { testRandom } from '../helpers/seed.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// updateMany leaves the inner nodes for the next read; every way of reading must see what eager updates give.
test('a tree updated lazily reads the same as one updated eagerly, whichever way it is read', (t) => {
  const random = testRandom('lazy tree');
  for (const depth of [1, 4, 10]) {
    const lazy = new MerkleTree(depth);
    const eager = new MerkleTree(depth);
    const leaves: Array<{ bucket: number; leaf: Uint8Array }> = [];
    let mismatches = 0;
    let reads = 0;
    for (let step = 0; step < 600; step++) {
      const changes: Array<{ bucket: number; before: Uint8Array | undefined; after: Uint8Array | undefined }> = [];
      for (let n = random.int(1, 40); n > 0; n--) {
        const remove = leaves.length > 0 && random.chance(0.3);
        if (remove) {
          const [gone] = leaves.splice(random.int(0, leaves.length - 1), 1);
          changes.push({ bucket: gone.bucket, before: gone.leaf, after: undefined });
        } else {
          const added = { bucket: random.int(0, 2 ** depth - 1), leaf: Uint8Array.from({ length: 16 }, () => random.int(0, 255)) };
          leaves.push(added);
          changes.push({ bucket: added.bucket, before: undefined, after: added.leaf });
        }
      }
      lazy.updateMany(changes);
      for (const c of changes) eager.update(c.bucket, c.before, c.after);
      if (lazy.staleBuckets > MAX_STALE_BUCKETS) t.fail(`${lazy.staleBuckets} buckets wait, more than ${MAX_STALE_BUCKETS}`);
      if (!random.chance(0.2)) continue;
      reads++;
      const level = random.int(0, depth);
      const index = random.int(0, 2 ** level - 1);
      const way = random.int(0, 3);
      const same =
        way === 0 ? hex(lazy.root) === hex(eager.root)
        : way === 1 ? hex(lazy.hash(level, index)) === hex(eager.hash(level, index))
        : way === 2 ? lazy.equals(level, index, eager.nodes, eager.offset(level, index))
        : hex(lazy.nodes) === hex(eager.nodes);
      if (!same) mismatches++;
    }
    t.equal(mismatches, 0, `depth ${depth}: ${reads} reads (root, a node, equals, every node) agree with the eager tree`);
    t.equal(hex(lazy.nodes), hex(eager.nodes), `depth ${depth}: the whole trees agree at the end`);
    t.equal(lazy.staleBuckets, 0, `depth ${depth}: nothing waits once read`);
  }
  t.end();
});

test('a lazy tree recomputes before MAX_STALE_BUCKETS buckets wait', (t) => {
  const tree = new MerkleTree(16);
  const leaf = new Uint8Array(16).fill(1);
  for (let bucket = 0; bucket < MAX_STALE_BUCKETS - 1; bucket++) tree.updateMany([{ bucket, before: undefined, after: leaf }]);
  t.equal(tree.staleBuckets, MAX_STALE_BUCKETS - 1, 'below the bound, the paths wait');
  tree.updateMany([{ bucket: MAX_STALE_BUCKETS - 1, before: undefined, after: leaf }]);
  t.equal(tree.staleBuckets, 0, 'at the bound, they are recomputed');
  t.notEqual(hex(tree.hash(0, 0)), '0'.repeat(32), 'and the root holds them');
  t.end();
});
