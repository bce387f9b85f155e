// Hostile peers against MerkleStore.
import type { MerkleStore } from '../../lib/index.js';
import { encode, uint } from '../../lib/codec/index.js';
import { encodeRecord } from '../../lib/merkle/record.js';
import { merkleMessageCodec } from '../../lib/merkle/messages.js';
import { dataFrame } from './attacker.js';
import { type HostileCase, hostileSuite } from './suite.js';
import { merkle } from './subjects.js';

/** A JSON value as the store's json encoding writes it: length, then text. */
const jsonBytes = (text: string) => Buffer.concat([encode(uint, Buffer.byteLength(text)), Buffer.from(text)]);

function entry(key: string, id: string, n: number, text: string): Buffer {
  const record = encodeRecord({ context: [{ id, n }], siblings: [{ id, n, ts: Date.now() * 1024, value: jsonBytes(text) }] });
  return dataFrame(merkleMessageCodec, [{ type: 'entry', key, record }]);
}

/** A deleted key's record from mallory: its context, then the delete time's bytes as given. */
function tombstone(trailer: Buffer): Buffer {
  const record = Buffer.concat([encodeRecord({ context: [{ id: 'mallory', n: 1 }], siblings: [] }), trailer]);
  return dataFrame(merkleMessageCodec, [{ type: 'entry', key: 'k1', record }]);
}

const cases: HostileCase<MerkleStore>[] = [
  { name: 'entry holding 1e309', expect: 'ERR_DECODE', plan: () => ({ frames: [entry('k1', 'mallory', 1, '1e309')] }) },
  { name: 'entry holding -0', expect: 'ERR_DECODE', plan: () => ({ frames: [entry('k1', 'mallory', 1, '-0')] }) },
  { name: 'entry holding JSON with duplicate keys', expect: 'ERR_DECODE', plan: () => ({ frames: [entry('k1', 'mallory', 1, '{"a":1,"a":2}')] }) },
  {
    name: 'entry whose sibling its context does not cover',
    expect: 'ERR_DECODE',
    plan: () => {
      const record = encodeRecord({ context: [], siblings: [{ id: 'mallory', n: 1, ts: 1, value: jsonBytes('1') }] });
      return { frames: [dataFrame(merkleMessageCodec, [{ type: 'entry', key: 'k1', record }])] };
    },
  },
  { name: 'entry record that is garbage', expect: 'ERR_DECODE', plan: () => ({ frames: [dataFrame(merkleMessageCodec, [{ type: 'entry', key: 'k1', record: Buffer.from([9, 9, 9]) }])] }) },
  {
    name: 'hashes with a wrong hash length',
    expect: 'ERR_DECODE',
    plan: () => ({ frames: [dataFrame(merkleMessageCodec, [{ type: 'hashes', level: 0, parents: [], hashes: Buffer.alloc(7), last: true }])] }),
  },
  {
    name: 'hashes for a level below the tree',
    expect: 'ERR_DECODE',
    plan: () => ({ frames: [dataFrame(merkleMessageCodec, [{ type: 'hashes', level: 1000, parents: [1], hashes: Buffer.alloc(64), last: true }])] }),
  },
  { name: 'tombstone with a delete time of 0 (it would encode as none)', expect: 'ERR_DECODE', plan: () => ({ frames: [tombstone(encode(uint, 0))] }) },
  { name: 'tombstone with bytes after its delete time', expect: 'ERR_DECODE', plan: () => ({ frames: [tombstone(Buffer.concat([encode(uint, 5), Buffer.from([1])]))] }) },
  { name: 'a tombstone with a delete time is taken', expect: 'accepted', plan: () => ({ frames: [tombstone(encode(uint, Date.now() * 1024))] }) },
  { name: 'a valid entry from a new writer is taken', expect: 'accepted', plan: () => ({ frames: [entry('new-key', 'carol', 1, '{"from":"carol"}')] }) },
];

hostileSuite(merkle, cases);
