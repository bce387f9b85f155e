// Defect 12, the rare divergence of persist-crash.test, made deterministic
// in one process: a store whose batches complete only when the test says so
// stands in for a slow disk, and "killing" the writer means its batches
// still in flight never land.
import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { Model, persist, replicate } from '../../lib/index.js';
import { model as modelSubject } from '../hostile/subjects.js';

/** A memory store that holds every batch until `release()`; `crash()` drops the ones held, as SIGKILL would. */
class SlowDisk {
  readonly db = new MemoryLevel();
  holding = true;
  private held: (() => void)[] = [];

  constructor() {
    // Every write of a sublevel ends in the root's _batch (not in its typings).
    const level = this.db as unknown as { _batch(operations: unknown, options: unknown): Promise<void> };
    const write = level._batch.bind(level);
    level._batch = async (operations, options) => {
      if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
      return write(operations, options);
    };
  }

  /** Lets the oldest held batch reach the store. */
  release(): void {
    this.held.shift()!();
  }

  crash(): void {
    this.held = [];
    this.holding = false;
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await turn();
}

test('persist: a stored update replaced by an unstored one reaches a peer that connects before anything later of its source is stored', async (t) => {
  const disk = new SlowDisk();
  const server = new Model({ id: 'server' });
  let writer = new Model({ id: 'writer' });
  let stored = await persist(writer, disk.db);
  disk.holding = false;
  writer.set('a', 'first');
  await stored.flush(); // on disk, and relayed to nobody: no peer yet
  disk.holding = true;

  writer.set('b', 'second'); // batch 1, held by the disk
  await turn();
  writer.set('a', 'third'); // batch 2, queued behind batch 1: 'a' = 'first' is on disk, 'third' is not
  await turn();

  // The peer connects now: the catch-up has nothing stored after 'a' = 'first'
  // to walk past, since every later update of the writer is not yet stored.
  const link = await replicate(writer, server);
  disk.release(); // batch 1 ('b') is stored, and relayed
  await until(() => server.has('b'));
  t.equal(server.get('b'), 'second', 'the peer has the stored update relayed live');

  disk.crash(); // killed: batch 2 ('a' = 'third') never lands
  link.streams.forEach((stream) => stream.destroy());
  t.equal(server.get('a'), 'first', "the peer holds what the writer's disk holds of 'a', since it counts the writer as had up to 'b'");

  // The writer restarts from its disk and syncs once, as in persist-crash.test.
  writer = new Model({ id: 'writer' });
  stored = await persist(writer, disk.db);
  t.equal(writer.get('a'), 'first', "the restarted writer holds 'a' = 'first' from disk");
  const sync = await replicate(writer, server, { live: false });
  await sync.done;
  await stored.close();
  t.equal(modelSubject.snapshot(server), modelSubject.snapshot(writer), 'after a full sync the two replicas are equal');
});
