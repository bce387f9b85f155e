import test from 'tape';
import { Log, Model, ReplicationError } from '../../lib/index.js';
import type { Replica } from '../../lib/session/replica.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { testRandom } from '../helpers/seed.js';

/** Feeds one frame after a valid handshake; resolves with the stream's error code, or 'none'. */
function feed(replica: Replica, frame: Buffer): Promise<string> {
  const stream = replica.createStream({ failGraceMs: 50 });
  stream.resume();
  return new Promise((resolve) => {
    stream.once('error', (err) => resolve(err instanceof ReplicationError ? err.code : `uncoded: ${err.message}`));
    // A frame that happens to be valid ends quietly: the stream ends, with no error.
    const quiet = () => setImmediate(() => resolve('none'));
    stream.once('close', quiet);
    stream.once('end', quiet);
    stream.write(handshakeFrame(replica.descriptor));
    stream.write(wireFrame(frame));
    stream.end();
  });
}

test('random frames after a valid handshake never crash, pollute or corrupt', async (t) => {
  const random = testRandom('garbage frames');
  for (const replica of [new Model({ id: 'model' }), new Log({ id: 'log' })] as Replica[]) {
    if (replica instanceof Model) replica.set('k', 'v');
    else (replica as Log).append('entry');
    const original = () => (replica instanceof Model ? replica.get('k') : (replica as Log).toJSON()[0]?.value);
    const before = original();
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const length = random.int(1, 40);
      const frame = Buffer.alloc(length);
      for (let j = 0; j < length; j++) frame[j] = random.int(0, 255);
      // Mostly data frames (type 1), so the garbage reaches the structure's decoders.
      if (random.chance(0.8)) frame[0] = 1;
      const code = await feed(replica, frame);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    t.notOk([...codes.keys()].some((code) => code.startsWith('uncoded')), `only coded errors: ${JSON.stringify([...codes])}`);
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    // Random bytes may now and then spell a valid update with an ancient timestamp; they can never displace real data.
    t.equal(original(), before, `${replica.descriptor.kind} data intact`);
  }
});
