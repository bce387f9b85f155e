import test from 'tape';
import { runConvergence } from '../../lib/sim/convergence.js';
import { GrowSet, growSetUnderTest } from './fixtures/grow-set.js';
import type { StructureUnderTest } from '../../lib/sim/structure.js';

/** A broken set: it silently drops one value when it arrives from a peer. */
class ForgetfulSet extends GrowSet {
  override apply(origin: string, seq: number, value: string): boolean {
    if (origin !== this.descriptor.id && value === 'v13') return false;
    return super.apply(origin, seq, value);
  }
}

test('the checkers catch a structure that loses an element', (t) => {
  const broken: StructureUnderTest<GrowSet> = { ...growSetUnderTest, name: 'forgetful', create: ({ id }) => new ForgetfulSet(id) };
  const result = runConvergence(broken, 1, { partitionEvery: 0, crashEvery: 0, maxLoss: 0 });
  t.ok(result.report.violations.some((v) => v.startsWith('divergent')), `divergence reported: ${result.report.violations.join('; ')}`);
  t.ok(result.report.lostCount > 0 || result.report.failures > 0, 'the lost value or the broken stream is reported');
  t.end();
});

test('the checkers catch duplicated and phantom elements', (t) => {
  const broken: StructureUnderTest<GrowSet> = {
    ...growSetUnderTest,
    name: 'stuttering',
    // Reports a value twice, as a log with a duplicated entry would, and one nobody wrote.
    elements: (set) => [...set.values(), ...set.values().slice(0, 1), 'never-written'],
  };
  const result = runConvergence(broken, 2, { partitionEvery: 0, crashEvery: 0, maxLoss: 0 });
  t.ok(result.report.duplicated > 0, 'duplicates found');
  t.ok(result.report.phantoms > 0, 'phantoms found');
  t.end();
});

test('a healthy structure passes, and the same seed gives the same run event for event', (t) => {
  const a = runConvergence(growSetUnderTest, 77);
  const b = runConvergence(growSetUnderTest, 77);
  const c = runConvergence(growSetUnderTest, 78);
  t.deepEqual(a.report.violations, []);
  t.equal(a.traceHash, b.traceHash, `trace ${a.traceHash} twice`);
  t.equal(a.events, b.events);
  t.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)), 'identical reports');
  t.notEqual(a.traceHash, c.traceHash, 'another seed, another run');
  t.end();
});

/** A counter built on the grow-only set: each increment is an element `d<i>:<delta>`. */
const setCounter = (skew: number): StructureUnderTest<GrowSet> => ({
  ...growSetUnderTest,
  name: skew === 0 ? 'set-counter' : 'skewed-counter',
  mutate(set, i) {
    const delta = (i % 3) - 1 || 2;
    set.add(`d${i}:${delta}`);
    return { key: `d${i}:${delta}`, delta };
  },
  counter: (set) => set.values().reduce((sum, v) => sum + Number(v.split(':')[1]), 0) + skew,
});

test('counters: the value lies within the acknowledged range, even with wiped increments; a skewed one is caught', (t) => {
  let wiped = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const result = runConvergence(setCounter(0), seed, { ops: 100 });
    wiped += result.report.wipedWithTheirNode;
    t.deepEqual(result.report.counterOutOfRange, [], `seed ${seed}: in range`);
  }
  t.ok(wiped > 0, `${wiped} increments were lost with their node, so the range was exercised`);
  // Without `holds` (a real counter cannot say which increments it has), a wiped node's increments are indeterminate.
  for (let seed = 1; seed <= 5; seed++) {
    const blind = runConvergence({ ...setCounter(0), holds: undefined }, seed, { ops: 100 });
    t.deepEqual(blind.report.violations, [], `seed ${seed}, no holds: in range, converged`);
  }
  const skewed = runConvergence(setCounter(1), 1, { ops: 100, crashEvery: 0 });
  t.ok(skewed.report.counterOutOfRange.length > 0, 'an off-by-one counter is out of range');
  t.end();
});
