// The column form of Seq updates (lib/seq/column-codec.ts): round trips,
// convergence, chunks within the budget, limits, and one encoding only.
import test from 'tape';
import fc from 'fast-check';
import { Seq } from '../../lib/index.js';
import { DEFAULT_LIMITS } from '../../lib/codec/index.js';
import { decodeUpdate, encodeChunk, encodeDelta } from '../../lib/seq/update-codec.js';
import { Writer } from '../../lib/seq/writer.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { propertyRuns } from './seq-helpers.js';
import { codeOf } from '../helpers/error-code.js';

const seed = propertySeed(1414);
const numRuns = propertyRuns(100);


function exchange(...replicas: Seq[]): void {
  for (const a of replicas) for (const b of replicas) if (a !== b) b.applyUpdate(a.encodeState(b.stateVector()));
}

type Op = { r: number; kind: 'ins' | 'del' | 'vals' | 'sync'; pos: number; text: string; n: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  r: fc.nat(2),
  kind: fc.constantFrom('ins', 'ins', 'ins', 'del', 'del', 'vals', 'sync') as fc.Arbitrary<Op['kind']>,
  pos: fc.nat(1000),
  text: fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', ' ', 'é', '漢', '\u{1F600}') }),
  n: fc.nat(6),
});

/** True if element `i` of `seq` is the low half of a surrogate pair (an index that cuts a pair). */
function lowHalf(elements: unknown[], i: number): boolean {
  const e = elements[i];
  return typeof e === 'string' && /[\uDC00-\uDFFF]/.test(e);
}

/** Three replicas edited concurrently by `ops`, syncing now and then; indices never cut a surrogate pair. */
function concurrentDocs(ops: Op[]): Seq[] {
  const replicas = [3, 1, 2].map((clientId) => new Seq({ clientId }));
  for (const op of ops) {
    const seq = replicas[op.r];
    const length = seq.length;
    const elements = seq.toArray();
    if (op.kind === 'sync') exchange(...replicas);
    else if (op.kind === 'del' && length > 0) {
      let at = op.pos % length;
      if (lowHalf(elements, at)) at--;
      let count = Math.min(op.n + 1, length - at);
      if (lowHalf(elements, at + count)) count++;
      seq.delete(at, count);
    } else if (op.kind !== 'del') {
      let at = op.pos % (length + 1);
      if (lowHalf(elements, at)) at--;
      seq.insert(at, op.kind === 'vals' ? [op.n, { t: op.text }] : op.text);
    }
  }
  return replicas;
}

test('seq columns property: random concurrent documents round-trip byte for byte and converge', (t) => {
  checkProperty(
    t,
    'a full state loads into a fresh replica, which encodes the same bytes again; a partial state brings a replica up to date',
    fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      const replicas = concurrentDocs(ops);
      const [a, b] = replicas;
      const whole = a.encodeState();
      const loaded = new Seq({ clientId: 9 });
      loaded.applyUpdate(whole);
      if (JSON.stringify(loaded.toArray()) !== JSON.stringify(a.toArray())) return false;
      // A replica holds exactly what its peers receive: it sends the same bytes on.
      if (!loaded.encodeState().equals(whole)) return false;
      // What b lacks, in the column form, brings b to a's state.
      b.applyUpdate(a.encodeState(b.stateVector()));
      a.applyUpdate(b.encodeState(a.stateVector()));
      return JSON.stringify(a.toArray()) === JSON.stringify(b.toArray());
    }),
    { seed, numRuns },
  );
  t.end();
});

test('seq columns property: a full state cut into chunks keeps each within the budget and converges in any order', (t) => {
  checkProperty(
    t,
    'column chunks are at most the budget, and applied shuffled they give the same document',
    fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 160, max: 1200 }), fc.nat(1000), (ops, budget, shuffle) => {
      const replicas = concurrentDocs(ops);
      exchange(...replicas);
      const a = replicas[0];
      const delta = a.document.missing(new Map());
      const cursor = { item: 0, clock: 0, del: 0 };
      const chunks: Buffer[] = [];
      for (let chunk = encodeChunk(a.document, delta, cursor, budget, 'columns'); chunk; chunk = encodeChunk(a.document, delta, cursor, budget, 'columns')) {
        if (chunk.length > budget) return false;
        chunks.push(chunk);
      }
      // A seeded rotation and reversal: out-of-order delivery.
      const order = chunks.map((_, i) => (i + shuffle) % chunks.length);
      if (shuffle % 2 === 1) order.reverse();
      const fresh = new Seq({ clientId: 8 });
      for (const i of order) fresh.applyUpdate(chunks[i]);
      return JSON.stringify(fresh.toArray()) === JSON.stringify(a.toArray()) && fresh.document.pendingRuns === 0;
    }),
    { seed, numRuns },
  );
  t.end();
});

