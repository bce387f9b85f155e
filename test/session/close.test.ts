import test from 'tape';
import { GCounter, Log, Model, ORSet, ReplicationError, Seq } from '../../lib/index.js';
import type { Replica } from '../../lib/session/replica.js';
import { until } from '../helpers/compliance.js';

interface Case<R extends Replica> {
  name: string;
  create(id: string): R;
  write(replica: R): void;
  state(replica: R): unknown;
}

const cases: Case<any>[] = [
  { name: 'model', create: (id) => new Model({ id }), write: (m: Model) => m.set('last', 'written before close'), state: (m: Model) => m.toJSON() },
  { name: 'log', create: (id) => new Log({ id }), write: (l: Log) => void l.append('last'), state: (l: Log) => l.length },
  { name: 'orset', create: (id) => new ORSet({ id }), write: (s: ORSet) => void s.add('last'), state: (s: ORSet) => s.value() },
  { name: 'gcounter', create: (id) => new GCounter({ id }), write: (c: GCounter) => void c.increment(3), state: (c: GCounter) => c.value() },
  { name: 'seq', create: (id) => new Seq({ id }), write: (s: Seq) => s.insert(0, 'last'), state: (s: Seq) => s.toString() },
];

for (const c of cases) {
  test(`${c.name}: close() ends every stream after sending what was written, and refuses new streams`, async (t) => {
    const hub = c.create('hub');
    const peers = [c.create('p1'), c.create('p2')];
    const pairs = peers.map((peer) => {
      const ours = hub.createStream();
      const theirs = peer.createStream();
      ours.pipe(theirs).pipe(ours);
      return { ours, theirs };
    });
    await until(() => pairs.every(({ ours, theirs }) => ours.synced && theirs.synced));

    c.write(hub); // in the same tick as the close
    await hub.close();
    t.ok(
      pairs.every(({ ours }) => ours.destroyed),
      'every stream of the replica has closed',
    );
    for (const peer of peers) t.deepEqual(c.state(peer), c.state(hub), `${peer.descriptor.id} got the write made just before the close`);
    try {
      hub.createStream();
      t.fail('a stream after close');
    } catch (err) {
      t.ok(err instanceof ReplicationError && err.code === 'ERR_CLOSED', `a new stream is refused: ${(err as Error).message}`);
    }
  });
}

test('close() with no streams resolves at once, and a peer that never ends its side is cut after the grace', async (t) => {
  await new Model({ id: 'alone' }).close();
  t.pass('no streams: resolved');
  const a = new Model({ id: 'a' });
  const stream = a.createStream();
  stream.resume(); // nobody on the other side: the handshake never completes, the peer never ends
  await a.close(50);
  t.ok(stream.destroyed, 'the stream was destroyed after the grace');
});
