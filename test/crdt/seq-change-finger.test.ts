import test from 'tape';
import { Seq } from '../../lib/index.js';
import { Random } from '../../lib/random.js';
import { testRandom } from '../helpers/seed.js';
import { describingReceivers } from './seq-helpers.js';

/**
 * One human-like edit at `writer`'s cursor: mostly a character typed, a
 * backspace now and then, sometimes a cursor jump, a selection deleted or a
 * paste. Live typing is what the describer's shortcuts (one touched run,
 * the block index's finger) are for, so the tests below type like people.
 */
function humanEdit(writer: Seq, cursor: { at: number }, random: Random): void {
  cursor.at = Math.min(cursor.at, writer.length);
  const roll = random.float();
  if (roll < 0.05) cursor.at = random.chance(0.7) ? Math.max(0, Math.min(writer.length, cursor.at + random.int(-40, 40))) : random.int(0, writer.length);
  else if (roll < 0.15 && cursor.at > 0) {
    writer.delete(cursor.at - 1, 1);
    cursor.at--;
  } else if (roll < 0.17 && writer.length > cursor.at) {
    writer.delete(cursor.at, Math.min(writer.length - cursor.at, random.int(1, 30)));
  } else if (roll < 0.18) {
    const paste = 'pasted line\n'.repeat(random.int(1, 4));
    writer.insert(cursor.at, paste);
    cursor.at += paste.length;
  } else {
    writer.insert(cursor.at, random.chance(0.95) ? 'etaoin shrdlu'[random.int(0, 12)] : [random.int(0, 9)]);
    cursor.at++;
  }
}

/** Receivers that describe remote changes by the shortcuts, by the general path, and by a walk of the document. */
const receivers = () => describingReceivers(['touched', 'touched-general', 'walk'] as const);

function sessions(random: Random, edits: number): Buffer[] {
  const writers = [1, 2].map((clientId) => new Seq({ clientId }));
  const cursors = writers.map(() => ({ at: 0 }));
  const updates: Buffer[] = [];
  for (const w of writers) w.on('update', (u: Buffer, origin: unknown) => origin === undefined && updates.push(u));
  for (let i = 0; i < edits; i++) {
    const k = random.chance(0.8) ? 0 : 1;
    humanEdit(writers[k], cursors[k], random);
    // Now and then the two catch up with each other: the rest of the time they type concurrently.
    if (random.chance(0.01)) {
      writers[0].applyUpdate(writers[1].encodeState(writers[0].stateVector()));
      writers[1].applyUpdate(writers[0].encodeState(writers[1].stateVector()));
    }
  }
  return updates;
}

for (const order of ['in order', 'shuffled'] as const) {
  test(`seq: live typing delivered ${order}, with local edits on the receiver: the one-run shortcut and the finger give the deltas of the general path and of a walk`, (t) => {
    const random = testRandom(`seq change finger ${order}`);
    const updates = sessions(random, 4000);
    if (order === 'shuffled') random.shuffle(updates);
    const all = receivers();
    const localCursor = { at: 0 };
    let consistent = true;
    updates.forEach((u, i) => {
      for (const r of all) r.seq.applyUpdate(u);
      // The receiver edits too (the same edit on each, from the same draw), moving and dropping the finger.
      if (random.chance(0.05)) {
        const draw = random.int(0, 0x7fffffff);
        const at = localCursor.at;
        for (const r of all) {
          const cursor = { at };
          humanEdit(r.seq, cursor, new Random(draw));
          localCursor.at = cursor.at;
        }
      }
      if (i % 500 === 499 && !all.every((r) => r.seq.document.indexConsistent())) consistent = false;
    });
    t.ok(consistent, 'the block index (finger and walk) is exact all along');
    const [fast, general, walk] = all;
    t.equal(fast.deltas.length, walk.deltas.length, `${fast.deltas.length} change events each`);
    t.equal(fast.deltas.findIndex((d, i) => d !== general.deltas[i]), -1, 'every delta of the shortcuts equals that of the general path');
    t.equal(fast.deltas.findIndex((d, i) => d !== walk.deltas[i]), -1, 'every delta equals that of a walk');
    const text = walk.seq.toArray();
    t.deepEqual(fast.seq.toArray(), text, 'the receivers agree');
    for (const r of all) t.deepEqual(r.mirror(), text, `${r.how}: replaying the deltas gives the document`);
    t.end();
  });
}
