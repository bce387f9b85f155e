import test from 'tape';
import { Log, ReplicationError, replicate } from '../../lib/index.js';
import type { LogEntry } from '../../lib/core.js';
import { DEFAULT_LIMITS, decode, encode } from '../../lib/codec/index.js';

test('log: append, read in order, read since a clock, append events', async (t) => {
  const a = new Log({ id: 'a' });
  const b = new Log({ id: 'b' });
  const heard: unknown[] = [];
  b.on('append', (record) => heard.push(record.value));
  a.append('one');
  a.append({ two: 2 });
  const replication = await replicate(a, b);
  const clock = b.clockDigest();
  a.append('three');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(b.toJSON().map((r) => r.value), ['one', { two: 2 }, 'three']);
  t.deepEqual([...b.entries(clock)].map((r) => r.value), ['three'], 'entries since a clock');
  t.deepEqual(heard, ['one', { two: 2 }, 'three']);
  t.deepEqual(b.toJSON().map((r) => r.seq), [1, 2, 3]);
  await replication.close();
});

/** Feeds `entries` to a fresh log through a session, as a peer would; returns the error code. */
function deliver(entries: LogEntry[]): { code: string | undefined; log: Log } {
  const log = new Log({ id: 'receiver' });
  const session = log.openSession({ live: true, readable: true, writable: true, maxMessageBytes: 65536, limits: DEFAULT_LIMITS });
  session.start({ id: 'peer', readable: true, writable: true, live: true });
  session.receive({ type: 'digest', clock: [] });
  try {
    // Through the codec, as on the wire: the receiver computes every hash itself.
    const bytes = encode(session.codec, { type: 'updates', source: entries[0].source, updates: entries });
    session.receive(decode(session.codec, bytes));
    return { code: undefined, log };
  } catch (err) {
    return { code: (err as ReplicationError).code, log };
  } finally {
    session.close();
  }
}

test('log: a forged, reordered or rewritten history is refused with ERR_INTEGRITY', (t) => {
  const author = new Log({ id: 'author' });
  for (let i = 1; i <= 3; i++) author.append(`entry ${i}`);
  const genuine = [...author.history()];
  t.equal(deliver(genuine).code, undefined, 'the genuine history is accepted');

  const skipped = deliver([genuine[0], genuine[2]]);
  t.equal(skipped.code, 'ERR_INTEGRITY', 'a gap (entry 3 after entry 1) is refused');
  t.equal(skipped.log.length, 1, 'entries before the break are kept, nothing after');

  const forged = { ...genuine[1], json: JSON.stringify('forged') };
  const other = new Log({ id: 'author' });
  other.append('entry 1');
  // A different second entry that claims to follow a different first entry.
  other.append('rewritten');
  const rewritten = [...other.history()][1];
  const fromRewrite = deliver([genuine[0], { ...rewritten, ts: genuine[1].ts }]);
  t.equal(fromRewrite.code, 'ERR_INTEGRITY', 'an entry that does not extend the chain held here is refused');
  t.equal(fromRewrite.log.length, 1);
  t.equal(deliver([genuine[0], forged, genuine[2]]).code, 'ERR_INTEGRITY', 'a forged entry breaks the chain for the next one');
  t.end();
});
