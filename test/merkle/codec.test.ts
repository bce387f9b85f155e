import test from 'tape';
import { decode, encode } from '../../lib/codec/index.js';
import { type MerkleMessage, merkleMessageCodec } from '../../lib/merkle/messages.js';
import { type KeyRecord, decodeRecord, encodeRecord, mergeRecords, writeRecord } from '../../lib/merkle/record.js';
import { testRandom } from '../helpers/seed.js';

/** Plain data with byte arrays as hex, so Buffers and Uint8Arrays compare equal. */
const plain = (m: object): unknown => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]));

test('merkle messages round-trip', (t) => {
  const fixed: MerkleMessage[] = [
    { type: 'hashes', level: 0, parents: [], hashes: new Uint8Array(16).fill(7), last: true },
    { type: 'hashes', level: 19, parents: [0, 1, 5, 300_000], hashes: new Uint8Array(128).fill(1), last: false },
    { type: 'entry', key: 'clé', record: encodeRecord({ context: [{ id: 'a', n: 2 }], siblings: [{ id: 'a', n: 2, ts: 123, value: Buffer.from('\x012') }] }) },
    { type: 'covered', buckets: [3, 4, 5, 1000], last: true },
    { type: 'covered', buckets: [], last: false },
    { type: 'end' },
  ];
  for (const m of fixed) t.deepEqual(plain(decode(merkleMessageCodec, encode(merkleMessageCodec, m))), plain(m), `${m.type} round-trips`);
  const random = testRandom('merkle codec');
  for (let i = 0; i < 200; i++) {
    const parents: number[] = [];
    let at = 0;
    for (let n = random.int(0, 20); n > 0; n--) parents.push((at += random.int(1, 5000)));
    const m: MerkleMessage = { type: 'hashes', level: random.int(1, 24), parents, hashes: Uint8Array.from({ length: parents.length * 32 }, () => random.int(0, 255)), last: random.chance(0.5) };
    const back = decode(merkleMessageCodec, encode(merkleMessageCodec, m));
    if (JSON.stringify(plain(back)) !== JSON.stringify(plain(m))) t.fail(`random message ${i} differs`);
  }
  t.pass('200 random hash messages round-trip');
  t.throws(() => decode(merkleMessageCodec, Buffer.from([0, 1, 2, 5, 0, 0, 1])), /ascend/, 'a prefix list that does not ascend is ERR_DECODE');
  t.end();
});

test('record merge is commutative, associative and idempotent (seeded)', (t) => {
  const random = testRandom('merkle merge');
  const ids = ['a', 'b', 'c'];
  // Each replica writes with contexts it has seen; replicas exchange records at random.
  for (let trial = 0; trial < 100; trial++) {
    const states: KeyRecord[] = ids.map(() => ({ context: [], siblings: [] }));
    for (let step = 0; step < 12; step++) {
      const i = random.int(0, 2);
      if (random.chance(0.4)) {
        const j = random.int(0, 2);
        states[i] = mergeRecords(states[i], states[j]);
      } else {
        const seen = random.chance(0.5) ? states[i].context : [];
        states[i] = writeRecord(states[i], ids[i], seen, random.chance(0.2) ? undefined : Buffer.from([random.int(0, 255)]), step);
      }
    }
    const [x, y, z] = states;
    const bytes = (r: KeyRecord) => encodeRecord(r).toString('hex');
    if (bytes(mergeRecords(x, y)) !== bytes(mergeRecords(y, x))) t.fail(`trial ${trial}: not commutative`);
    if (bytes(mergeRecords(mergeRecords(x, y), z)) !== bytes(mergeRecords(x, mergeRecords(y, z)))) t.fail(`trial ${trial}: not associative`);
    if (bytes(mergeRecords(x, x)) !== bytes(x)) t.fail(`trial ${trial}: not idempotent`);
    if (bytes(decodeRecord(encodeRecord(x))) !== bytes(x)) t.fail(`trial ${trial}: record does not round-trip`);
  }
  t.pass('100 random histories');
  t.end();
});
