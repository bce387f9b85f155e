// Signed logs (item 17): entries signed by their author with Ed25519 and
// verified before they are applied or relayed, so a relay can neither forge
// nor rewrite anyone's history, and a replayed old entry is refused.
import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { Readable } from 'node:stream';
import { Log, ReplicationError, createSnapshotStream, loadSnapshot, persist, signing, replicate } from '../../lib/index.js';
import { verifiers } from '../../lib/scuttlebutt/signing.js';
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

// Item 17, from disk: a tampered database must not hand a replica forged
// entries that it would then relay as verified. Every signed entry is
// verified as it is loaded, from a database or a snapshot; a tampered one
// refuses the whole load with ERR_AUTH.
test('signed log: a stored entry whose value or signature was changed on disk refuses to load with ERR_AUTH', async (t) => {
  const secretKey = signing.secretKey();
  for (const [what, tamper] of [
    ['its signature', (value: Uint8Array) => (value[value.length - 5] ^= 0x01)],
    ['its value', (value: Uint8Array) => (value[Buffer.from(value).indexOf('entry ') + 6] ^= 0x01)], // entry 3 becomes entry 2
  ] as const) {
    const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' });
    const author = new Log({ secretKey, name: 'disk' });
    const stored = await persist(author, db);
    for (let i = 1; i <= 5; i++) author.append(`entry ${i}`);
    await stored.close();
    // Change one stored entry, as someone with the database files might.
    const keys: string[] = [];
    for await (const key of db.keys()) if (key.includes('!u!')) keys.push(key);
    t.equal(keys.length, 5, 'five entries stored');
    const key = keys[2];
    const value = Uint8Array.from((await db.get(key))!);
    tamper(value);
    await db.put(key, value);
    try {
      await persist(new Log({ signed: true, name: 'disk', id: author.id }), db);
      t.fail(`a database with ${what} changed was loaded`);
    } catch (err) {
      t.ok(err instanceof ReplicationError && err.code === 'ERR_AUTH', `${what} changed: refused with ${(err as ReplicationError).code} (${(err as Error).message})`);
    }
  }
});

test('signed log: an honest database loads and its entries verify; a tampered snapshot is refused with ERR_AUTH', async (t) => {
  const secretKey = signing.secretKey();
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' });
  const author = new Log({ secretKey, name: 'disk' });
  const stored = await persist(author, db);
  for (let i = 1; i <= 5; i++) author.append(`entry ${i}`);
  await stored.close();
  const reader = new Log({ signed: true, name: 'disk', id: author.id });
  const reopened = await persist(reader, db);
  t.deepEqual(reader.toJSON(), author.toJSON(), 'an untouched database loads whole');
  await reopened.close();

  const chunks: Buffer[] = [];
  await new Promise((resolve, reject) => createSnapshotStream(author).on('data', (c: Buffer) => chunks.push(c)).on('end', resolve).on('error', reject));
  const snapshot = Buffer.concat(chunks);
  const at = snapshot.lastIndexOf(Buffer.from('entry 4'));
  t.ok(at > 0, 'the snapshot holds entry 4');
  snapshot[at + 6] ^= 0x01; // "entry 4" becomes "entry 5"-ish: canonical JSON still, but not what was signed
  try {
    await loadSnapshot(new Log({ signed: true, name: 'disk' }), Readable.from([snapshot]));
    t.fail('a tampered snapshot was loaded');
  } catch (err) {
    t.ok(err instanceof ReplicationError && err.code === 'ERR_AUTH', `refused with ${(err as ReplicationError).code}`);
  }
});

test('signed log: the fast verifier accepts exactly what the strict one does', (t) => {
  const secretKey = signing.secretKey();
  const author = signing.idOf(secretKey);
  const message = new Uint8Array(32).fill(3);
  const good = signing.sign(message, secretKey);
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const withS = (s: bigint) => {
    const out = Uint8Array.from(good);
    for (let i = 0; i < 32; i++) out[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(good[32 + i]);
  const flipped = Uint8Array.from(good);
  flipped[10] ^= 0x04;
  // The identity point (small order), and a y beyond the field (a non-canonical encoding).
  const smallOrder = '01' + '00'.repeat(31);
  const nonCanonical = 'ed' + 'ff'.repeat(30) + '7f';
  const cases: [string, Uint8Array, Uint8Array, string][] = [
    ['a good signature', good, message, author],
    ['another message', good, new Uint8Array(32).fill(4), author],
    ['a flipped bit in R', flipped, message, author],
    ['S + L (malleated)', withS(s + L), message, author],
    ['S = 0', withS(0n), message, author],
    ['a small-order key', good, message, smallOrder],
    ['a non-canonical key', good, message, nonCanonical],
    ['another author', good, message, signing.idOf(signing.secretKey())],
  ];
  for (const [name, signature, msg, key] of cases) {
    const strict = verifiers.strict(signature, msg, key);
    t.equal(verifiers.fast(signature, msg, key), strict, `${name}: both ${strict ? 'accept' : 'refuse'}`);
  }
  t.ok(verifiers.fast(good, message, author), 'and a good signature is accepted');
  t.end();
});
