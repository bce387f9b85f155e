import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore, type MerkleStoreOptions, ReplicationError, replicate } from '../../lib/index.js';
import type { ReplicationStream } from '../../lib/stream/duplex.js';
import { until } from '../helpers/compliance.js';

// A Merkle session cannot restart its walk (or its symbols) within a
// connection: a peer that falls more than the bound behind is disconnected
// with ERR_LIMIT, and the next connection's sync brings it up to date.
function stalledMerkle(mode: string, options: Partial<MerkleStoreOptions<unknown>>): void {
  test(`merkle ${mode}: a stalled reader is disconnected at the queue bound, and the next sync catches it up`, async (t) => {
    const bound = 500;
    const writes = 3_000;
    const store = (id: string) => new MerkleStore({ db: new MemoryLevel(), id, depth: 10, ...options });
    const [writer, reader] = [store('writer'), store('reader')];
    const out: ReplicationStream = writer.createStream({ maxQueued: bound });
    const back: ReplicationStream = reader.createStream({ maxQueued: bound });
    const failed = new Promise<unknown>((resolve) => out.once('error', resolve));
    back.on('error', () => {});
    out.pipe(back).pipe(out);
    await until(() => out.synced && back.synced);

    out.unpipe(back); // the reader stops taking what the writer sends
    const session = out.protocol.session as unknown as { queued: number };
    let most = 0;
    for (let i = 0; i < writes; i++) {
      await writer.put(`k${i}`, i);
      most = Math.max(most, session.queued);
    }
    const err = await failed;
    t.ok(err instanceof ReplicationError && err.code === 'ERR_LIMIT', `the writer's stream failed with ERR_LIMIT (${(err as Error).message})`);
    t.ok(most <= bound, `the live queue stayed within its bound: most ${most} <= ${bound}`);

    const again = await replicate(writer, reader, { live: false });
    await again.close();
    t.equal(Buffer.from(reader.rootHash).toString('hex'), Buffer.from(writer.rootHash).toString('hex'), 'the next sync made the replicas equal');
    await writer.close();
    await reader.close();
  });
}

stalledMerkle('walk', {});
stalledMerkle('rateless', { reconcile: 'rateless', symbolPrefix: 8192 });
