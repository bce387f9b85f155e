import test from 'tape';
import { Seq } from '../../lib/index.js';
import { testRandom } from '../helpers/seed.js';
import { describingReceivers } from './seq-helpers.js';

test('seq: on a document of thousands of runs, change events from the touched runs equal those of a walk, and the block index stays exact', (t) => {
  const random = testRandom('seq change index');
  const writers = [1, 2].map((clientId) => new Seq({ clientId }));
  const updates: Buffer[] = [];
  for (const w of writers) w.on('update', (u: Buffer, origin: unknown) => origin === undefined && updates.push(u));
  // Edits at random places make many runs (thousands of blocks' worth of cuts and joins), with now and then an exchange.
  for (let i = 0; i < 6000; i++) {
    const w = writers[random.int(0, 1)];
    const at = random.int(0, w.length);
    if (w.length > 0 && random.chance(0.3)) w.delete(Math.min(at, w.length - 1), Math.min(random.int(1, 20), w.length - Math.min(at, w.length - 1)));
    else w.insert(at, random.chance(0.9) ? 'abcdefgh'.slice(0, random.int(1, 8)) : [random.int(0, 9)]);
    if (random.chance(0.02)) writers[0].applyUpdate(writers[1].encodeState(writers[0].stateVector()));
  }
  for (const w of writers) t.ok(w.document.indexConsistent(), `writer ${w.clientId}: block index exact after local edits (${w.document.runCount} runs)`);
  const receivers = describingReceivers(['touched', 'walk'] as const);
  let consistent = true;
  updates.forEach((u, i) => {
    for (const r of receivers) r.seq.applyUpdate(u);
    if (i % 1000 === 999 && !receivers[0].seq.document.indexConsistent()) consistent = false;
  });
  t.ok(consistent, 'the receiver\'s block index is exact all along');
  t.equal(receivers[0].deltas.length, receivers[1].deltas.length, `${receivers[0].deltas.length} change events each`);
  const differing = receivers[0].deltas.findIndex((d, i) => d !== receivers[1].deltas[i]);
  t.equal(differing, -1, 'every delta is the same');
  const text = receivers[1].seq.toArray();
  t.deepEqual(receivers[0].mirror(), text, 'replaying the deltas gives the document');
  t.ok(receivers[0].seq.document.runCount > 1000, `a document of ${receivers[0].seq.document.runCount} runs`);
  t.end();
});
