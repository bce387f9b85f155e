// Hostile peers against Seq.
import { Seq } from '../../lib/index.js';
import { seqMessageCodec } from '../../lib/seq/session.js';
import { encodeDelta } from '../../lib/seq/update-codec.js';
import { dataFrame } from './attacker.js';
import { type HostileCase, hostileSuite } from './suite.js';
import { seq } from './subjects.js';

/** An update from an attacker's own Seq holding `values`, with the run's JSON text `from` replaced by `to` (same length). */
function forgedRun(values: unknown[], from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('replacement must keep the length');
  const forger = new Seq({ clientId: 777 });
  forger.push(values);
  const update = forger.encodeState();
  const at = update.indexOf(from, 0, 'utf8');
  if (at < 0) throw new Error(`${from} not in the update`);
  update.write(to, at, 'utf8');
  return dataFrame(seqMessageCodec, [{ type: 'update', update }]);
}

// Defect 3: an attacker's text with a surrogate pair, then deletes of half of it.
const pairWriter = new Seq({ clientId: 778 });
pairWriter.insert(0, 'a\u{1F600}b');
const pairDelete = (clock: number, length: number) => dataFrame(seqMessageCodec, [{ type: 'update', update: encodeDelta(pairWriter.document, { items: [], deletes: [778, clock, length] }) }]);

// Defect 4b: runs hanging off elements that never come, and deletions of unknown elements.
function neverApplicable(count: number): Buffer {
  const hidden = new Seq({ clientId: 779 });
  hidden.insert(0, 'x'); // never sent
  const messages = [];
  for (let c = 0; c < count; c++) {
    const ghost = new Seq({ clientId: 10_000 + c });
    ghost.applyUpdate(hidden.encodeState());
    ghost.insert(1, 'y');
    messages.push({ type: 'update', update: encodeDelta(ghost.document, { items: [10_000 + c, 0, 1], deletes: [50_000 + c, 0, 10] }) });
  }
  return dataFrame(seqMessageCodec, messages as never[]);
}

// The column form (full states and catch-ups): one encoding only, and whole.
const columnWriter = new Seq({ clientId: 780 });
columnWriter.insert(0, 'typed, backspaced and typed again');
columnWriter.delete(5, 3);
columnWriter.insert(5, [1, { v: 'x' }]);
const columnState = columnWriter.encodeState();
const columnFrame = (update: Buffer) => dataFrame(seqMessageCodec, [{ type: 'update', update }]);
/** Two records that continue each other, not joined: [0, 1] mark, client 781, one group of 2 records, infos text / text + implicit origin, lengths 1 and 1, text "ab". */
const unjoined = Buffer.from([0, 1, 1, 0x8d, 0x06, 1, 0, 0, 2, 2, 0, 4, 2, 1, 1, 0, 0, 2, 0x61, 0x62, 0, 0]);

const cases: HostileCase<Seq>[] = [
  { name: 'a full state in the column form is taken', expect: 'accepted', plan: () => ({ frames: [columnFrame(columnState)] }) },
  { name: 'a truncated column update', expect: 'ERR_DECODE', plan: () => ({ frames: [columnFrame(columnState.subarray(0, columnState.length - 3))] }) },
  { name: 'a column update with a byte appended', expect: 'ERR_DECODE', plan: () => ({ frames: [columnFrame(Buffer.concat([columnState, Buffer.from([0])]))] }) },
  { name: 'a column update not in its one encoding (records that continue each other, not joined)', expect: 'ERR_DECODE', plan: () => ({ frames: [columnFrame(unjoined)] }) },
  { name: 'a valid text holding a surrogate pair is taken', expect: 'accepted', plan: () => ({ frames: [dataFrame(seqMessageCodec, [{ type: 'update', update: pairWriter.encodeState() }])] }) },
  { name: 'a delete of the high half of a surrogate pair', expect: 'accepted', plan: () => ({ frames: [pairDelete(1, 1)] }) },
  { name: 'a delete of the low half of a surrogate pair (already gone with its high half)', expect: 'accepted', plan: () => ({ frames: [pairDelete(2, 1)] }) },
  { name: '200 runs and deletions that can never apply', expect: 'accepted', plan: () => ({ frames: [neverApplicable(200)] }) },
  // Defect 2: value runs that change when re-encoded (a run is re-encoded whenever it is split).
  { name: 'value run holding 1e309', expect: 'ERR_DECODE', plan: () => ({ frames: [forgedRun([12345], '[12345]', '[1e309]')] }) },
  { name: 'value run holding -0', expect: 'ERR_DECODE', plan: () => ({ frames: [forgedRun([77], '[77]', '[-0]')] }) },
  { name: 'value run with duplicate keys', expect: 'ERR_DECODE', plan: () => ({ frames: [forgedRun([{ ab: 1, cd: 2 }], '{"ab":1,"cd":2}', '{"ab":1,"ab":2}')] }) },
  { name: 'value run with spaces', expect: 'ERR_DECODE', plan: () => ({ frames: [forgedRun([1, 22], '[1,22]', '[1, 2]')] }) },
  { name: 'second hello', expect: 'ERR_DECODE', plan: (s) => ({ frames: [dataFrame(seqMessageCodec, seq.opening(s) as never[])] }) },
  { name: 'update that is not an update', expect: 'ERR_DECODE', plan: () => ({ frames: [dataFrame(seqMessageCodec, [{ type: 'update', update: Buffer.from([0xff, 0xff, 0xff, 0xff]) }])] }) },
  { name: 'a valid update from a new client is taken', expect: 'accepted', plan: () => ({ frames: [forgedRun(['ok', 1], '["ok",1]', '["ok",1]')] }) },
];

hostileSuite(seq, cases);
