import test from 'tape';
import { HashRing, PARTITIONS, partitionOf, planTargets } from '../../lib/vine/ring.js';

const names = (k: number, prefix = 'node') => Array.from({ length: k }, (_, i) => `${prefix}-${i}`);

test('ring: preference lists hold n distinct members, the same on every node', (t) => {
  const ring = new HashRing(names(5));
  const again = new HashRing(names(5).reverse());
  for (let p = 0; p < PARTITIONS; p++) {
    const list = ring.preferenceList(p, 3);
    if (list.length !== 3 || new Set(list).size !== 3) t.fail(`partition ${p}: ${list}`);
    if (list.join() !== again.preferenceList(p, 3).join()) t.fail(`partition ${p} differs with another member order`);
  }
  t.deepEqual(new HashRing(['a', 'b']).preferenceList(7, 3).sort(), ['a', 'b'], 'fewer members than n: all of them');
  t.deepEqual(new HashRing([]).preferenceList(7, 3), [], 'an empty ring places nothing');
  t.ok(partitionOf('foo') >= 0 && partitionOf('foo') < PARTITIONS && partitionOf('foo') === partitionOf('foo'), 'a key has one partition');
  t.end();
});

// The stated bound: with 64 virtual nodes, every member of 3 to 10 holds
// within 0.8x..1.25x of its fair share of the 256 partitions x 3 copies.
test('ring: balance across virtual nodes is within 0.8x..1.25x of the fair share', (t) => {
  for (let k = 3; k <= 10; k++) {
    const ring = new HashRing(names(k, `m${k}`));
    const load = ring.load(3);
    const fair = (PARTITIONS * 3) / k;
    const ratios = [...load.values()].map((n) => n / fair);
    const min = Math.min(...ratios);
    const max = Math.max(...ratios);
    t.ok(min >= 0.8 && max <= 1.25, `${k} members: load ${min.toFixed(2)}x..${max.toFixed(2)}x of fair`);
  }
  t.end();
});

test('ring: a join only inserts the new member; movement is about its share (counted)', (t) => {
  for (const k of [3, 4, 5, 8]) {
    const before = new HashRing(names(k));
    const after = new HashRing([...names(k), 'newcomer']);
    let moved = 0;
    let reshuffled = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const a = before.preferenceList(p, 3);
      const b = after.preferenceList(p, 3);
      if (a.join() === b.join()) continue;
      moved++;
      // The new list is the old one with the newcomer inserted and the last dropped.
      if (!b.includes('newcomer') || b.filter((id) => id !== 'newcomer').join() !== a.slice(0, 2).join()) reshuffled++;
    }
    const share = (PARTITIONS * 3) / (k + 1);
    t.equal(reshuffled, 0, `${k}+1 members: no partition moves between old members`);
    t.ok(moved <= share * 1.4, `${k}+1 members: ${moved} partition replicas moved, fair share ${share.toFixed(0)}`);
    // Leaving is the same change backwards.
    let leaveMoves = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const b = after.preferenceList(p, 3);
      const a = before.preferenceList(p, 3);
      if (b.join() !== a.join()) leaveMoves++;
      if (!b.includes('newcomer') && b.join() !== a.join()) t.fail(`partition ${p} changed on leave without the leaver`);
    }
    t.equal(leaveMoves, moved, `${k}+1 members: a leave moves exactly the partitions the join moved`);
  }
  t.end();
});

test('ring: sloppy quorum targets stand in for down owners with hints', (t) => {
  const walk = ['a', 'b', 'c', 'd', 'e'];
  const live = (down: string[]) => (id: string) => !down.includes(id);
  t.deepEqual(planTargets(walk, 3, live([])), [{ node: 'a' }, { node: 'b' }, { node: 'c' }], 'all owners live');
  t.deepEqual(planTargets(walk, 3, live(['b'])), [{ node: 'a' }, { node: 'd', hint: 'b' }, { node: 'c' }], 'b down: d holds its hint');
  t.deepEqual(planTargets(walk, 3, live(['a', 'd'])), [{ node: 'e', hint: 'a' }, { node: 'b' }, { node: 'c' }], 'spares that are down are skipped');
  t.deepEqual(planTargets(walk, 3, live(['a', 'b', 'd', 'e'])), [{ node: 'c' }], 'not enough live members: fewer targets');
  t.end();
});
