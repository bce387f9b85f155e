// Hostile peers against Seq.
import { Seq } from '../../lib/index.js';
import { seqMessageCodec } from '../../lib/seq/session.js';
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

const cases: HostileCase<Seq>[] = [
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