test('seq columns: a long deleted stretch and long text fit small chunks', (t) => {
  const a = new Seq({ clientId: 5 });
  a.insert(0, 'x'.repeat(50_000));
  a.delete(100, 49_000);
  a.insert(50, 'y'.repeat(3000));
  const delta = a.document.missing(new Map());
  const cursor = { item: 0, clock: 0, del: 0 };
  const b = new Seq({ clientId: 6 });
  let chunks = 0;
  for (let chunk = encodeChunk(a.document, delta, cursor, 256, 'columns'); chunk; chunk = encodeChunk(a.document, delta, cursor, 256, 'columns')) {
    if (chunk.length > 256) t.fail(`a chunk of ${chunk.length} bytes`);
    b.applyUpdate(chunk);
    chunks++;
  }
  t.equal(b.toString(), a.toString(), `synced in ${chunks} chunks of at most 256 bytes`);
  t.end();
});

/** Hand-built column updates: the mark, then the parts as varints (columns as given bytes). */
function columns(parts: {
  clients: number[];
  groups: number[][];
  infos: number[];
  lengths: number[];
  origins?: number[];
  rights?: number[];
  text?: string;
  values?: string[];
  deletes?: number[];
}): Buffer {
  const w = new Writer();
  w.byte(0);
  w.byte(1);
  w.uint(parts.clients.length);
  for (const c of parts.clients) w.uint(c);
  w.uint(parts.groups.length);
  for (const g of parts.groups) for (const n of g) w.uint(n);
  const col = (fill: (c: Writer) => void) => {
    const c = new Writer();
    fill(c);
    w.uint(c.pos);
    w.append(c);
  };
  col((c) => parts.infos.forEach((b) => c.byte(b)));
  col((c) => parts.lengths.forEach((n) => c.uint(n)));
  col((c) => (parts.origins ?? []).forEach((n) => c.uint(n)));
  col((c) => (parts.rights ?? []).forEach((n) => c.uint(n)));
  col((c) => c.raw(parts.text ?? ''));
  col((c) => (parts.values ?? []).forEach((v) => c.utf8(v)));
  for (const n of parts.deletes ?? [0]) w.uint(n);
  return w.toBuffer();
}

// Info bits: kind (0 text, 1 values, 2 deleted) | origin mode << 2 | right mode << 4; 0x80 = a run follows.
const TEXT = 0;
const IMPLICIT = 1 << 2;
const OWN_ORIGIN = 2 << 2;
const OTHER_ORIGIN = 3 << 2;
const SUCCESSOR = 2 << 4;
const OTHER_RIGHT = 4 << 4;

test('seq columns: the hand-built encoding is the one the encoder writes', (t) => {
  const a = new Seq({ clientId: 7 });
  a.insert(0, 'ab');
  t.deepEqual(a.encodeState(), columns({ clients: [7], groups: [[0, 0, 1]], infos: [TEXT], lengths: [2], text: 'ab' }), 'one text run');
  // Three runs typed at the start, each with no origin and its predecessor as right origin.
  const b = new Seq({ clientId: 7 });
  b.insert(0, 'c');
  b.insert(0, 'b');
  b.insert(0, 'a');
  const expected = columns({ clients: [7], groups: [[0, 0, 3]], infos: [TEXT, TEXT | (3 << 4) | 0x80, 0], lengths: [1, 0, 0], rights: [0, 0], text: 'cba' });
  t.deepEqual(b.encodeState(), expected, 'infos and lengths in runs');
  t.equal(new Seq({ clientId: 1 }).applyUpdate(expected), undefined, 'and it decodes');
  t.end();
});

