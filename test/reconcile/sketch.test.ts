// The difference sketch: estimates the size of a difference from 128 bytes.
import test from 'tape';
import { SymbolPrefix } from '../../lib/reconcile/index.js';
import { DifferenceSketch, HELLO_SKETCH_BUCKETS, expectedAbsoluteSum } from '../../lib/reconcile/sketch.js';
import { testRandom } from '../helpers/seed.js';
import { randomItems } from './items.js';

function sketchOf(items: Uint8Array[]): DifferenceSketch {
  const prefix = new SymbolPrefix(1); // keeps its sketch up to date as items are added
  for (const item of items) prefix.add(item);
  return prefix.sketch;
}

test('sketch: estimates a difference within a third for 9 draws in 10, split or one-sided, over shared items', (t) => {
  // One draw can land far out (the estimate's spread at 128 counters is about 12.5%, so a third is
  // about 2.6 standard deviations): judge many draws, and only the far tail absolutely.
  const random = testRandom('sketch estimate');
  const draws = 40;
  for (const [differing, oneSided] of [[0, false], [20, false], [200, false], [2000, false], [3000, true]] as Array<[number, boolean]>) {
    let close = 0;
    let worst = 0;
    let symmetric = true;
    for (let draw = 0; draw < draws; draw++) {
      const items = randomItems(random, 200 + differing);
      const shared = items.slice(0, 200);
      const diff = items.slice(200);
      const split = oneSided ? differing : Math.floor(differing / 2);
      const a = sketchOf([...shared, ...diff.slice(0, split)]);
      const b = sketchOf([...shared, ...diff.slice(split)]);
      const estimate = a.estimate(b.items, b.wire());
      if (b.estimate(a.items, a.wire()) !== estimate) symmetric = false;
      const error = Math.abs(estimate - differing);
      if (error <= differing / 3) close++;
      worst = Math.max(worst, differing === 0 ? error : error / differing);
    }
    const what = `${differing} differing${oneSided ? ', all on one side' : ''}`;
    t.ok(close >= draws * 0.9, `${what}: ${close} of ${draws} estimates within a third`);
    t.ok(differing === 0 ? worst === 0 : worst < 1, `${what}: the worst is off by ${differing === 0 ? worst.toFixed(0) : `${(worst * 100).toFixed(0)}%`}`);
    t.ok(symmetric, `${what}: the same estimate from either side`);
  }
  t.end();
});

test('sketch: removing an item undoes adding it', (t) => {
  const random = testRandom('sketch remove');
  const items = randomItems(random, 50);
  const prefix = new SymbolPrefix(1);
  for (const item of items) prefix.add(item);
  for (const item of items.slice(10)) prefix.remove(item);
  const fresh = sketchOf(items.slice(0, 10));
  t.deepEqual([...prefix.sketch.counts, prefix.sketch.items], [...fresh.counts, fresh.items], 'same counters and count');
  t.end();
});

test('sketch: a peer sketch without exactly 128 counters is ERR_DECODE', (t) => {
  const sketch = new DifferenceSketch();
  for (const length of [0, 127, 129]) {
    try {
      sketch.estimate(0, new Uint8Array(length));
      t.fail(`${length} counters accepted`);
    } catch (err) {
      t.equal((err as { code?: string }).code, 'ERR_DECODE', `${length} counters refused`);
    }
  }
  t.end();
});

test('sketch: folded to 64 counters (the handshake\'s), it is the sketch of the low 6 bits and estimates the difference', (t) => {
  const random = testRandom('sketch folded');
  const items = randomItems(random, 1200);
  const a = sketchOf(items.slice(0, 1100));
  const folded = a.wire(HELLO_SKETCH_BUCKETS);
  const byLowBits = new Array(HELLO_SKETCH_BUCKETS).fill(0);
  for (let j = 0; j < 128; j++) byLowBits[j % HELLO_SKETCH_BUCKETS] += a.counts[j];
  t.deepEqual([...folded], byLowBits.map((c) => c & 0xff), 'counter j holds buckets j and j + 64');
  for (const differing of [20, 200, 2000]) {
    const all = randomItems(random, 1000 + differing);
    const split = Math.floor(differing / 2);
    const x = sketchOf([...all.slice(0, 1000), ...all.slice(1000, 1000 + split)]);
    const y = sketchOf([...all.slice(0, 1000), ...all.slice(1000 + split)]);
    const estimate = x.estimate(y.items, y.wire(HELLO_SKETCH_BUCKETS), HELLO_SKETCH_BUCKETS);
    // The spread is about 18% (one standard deviation) from 64 counters: these bounds are 3.5 or more.
    t.ok(Math.abs(estimate - differing) <= differing * (differing < 100 ? 0.75 : 0.6), `${differing} differing: estimated ${estimate.toFixed(0)} from 64 counters`);
  }
  for (const length of [63, 65, 128]) {
    try {
      a.estimate(0, new Uint8Array(length), HELLO_SKETCH_BUCKETS);
      t.fail(`${length} counters accepted as a folded sketch`);
    } catch (err) {
      t.equal((err as { code?: string }).code, 'ERR_DECODE', `${length} counters refused where 64 are expected`);
    }
  }
  t.throws(() => a.wire(32), /folds to 128 or 64/, 'it folds to 128 or 64 counters only');
  t.end();
});

test('sketch: from 64 counters, the estimate is within 30% for most draws at 10 to 1,000 items, and at 10 or 20 barely overshoots', (t) => {
  const random = testRandom('sketch spread');
  const draws = 200;
  for (const differing of [10, 20, 100, 1000]) {
    let within = 0;
    let highest = 0;
    for (let draw = 0; draw < draws; draw++) {
      // Split as a changed key splits: its old version on one side, its new one on the other.
      const diff = randomItems(random, differing);
      const a = sketchOf(diff.slice(0, differing / 2));
      const b = sketchOf(diff.slice(differing / 2));
      const ratio = a.estimate(b.items, b.wire(HELLO_SKETCH_BUCKETS), HELLO_SKETCH_BUCKETS) / differing;
      if (Math.abs(ratio - 1) <= 0.3) within++;
      highest = Math.max(highest, ratio);
    }
    // Simulated (4,000 draws each) the middle 8 in 10 lie within about -21% and +20%.
    t.ok(within >= 0.85 * draws, `${differing} items: ${within} of ${draws} estimates within 30%`);
    // Below m/2 the estimate inverts Σ|c_j| ≤ r: it can exceed r only by the expected cancellations.
    if (differing <= 20) t.ok(highest <= 1.25, `${differing} items: the highest estimate is ${highest.toFixed(2)} times the truth`);
  }
  t.end();
});

test('sketch: the expected Σ|c_j| is r with no collisions and loses about (r² - Δ²)/2m to cancellations', (t) => {
  t.ok(Math.abs(expectedAbsoluteSum(1, 1, 64) - 1) < 1e-9, 'one item: 1');
  const r = 20;
  const firstOrder = r - (r * r) / (2 * 64);
  const exact = expectedAbsoluteSum(r, 0, 64);
  t.ok(exact < r && Math.abs(exact - firstOrder) < 0.5, `20 items split evenly: ${exact.toFixed(2)} (first order ${firstOrder.toFixed(2)})`);
  t.ok(Math.abs(expectedAbsoluteSum(20, 20, 64) - 20) < 1e-9, 'all on one side: nothing cancels');
  t.end();
});
