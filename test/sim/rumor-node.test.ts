import test from 'tape';
import { RumorNode, predictedRounds } from '../../bin/sim/scenarios/rumor-node.js';
import { SimRandom } from '../../lib/sim/random.js';

const node = (index: number, k: number, rounds: 'sync' | 'async' = 'sync') => new RumorNode(index, 'rumor', 4, new SimRandom(index), k, { interest: 'feedback', stop: 'counter', direction: 'push' }, rounds);

test('rumour mongering: the counter counts useless rounds in a row; a necessary contact resets it', (t) => {
  const a = node(0, 2);
  a.learn(0);
  a.receive(1, { type: 'feedback', knew: true }, 1);
  a.endRound();
  t.ok(a.active, 'one useless round of k = 2');
  a.receive(1, { type: 'feedback', knew: false }, 2);
  a.endRound();
  a.receive(1, { type: 'feedback', knew: true }, 3);
  a.endRound();
  t.ok(a.active, 'the necessary contact in round 2 reset the count');
  a.receive(1, { type: 'feedback', knew: true }, 4);
  a.endRound();
  t.notOk(a.active, 'two useless rounds in a row: it loses interest');
  t.end();
});

test('rumour mongering: "already knew" is judged at the start of the round (sync) or on arrival (async)', (t) => {
  for (const [rounds, expected] of [['sync', false], ['async', true]] as const) {
    const b = node(1, 1, rounds);
    b.receive(0, { type: 'push', has: true }, 5);
    const second = b.receive(2, { type: 'push', has: true }, 5);
    t.deepEqual(second, [{ to: 2, message: { type: 'feedback', knew: expected } }], `${rounds}: a second push in the round learns knew = ${expected}`);
    t.deepEqual(b.receive(2, { type: 'push', has: true }, 6)[0]!.message, { type: 'feedback', knew: true }, `${rounds}: next round it knew`);
  }
  t.end();
});

test('anti-entropy: in sync rounds a node informed this round answers a pull with what it held at the start', (t) => {
  const c = new RumorNode(2, 'push-pull', 4, new SimRandom(2), 1, undefined, 'sync');
  c.receive(0, { type: 'exchange', has: true }, 3);
  t.deepEqual(c.receive(1, { type: 'exchange', has: false }, 3), [{ to: 1, message: { type: 'reply', has: false } }]);
  t.deepEqual(c.receive(1, { type: 'exchange', has: false }, 4), [{ to: 1, message: { type: 'reply', has: true } }]);
  t.end();
});

test('the synchronous model: mean rounds grow as log3 N for push-pull, faster than push', (t) => {
  const pp = [1e3, 1e4, 1e5].map((n) => predictedRounds('push-pull', n).rounds);
  t.ok(pp[0]! > 8.5 && pp[0]! < 9.5 && pp[1]! > 11 && pp[1]! < 12 && pp[2]! > 13.5 && pp[2]! < 14.5, `push-pull ${pp.map((x) => x.toFixed(2)).join(', ')}`);
  t.ok(predictedRounds('push', 1e4).rounds > predictedRounds('pull', 1e4).rounds, 'push is slowest');
  t.end();
});
