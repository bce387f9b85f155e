// Hostile peers against the scuttlebutt structures (Model, Log).
import { sha256 } from '@noble/hashes/sha2.js';
import { HybridClock, type Log, type Model } from '../../lib/index.js';
import { encode, fixed, string, struct, uint } from '../../lib/codec/index.js';
import type { LogEntry } from '../../lib/scuttlebutt/log.js';
import { dataFrame } from './attacker.js';
import { type HostileCase, hostileSuite } from './suite.js';
import { log, model } from './subjects.js';

/** A timestamp an honest peer could send now. */
const now = () => new HybridClock().now();
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

function updates(m: Model, source: string, list: { ts: number; key: string; json: string | undefined }[]): Buffer {
  return dataFrame(m.messageCodec, [{ type: 'updates', source, updates: list.map((u) => ({ source, ...u })) }]);
}

const modelCases: HostileCase<Model>[] = [
  // Defect 1: an update at timestamp 0 would be applied and never relayed.
  { name: 'update at timestamp 0', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: 0, key: 'k', json: '1' }])] }) },
  // Defect 6: a write in the receiver's own name.
  { name: 'update in the server\'s own name', expect: 'ERR_INTEGRITY', plan: (m) => ({ frames: [updates(m, m.id, [{ ts: now(), key: 'key-1', json: '"forged"' }])] }) },
  // Defect 2: values that change when re-encoded.
  { name: 'value 1e309 (Infinity, re-encoded as null)', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '1e309' }])] }) },
  { name: 'value -0', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '-0' }])] }) },
  { name: 'value with duplicate keys', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '{"a":1,"a":2}' }])] }) },
  { name: 'value with a \\u-escaped __proto__ key', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '{"\\u005f_proto__":{"polluted":1}}' }])] }) },
  { name: 'value with spaces', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: ' [1, 2]' }])] }) },
  { name: 'value that is not JSON', expect: 'ERR_DECODE', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '{"a":' }])] }) },
  { name: 'value nested 10,000 deep', expect: 'ERR_LIMIT', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '['.repeat(10_000) + ']'.repeat(10_000) }])] }) },
  { name: 'timestamp 10 years ahead', expect: 'ERR_CLOCK_SKEW', plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now() + TEN_YEARS_MS * 1024, key: 'k', json: '1' }])] }) },
  { name: 'updates before the digest', expect: 'ERR_DECODE', plan: (m) => ({ noOpening: true, frames: [updates(m, 'mallory', [{ ts: now(), key: 'k', json: '1' }])] }) },
  { name: 'second digest', expect: 'ERR_DECODE', plan: (m) => ({ frames: [dataFrame(m.messageCodec, [{ type: 'digest', clock: [] }])] }) },
  {
    name: 'batch whose timestamps do not increase',
    expect: 'ERR_DECODE',
    plan: (m) => {
      const ts = now();
      return { frames: [updates(m, 'mallory', [{ ts, key: 'a', json: '1' }, { ts, key: 'b', json: '2' }])] };
    },
  },
  {
    name: 'key longer than the key limit',
    expect: 'ERR_LIMIT',
    plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: 'k'.repeat(5000), json: '1' }])] }),
  },
  {
    name: 'a valid update with a __proto__ key and value is stored as data',
    expect: 'accepted',
    plan: (m) => ({ frames: [updates(m, 'mallory', [{ ts: now(), key: '__proto__', json: '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}' }])] }),
  },
];

/** A log entry of `source` that extends `head` (or starts a chain). */
function entry(source: string, ts: number, json: string, head?: { seq: number; hash: Uint8Array }): LogEntry {
  const seq = (head?.seq ?? 0) + 1;
  const prev = head?.hash ?? new Uint8Array(32);
  const hash = sha256(encode(struct({ prev: fixed(32), source: string, seq: uint, ts: uint, json: string }), { prev, source, seq, ts, json }));
  return { source, ts, seq, prev, json, hash };
}

function entries(l: Log, source: string, list: LogEntry[]): Buffer {
  return dataFrame(l.messageCodec, [{ type: 'updates', source, updates: list }]);
}

const headOf = (l: Log, source: string) => (l as unknown as { heads: Map<string, LogEntry> }).heads.get(source);

const logCases: HostileCase<Log>[] = [
  { name: 'first entry at timestamp 0', expect: 'ERR_DECODE', plan: (l) => ({ frames: [entries(l, 'mallory', [entry('mallory', 0, '1')])] }) },
  { name: 'entry in the server\'s own name that extends its chain', expect: 'ERR_INTEGRITY', plan: (l) => ({ frames: [entries(l, l.id, [entry(l.id, now(), '"forged"', headOf(l, l.id))])] }) },
  { name: 'entry that skips a sequence number', expect: 'ERR_INTEGRITY', plan: (l) => ({ frames: [entries(l, 'mallory', [entry('mallory', now(), '1', { seq: 1, hash: new Uint8Array(32) })])] }) },
  { name: 'entry whose prev is not the chain', expect: 'ERR_INTEGRITY', plan: (l) => ({ frames: [entries(l, 'mallory', [{ ...entry('mallory', now(), '1'), prev: new Uint8Array(32).fill(7) }])] }) },
  { name: 'entry value 1e309', expect: 'ERR_DECODE', plan: (l) => ({ frames: [entries(l, 'mallory', [entry('mallory', now(), '1e309')])] }) },
  { name: 'entry value -0', expect: 'ERR_DECODE', plan: (l) => ({ frames: [entries(l, 'mallory', [entry('mallory', now(), '-0')])] }) },
  { name: 'entry 10 years ahead', expect: 'ERR_CLOCK_SKEW', plan: (l) => ({ frames: [entries(l, 'mallory', [entry('mallory', now() + TEN_YEARS_MS * 1024, '1')])] }) },
  {
    name: 'a valid chain of two entries from a new source is taken',
    expect: 'accepted',
    plan: (l) => {
      const first = entry('carol', now(), '{"a":1}');
      return { frames: [entries(l, 'carol', [first, entry('carol', first.ts + 1, '[2]', first)])] };
    },
  },
];

hostileSuite(model, modelCases);
hostileSuite(log, logCases);