test('seq columns: malformed, oversized and non-canonical column updates fail with a coded error and change nothing', (t) => {
  const victim = new Seq({ clientId: 1 });
  victim.insert(0, 'keep');
  const good = (() => {
    const o = new Seq({ clientId: 2 });
    o.insert(0, 'hello, world');
    o.insert(5, [1, { k: 'v' }]);
    o.delete(1, 2);
    o.insert(3, 'zz');
    return o.encodeState();
  })();
  t.equal(codeOf(() => new Seq({ clientId: 3 }).applyUpdate(good)), undefined, 'the good update is taken');
  let truncations = 0;
  for (let cut = 3; cut < good.length; cut++) {
    const code = codeOf(() => victim.applyUpdate(good.subarray(0, cut)));
    if (code !== 'ERR_DECODE') t.fail(`cut at ${cut}: ${code}`);
    truncations++;
  }
  t.pass(`${truncations} truncations all fail with ERR_DECODE`);
  const cases: [string, Buffer, string, object?][] = [
    ['trailing byte', Buffer.concat([good, Buffer.from([0])]), 'ERR_DECODE'],
    ['more records than maxItems', good, 'ERR_LIMIT', { maxItems: 2 }],
    ['a thousand records claimed by a few bytes (runs of equal infos and lengths)', columns({ clients: [2], groups: [[0, 0, 1000]], infos: [2 | 0x80, 998], lengths: [5, 0, 997] }), 'ERR_DECODE'],
    ['a column longer than maxBytes', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT], lengths: [300], text: 'x'.repeat(300) }), 'ERR_LIMIT', { maxBytes: 200 }],
    ['two records that continue each other', columns({ clients: [2], groups: [[0, 0, 2]], infos: [TEXT, TEXT | IMPLICIT], lengths: [1, 1], text: 'ab' }), 'ERR_DECODE'],
    ['equal infos not written as a run', columns({ clients: [2], groups: [[0, 0, 2]], infos: [TEXT, TEXT], lengths: [1, 1], text: 'ba' }), 'ERR_DECODE'],
    ['three equal lengths not written as a run', columns({ clients: [2], groups: [[0, 0, 3]], infos: [TEXT | 0x80, 1], lengths: [1, 1, 1], text: 'cba' }), 'ERR_DECODE'],
    ['a client in the table that nothing uses', columns({ clients: [2, 5], groups: [[0, 0, 1]], infos: [TEXT], lengths: [1], text: 'a' }), 'ERR_DECODE'],
    ['an own origin written as another client', columns({ clients: [2], groups: [[0, 0, 2]], infos: [TEXT, TEXT | OTHER_ORIGIN], lengths: [2, 1], origins: [0, 0], text: 'abc' }), 'ERR_DECODE'],
    ['a right origin that is the successor of the origin, written out', columns({ clients: [2], groups: [[0, 0, 2]], infos: [TEXT, TEXT | OWN_ORIGIN | OTHER_RIGHT], lengths: [3, 1], origins: [0], rights: [0, 2], text: 'abcd' }), 'ERR_DECODE'],
    ['the canonical form of the same record is taken', columns({ clients: [2], groups: [[0, 0, 2]], infos: [TEXT, TEXT | OWN_ORIGIN | SUCCESSOR], lengths: [3, 1], origins: [0], text: 'abcd' }), 'accepted'],
    ['deleted ranges that touch', columns({ clients: [2], groups: [], infos: [], lengths: [], deletes: [1, 0, 2, 0, 1, 0, 1] }), 'ERR_DECODE'],
    ['a byte left in the origin column', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT], lengths: [1], origins: [0], text: 'a' }), 'ERR_DECODE'],
    ['an info run longer than the records', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT | 0x80, 3], lengths: [1], text: 'a' }), 'ERR_DECODE'],
    ['a length run with no length before it', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT], lengths: [0, 0], text: 'a' }), 'ERR_DECODE'],
    ['text left over', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT], lengths: [1], text: 'ab' }), 'ERR_DECODE'],
    ['a text record ending inside a surrogate pair', columns({ clients: [2], groups: [[0, 0, 2]], infos: [TEXT, TEXT | OWN_ORIGIN], lengths: [2, 1], origins: [0], text: 'a\u{1F600}' }), 'ERR_DECODE'],
    ['unknown right-origin mode', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT | (5 << 4)], lengths: [1], text: 'a' }), 'ERR_DECODE'],
    ['an origin before the first element', columns({ clients: [2], groups: [[0, 0, 1]], infos: [TEXT | OWN_ORIGIN], lengths: [1], origins: [0], text: 'a' }), 'ERR_INTEGRITY'],
    ['a value record whose length disagrees', columns({ clients: [2], groups: [[0, 0, 1]], infos: [1], lengths: [3], values: ['[1,2]'] }), 'ERR_DECODE'],
    ['a value record in a non-canonical spelling', columns({ clients: [2], groups: [[0, 0, 1]], infos: [1], lengths: [2], values: ['[1, 2]'] }), 'ERR_DECODE'],
  ];
  for (const [name, bytes, code, limits] of cases) {
    const before = JSON.stringify(victim.toArray());
    const vector = victim.stateVector();
    if (code === 'accepted') {
      t.equal(codeOf(() => new Seq({ clientId: 4 }).applyUpdate(bytes, undefined, limits)), undefined, name);
      continue;
    }
    t.equal(codeOf(() => victim.applyUpdate(bytes, undefined, limits)), code, name);
    if (JSON.stringify(victim.toArray()) !== before || !victim.stateVector().equals(vector)) t.fail(`${name}: the replica changed`);
  }
  t.equal(victim.toString(), 'keep', 'nothing was applied');
  t.equal(decodeUpdate(good).structs.length > 3, true, 'the good update holds several records');
  t.end();
});

