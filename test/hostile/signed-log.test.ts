// Signed logs (item 17): entries signed by their author with Ed25519 and
// verified before they are applied or relayed, so a relay can neither forge
// nor rewrite anyone's history, and a replayed old entry is refused.
import test from 'tape';
import { Log, signing, replicate } from '../../lib/index.js';
import type { LogEntry } from '../../lib/scuttlebutt/log.js';
import { compliance } from '../helpers/compliance.js';
import { dataFrame } from './attacker.js';
import { type HostileCase, type Subject, hostileSuite } from './suite.js';
import { dump } from './subjects.js';

const keys = new Map<string, Uint8Array>();
/** One secret key per test id, so that compliance replicas are distinct authors. */
const keyFor = (name: string) => {
  let key = keys.get(name);
  if (!key) keys.set(name, (key = signing.secretKey()));
  return key;
};

compliance({
  name: 'signed log',
  create: (id, name) => new Log({ secretKey: keyFor(id), name }),
  mutate: (log, i) => void log.append({ i }),
  state: (log) => log.toJSON(),
});

test('signed log: entries travel with their signatures and verify on every replica', async (t) => {
  const keyA = signing.secretKey();
  const [a, b, c] = [new Log({ secretKey: keyA }), new Log({ secretKey: signing.secretKey() }), new Log({ signed: true })];
  a.append('from a');
  b.append('from b');
  await (await replicate(a, b, { live: false })).done;
  await (await replicate(b, c, { live: false })).done;
  t.deepEqual(c.toJSON().map((r) => r.value).sort(), ['from a', 'from b'], 'a read-only replica holds both, through a relay');
  t.throws(() => c.append('x'), /needs the author's secretKey/, 'a replica without a key cannot append');
  t.ok(a.id === signing.idOf(keyA) && /^[0-9a-f]{64}$/.test(a.id), 'the id is the author\'s public key in hex');
});

test('signed log: a signed and an unsigned log refuse each other', async (t) => {
  const replication = replicate(new Log({ signed: true }), new Log());
  await replication.then(
    () => t.fail('they synced'),
    (err) => t.equal(err.code, 'ERR_HANDSHAKE', 'ERR_HANDSHAKE'),
  );
});

// The hostile cases run against a signed log server.
const author = signing.secretKey();
const mallory = signing.secretKey();
const signedLog: Subject<Log> = {
  name: 'signed log',
  create: (id) => (id.endsWith('-server') ? new Log({ secretKey: author }) : new Log({ signed: true, id: signing.idOf(signing.secretKey()) })),
  populate(l) {
    for (let i = 0; i < 10; i++) l.append({ i });
  },
  snapshot: (l) => dump([...l.history()].map((e) => [e.source, e.seq, e.ts, e.json, Buffer.from(e.signature!).toString('hex')])),
  codec: (l) => l.messageCodec,
  opening: () => [{ type: 'digest', clock: [] }],
};

/** An honest entry of `key`'s author, made on a scratch log, with fields overridden after signing. */
function signedEntry(key: Uint8Array, value: unknown, change: Partial<LogEntry> = {}): LogEntry {
  const scratch = new Log({ secretKey: key });
  scratch.append(value);
  return { ...[...scratch.history()][0], ...change };
}

const entries = (l: Log, list: LogEntry[]) => dataFrame(l.messageCodec, [{ type: 'updates', source: list[0].source, updates: list }]);
const held = (l: Log) => [...l.history()];

const cases: HostileCase<Log>[] = [
  {
    name: 'entry in another author\'s name, signed by the attacker',
    expect: 'ERR_AUTH',
    plan: (l) => {
      const victim = signing.idOf(signing.secretKey());
      const forged = signedEntry(mallory, 'forged');
      return { frames: [entries(l, [{ ...forged, source: victim }])] };
    },
  },
  {
    name: 'entry with a flipped signature byte',
    expect: 'ERR_AUTH',
    plan: (l) => {
      const entry = signedEntry(mallory, 'x');
      const signature = Uint8Array.from(entry.signature!);
      signature[10] ^= 1;
      return { frames: [entries(l, [{ ...entry, signature }])] };
    },
  },
  {
    name: 'entry whose value was rewritten after signing',
    expect: 'ERR_AUTH',
    plan: (l) => ({ frames: [entries(l, [signedEntry(mallory, 'original', { json: '"rewritten"' })])] }),
  },
  {
    name: 'entry from an author id that is not a key',
    expect: 'ERR_AUTH',
    plan: (l) => ({ frames: [entries(l, [{ ...signedEntry(mallory, 'x'), source: 'not-a-key' }])] }),
  },
  {
    name: 'entry from a small-order public key with an all-zero signature',
    expect: 'ERR_AUTH',
    plan: (l) => ({ frames: [entries(l, [{ ...signedEntry(mallory, 'x'), source: '00'.repeat(32), signature: new Uint8Array(64) }])] }),
  },
  {
    name: 'replayed old signed entry of the server\'s author at a later place',
    expect: ['ERR_INTEGRITY', 'ERR_AUTH'],
    plan: (l) => {
      const old = held(l)[0];
      return { frames: [entries(l, [{ ...old, ts: old.ts, seq: 5 }])] };
    },
  },
  {
    name: 'a valid entry of a new author is taken',
    expect: 'accepted',
    plan: (l) => ({ frames: [entries(l, [signedEntry(mallory, 'hello')])] }),
  },
  {
    name: 'that author\'s first entry replayed with another value in its place',
    expect: ['ERR_INTEGRITY', 'ERR_AUTH'],
    plan: (l) => {
      const first = held(l).find((e) => e.source === signing.idOf(mallory))!;
      return { frames: [entries(l, [{ ...first, json: '"other"' }])] };
    },
  },
];

hostileSuite(signedLog, cases);
