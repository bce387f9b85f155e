import test from 'tape';
import { isReplicationError } from '../../lib/errors.js';
import { Coordination, checkQuorum, quorumsOverlap } from '../../lib/vine/quorum.js';
import { testRandom } from '../helpers/seed.js';

const targets = (...ids: string[]) => ids.map((node) => ({ node }));

test('quorum: a write settles after exactly W answers', (t) => {
  const c = new Coordination<number>({ operation: 'write', need: 2, targets: targets('a', 'b', 'c') });
  t.equal(c.start().send.length, 3, 'asks every target');
  t.notOk(c.answer('a', 1).settled, 'one answer is not enough');
  t.notOk(c.answer('a', 1).settled, 'a duplicate answer counts once');
  const step = c.answer('b', 2);
  t.ok(step.settled?.ok, 'second answer decides');
  t.equal(step.settled?.ok && step.settled.answers.size, 2);
  t.notOk(c.answer('c', 3).settled, 'later answers decide nothing again');
  t.equal(c.answers.size, 3, 'but are kept for read repair');
  t.end();
});

test('quorum: a read asking R of N asks one held-back owner per failure, all of them when widened', (t) => {
  const c = new Coordination<number>({ operation: 'read', need: 1, targets: targets('a', 'b', 'c'), ask: 1 });
  t.deepEqual(c.start().send, targets('a'), 'asks only the first');
  t.equal(c.outstanding, 1);
  const replaced = c.fail('a', new Error('gone'));
  t.deepEqual(replaced.send, targets('b'), 'a failure asks the next owner held back');
  t.notOk(replaced.settled, 'and decides nothing: c is still there');
  t.deepEqual(c.widen().send, targets('c'), 'widening asks the rest');
  t.deepEqual(c.widen().send, [], 'once');
  t.ok(c.answer('c', 3).settled?.ok, 'one answer decides');

  const d = new Coordination<number>({ operation: 'read', need: 2, targets: targets('a', 'b', 'c'), ask: 2 });
  t.equal(d.start().send.length, 2, 'R = 2: asks two');
  t.deepEqual(d.fail('a', new Error('x')).send, targets('c'), 'the third replaces the failed one');
  const out = d.fail('b', new Error('y'));
  t.ok(out.settled && !out.settled.ok, 'a second failure leaves one possible answer of two needed: unavailable at once');
  t.end();
});

test('quorum: fails as soon as W is out of reach, saying how many answered', (t) => {
  const c = new Coordination<number>({ operation: 'write', need: 2, targets: targets('a', 'b', 'c') });
  c.start();
  c.answer('a', 1);
  t.notOk(c.fail('b', new Error('x')).settled, 'one failure: c may still answer');
  const step = c.fail('c', new Error('y'));
  t.ok(step.settled && !step.settled.ok, 'two failures: unreachable');
  if (step.settled && !step.settled.ok) {
    t.equal(step.settled.error.code, 'ERR_UNAVAILABLE');
    t.match(step.settled.error.message, /needs 2 replicas; 1 answered of 3 reachable/);
  }
  t.end();
});

test('quorum: the deadline decides; a late answer is kept but decides nothing', (t) => {
  const c = new Coordination<number>({ operation: 'read', need: 2, targets: targets('a', 'b') });
  c.start();
  c.answer('a', 1);
  const step = c.expire();
  t.ok(step.settled && !step.settled.ok && isReplicationError(step.settled.error) && /1 answered of 2/.test(step.settled.error.message), 'unavailable at the deadline');
  t.notOk(c.answer('b', 2).settled, 'a late answer does not flip the outcome');
  t.end();
});

test('quorum: a failed write replica is replaced by a spare holding a hint', (t) => {
  const c = new Coordination<number>({ operation: 'write', need: 3, targets: [{ node: 'a' }, { node: 'b' }, { node: 'd', hint: 'c' }], spares: ['e', 'f'] });
  c.start();
  const step = c.fail('b', new Error('down'));
  t.deepEqual(step.send, [{ node: 'e', hint: 'b' }], 'e stands in for b');
  t.deepEqual(c.fail('d', new Error('down')).send, [{ node: 'f', hint: 'c' }], 'f takes over the hint d held for c');
  c.answer('a', 1);
  c.answer('e', 1);
  t.ok(c.answer('f', 1).settled?.ok, 'W = 3 reached with two stand-ins');
  t.end();
});

test('quorum: random answer orders never settle ok with fewer than need answers (seeded)', (t) => {
  const random = testRandom('quorum');
  for (let trial = 0; trial < 500; trial++) {
    const n = random.int(1, 5);
    const need = random.int(1, n);
    const ids = Array.from({ length: n }, (_, i) => `n${i}`);
    const spares = Array.from({ length: random.int(0, 3) }, (_, i) => `s${i}`);
    const c = new Coordination<number>({ operation: 'write', need, targets: targets(...ids), spares });
    let pending = [...c.start().send.map((s) => s.node)];
    let outcome: boolean | undefined;
    let answered = 0;
    while (pending.length > 0) {
      const node = pending.splice(random.int(0, pending.length - 1), 1)[0];
      const ok = random.chance(0.6);
      const step = ok ? c.answer(node, 1) : c.fail(node, new Error('x'));
      if (ok) answered++;
      pending.push(...step.send.map((s) => s.node));
      if (step.settled) {
        if (outcome !== undefined) t.fail('settled twice');
        outcome = step.settled.ok;
        if (step.settled.ok && answered < need) t.fail(`trial ${trial}: ok with ${answered} < ${need}`);
        if (!step.settled.ok && answered + pending.length >= need) t.fail(`trial ${trial}: gave up while still reachable`);
      }
    }
    if (outcome === undefined) outcome = c.expire().settled?.ok;
    if (outcome === undefined) t.fail(`trial ${trial}: never settled`);
    if ((answered >= need) !== outcome) t.fail(`trial ${trial}: outcome ${outcome} with ${answered} of ${need}`);
  }
  t.pass('500 random runs');
  t.end();
});

test('quorum arithmetic: N, R, W checked; overlap is R + W > N', (t) => {
  t.doesNotThrow(() => checkQuorum(3, 2, 2));
  t.throws(() => checkQuorum(3, 4, 2), /r \(4\) cannot exceed n/);
  t.throws(() => checkQuorum(3, 2, 0), /w must be a positive integer/);
  t.ok(quorumsOverlap(3, 2, 2), 'R2 W2 N3 overlaps');
  t.notOk(quorumsOverlap(3, 1, 2), 'W2 R1 N3 may read stale');
  t.ok(quorumsOverlap(3, 1, 3), 'W = N, R = 1 overlaps');
  t.end();
});
