import test from 'tape';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { ReplicationError } from '../../lib/errors.js';
import { MerkleStore } from '../../lib/merkle/store.js';
import { encodeRecord, decodeRecord, writeRecord, EMPTY_RECORD } from '../../lib/merkle/record.js';
import { encode, json } from '../../lib/codec/index.js';

const record = writeRecord(EMPTY_RECORD, 'peer', EMPTY_RECORD.context, encode(json, 'hello'), 1, 0);

/** Resolves with what `fn` returned or threw (sync or async). */
async function outcome(fn: () => unknown): Promise<{ ok: true } | { ok: false; err: unknown }> {
  try {
    const value = fn();
    if (value && typeof (value as Promise<unknown>).then === 'function') await value;
    else if (value && typeof (value as AsyncGenerator).next === 'function') await (value as AsyncGenerator).next();
    return { ok: true };
  } catch (err) {
    return { ok: false, err };
  }
}

test('MerkleStore before open: merge opens the store as every method does; the rest answer or refuse with a coded error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-before-open-'));
  try {
    for (const kind of ['db', 'path'] as const) {
      const make = () => (kind === 'db' ? new MerkleStore<string>({ db: new MemoryLevel() }) : new MerkleStore<string>({ path: join(dir, `${kind}-${Math.random()}`) }));
      const merged = make();
      await merged.merge('k', decodeRecord(encodeRecord(record)), undefined);
      t.deepEqual((await merged.get('k')).values, ['hello'], `${kind}: a merge before open opens the store and is stored`);
      await merged.close();
      t.equal((await outcome(() => merged.merge('k', record, undefined))).ok, false, `${kind}: a merge after close fails`);
      const after = await outcome(() => merged.merge('k', record, undefined));
      t.ok(!after.ok && after.err instanceof ReplicationError && after.err.code === 'ERR_CLOSED', `${kind}: with ERR_CLOSED`);
      const calls: Record<string, (s: MerkleStore<string>) => unknown> = {
        rootHash: (s) => s.rootHash,
        descriptor: (s) => s.descriptor,
        id: (s) => s.id,
        buildTree: (s) => s.buildTree(),
        readBuckets: (s) => s.readBuckets(0, 3),
        readRuns: (s) => s.readRuns([[0, 1]]),
        createStream: (s) => s.createStream(),
      };
      for (const [name, call] of Object.entries(calls)) {
        const store = make();
        const result = await outcome(() => call(store));
        t.ok(result.ok || result.err instanceof ReplicationError, `${kind}: ${name} before open ${result.ok ? 'works' : `refuses with ${(result.err as ReplicationError).code}`}`);
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