test('seq columns: the row form of a whole document (what earlier versions stored) still loads, to the same document', (t) => {
  const a = new Seq({ clientId: 11 });
  a.insert(0, 'stored before the column form');
  a.delete(7, 7);
  a.insert(3, [true, null]);
  const rows = encodeDelta(a.document, a.document.missing(new Map()), 'rows');
  const columnsForm = a.encodeState();
  t.notEqual(rows[0], 0, 'the row form starts with its client count');
  t.deepEqual([columnsForm[0], columnsForm[1]], [0, 1], 'the column form starts with its mark');
  const fromRows = new Seq({ clientId: 12 });
  fromRows.applyUpdate(rows);
  t.deepEqual(fromRows.toArray(), a.toArray(), 'loaded from rows');
  t.ok(fromRows.encodeState().equals(columnsForm), 'and it holds what the column form carries, byte for byte');
  t.end();
});

test('seq columns: a session catches a peer up in the column form, in messages under its budget; live edits go in the row form', (t) => {
  const a = new Seq({ clientId: 21 });
  for (let i = 0; i < 300; i++) a.insert(Math.floor(a.length / 2), 'typed ');
  a.delete(10, 900);
  const b = new Seq({ clientId: 22 });
  const session = a.openSession({ live: true, readable: true, writable: false, maxMessageBytes: 512, limits: DEFAULT_LIMITS });
  session.start({ id: b.descriptor.id, readable: false, writable: true, live: true });
  const hello = new Seq({ clientId: 22 }).openSession({ live: true, readable: false, writable: true, maxMessageBytes: 512, limits: DEFAULT_LIMITS });
  hello.start({ id: a.descriptor.id, readable: true, writable: false, live: true });
  const opening = hello.pull();
  t.equal(opening?.type, 'hello', "b's hello");
  session.receive(opening!);
  const updates: Buffer[] = [];
  for (let m = session.pull(); m !== undefined; m = session.pull()) if (m.type === 'update') updates.push(Buffer.from(m.update));
  t.ok(updates.length > 1, `the catch-up came in ${updates.length} messages`);
  t.ok(
    updates.every((u) => u[0] === 0 && u[1] === 1),
    'every one in the column form',
  );
  t.ok(
    updates.every((u) => u.length <= 512),
    `every one under the budget (largest ${Math.max(...updates.map((u) => u.length))} bytes)`,
  );
  for (const u of updates) b.applyUpdate(u);
  t.equal(b.toString(), a.toString(), 'the peer holds the document');
  a.insert(0, 'live');
  const live = session.pull();
  t.ok(live?.type === 'update' && live.update[0] !== 0, 'a live edit goes in the row form');
  session.close();
  hello.close();
  t.end();
});
