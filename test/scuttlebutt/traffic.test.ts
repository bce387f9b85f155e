import test from 'tape';
import pump from 'pump';
import { Model, replicate } from '../../lib/index.js';
import { until } from '../helpers/compliance.js';
import { counter, latency } from '../helpers/wire.js';
import { testRandom } from '../helpers/seed.js';

/** Two models piped through byte counters, one per direction. */
function countedLink(a: Model, b: Model, options = {}) {
  const sa = a.createStream(options);
  const sb = b.createStream(options);
  const aToB = counter();
  const bToA = counter();
  const done = new Promise((resolve) => pump(sa, aToB, sb, bToA, sa, resolve));
  const synced = Promise.all([new Promise((r) => sa.once('synced', r)), new Promise((r) => sb.once('synced', r))]);
  return { sa, sb, aToB, bToA, done, synced, close: () => (sa.end(), done) };
}

test('model: live updates are never echoed back to their sender', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  const link = countedLink(a, b);
  await link.synced;
  const quiet = link.bToA.bytes;
  for (let i = 0; i < 1000; i++) a.set(`k${i}`, i);
  await until(() => b.size === 1000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.ok(link.aToB.bytes > 1000 * 5, `a sent ${link.aToB.bytes} bytes`);
  t.equal(link.bToA.bytes - quiet, 0, 'b sent nothing back');
  await link.close();
});

test('model: an update relayed through a hub goes on to the others, not back', async (t) => {
  const [x, hub, y] = ['x', 'hub', 'y'].map((id) => new Model({ id }));
  const left = countedLink(x, hub);
  const right = countedLink(hub, y);
  await Promise.all([left.synced, right.synced]);
  const [fromHubToX, fromYToHub] = [left.bToA.bytes, right.bToA.bytes];
  for (let i = 0; i < 100; i++) x.set(`k${i}`, i);
  await until(() => y.size === 100);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(left.bToA.bytes - fromHubToX, 0, 'the hub sent nothing back to x');
  t.equal(right.bToA.bytes - fromYToHub, 0, 'y sent nothing back to the hub');
  await left.close();
  await right.close();
});

test('model: a reconnect after a partition sends only the missing updates', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  for (let i = 0; i < 1000; i++) a.set(`k${i}`, `value ${i}`);
  const first = countedLink(a, b);
  await first.synced;
  const fullBytes = first.aToB.bytes;
  await first.close();
  for (let i = 0; i < 10; i++) a.set(`k${i}`, `changed ${i}`);
  b.set('from-b', true);
  const second = countedLink(a, b);
  await second.synced;
  t.equal(b.get('k3'), 'changed 3');
  t.equal(a.get('from-b'), true);
  t.ok(second.aToB.bytes < fullBytes / 20, `reconnect sent ${second.aToB.bytes} bytes, the first sync ${fullBytes}`);
  t.ok(second.aToB.bytes < 10 * 40 + 200, 'about ten updates and the digest');
  await second.close();
});

test('model: one-way replication with readable: false or writable: false', async (t) => {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  a.set('from-a', 1);
  b.set('from-b', 2);
  const replication = await replicate(a, b, { readable: false }, {});
  t.ok(a.has('from-b'), 'a receives');
  t.notOk(b.has('from-a'), 'a does not send');
  b.set('live-b', 3);
  a.set('live-a', 4);
  await until(() => a.has('live-b'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(b.has('live-a'), 'still nothing from a');
  await replication.close();

  const c = new Model({ id: 'c' });
  const d = new Model({ id: 'd' });
  c.set('from-c', 1);
  d.set('from-d', 2);
  const other = await replicate(c, d, { writable: false }, {});
  t.notOk(c.has('from-d'), 'c accepts nothing');
  t.ok(d.has('from-c'), 'c still sends');
  await other.close();
});

test('model: replicates through a link with latency and jitter', async (t) => {
  const random = testRandom('latency link');
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  for (let i = 0; i < 200; i++) a.set(`k${i}`, i);
  const sa = a.createStream();
  const sb = b.createStream();
  const done = new Promise((resolve) => pump(sa, latency(random, 5, 10), sb, latency(random, 5, 10), sa, resolve));
  for (let i = 0; i < 50; i++) b.set(`b${i}`, i);
  await until(() => a.size === 250 && b.size === 250);
  t.deepEqual(a.toJSON(), b.toJSON(), 'identical through a slow, jittery link');
  sa.end();
  await done;
});
