import test from 'tape';
import fc from 'fast-check';
import { Seq } from '../../lib/index.js';
import { Random } from '../../lib/random.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { applyOps, propertyRuns } from './seq-helpers.js';

const seed = propertySeed(4242);
const numRuns = propertyRuns();

const textArb = fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom('a', 'b', 'c', ' ', 'é', '漢') });

type Op = { r: number; kind: 'ins' | 'del' | 'vals' | 'move' | 'sync'; pos: number; text: string; n: number; from: number };
const opArb: fc.Arbitrary<Op> = fc.record({
  r: fc.nat(2),
  kind: fc.constantFrom('ins', 'ins', 'ins', 'del', 'del', 'vals', 'move', 'sync') as fc.Arbitrary<Op['kind']>,
  pos: fc.nat(1000),
  text: textArb,
  n: fc.nat(4),
  from: fc.nat(2),
});

/** Applies one generated op to `seq` (and to a plain array model, if given). */
function play(seq: Seq, op: Op, model?: unknown[]): void {
  const length = seq.length;
  switch (op.kind) {
    case 'ins': {
      const at = op.pos % (length + 1);
      seq.insert(at, op.text);
      model?.splice(at, 0, ...op.text.split(''));
      return;
    }
    case 'vals': {
      const at = op.pos % (length + 1);
      const values = [op.n, { t: op.text }];
      seq.insert(at, values);
      model?.splice(at, 0, ...values);
      return;
    }
    case 'del': {
      if (length === 0) return;
      const at = op.pos % length;
      const count = Math.min(op.n + 1, length - at);
      seq.delete(at, count);
      model?.splice(at, count);
      return;
    }
    case 'move': {
      if (length === 0) return;
      const from = op.pos % length;
      const to = (op.pos * 7 + op.n) % length;
      seq.move(from, to);
      if (model) {
        const [value] = model.splice(from, 1);
        model.splice(to, 0, value);
      }
      return;
    }
    case 'sync':
      return;
  }
}

test('seq property: a single replica behaves like an array', (t) => {
  checkProperty(
    t,
    'insert, delete and move match Array.prototype.splice; deltas, toString and a reload agree',
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const seq = new Seq({ clientId: 1 });
      const model: unknown[] = [];
      let mirror: unknown[] = [];
      seq.on('change', (change) => (mirror = applyOps(mirror, change.delta)));
      for (const op of ops) play(seq, op, model);
      const loaded = new Seq({ clientId: 2 });
      loaded.applyUpdate(seq.encodeState());
      const expected = JSON.stringify(model);
      return (
        JSON.stringify(seq.toArray()) === expected &&
        JSON.stringify(mirror) === expected &&
        JSON.stringify(loaded.toArray()) === expected &&
        seq.length === model.length &&
        seq.toString() === model.map((v) => (typeof v === 'string' ? v : String(v))).join('')
      );
    }),
    { seed, numRuns },
  );
  t.end();
});

test('seq property: the same updates in any order, with duplicates, give the same sequence', (t) => {
  checkProperty(
    t,
    'three replicas edit and partly sync; every shuffled, duplicated delivery converges',
    fc.property(fc.array(opArb, { maxLength: 50 }), fc.integer(), (ops, shuffleSeed) => {
      const replicas = [1, 2, 3].map((clientId) => new Seq({ clientId }));
      const updates: Buffer[] = [];
      for (const r of replicas) r.on('update', (u: Buffer, origin: unknown) => origin === undefined && updates.push(u));
      for (const op of ops) {
        if (op.kind === 'sync') replicas[op.r].applyUpdate(replicas[op.from].encodeState(replicas[op.r].stateVector()));
        else play(replicas[op.r], op);
      }
      const inOrder = new Seq({ clientId: 9 });
      for (const u of updates) inOrder.applyUpdate(u);
      const random = new Random(shuffleSeed);
      const delivery = [...updates, ...updates.filter(() => random.chance(0.3))];
      random.shuffle(delivery);
      const shuffled = new Seq({ clientId: 8 });
      let mirror: unknown[] = [];
      shuffled.on('change', (change) => (mirror = applyOps(mirror, change.delta)));
      for (const u of delivery) shuffled.applyUpdate(u);
      for (const a of replicas) for (const b of replicas) if (a !== b) b.applyUpdate(a.encodeState(b.stateVector()));
      const expected = JSON.stringify(inOrder.toArray());
      return (
        JSON.stringify(shuffled.toArray()) === expected &&
        JSON.stringify(mirror) === expected &&
        replicas.every((r) => JSON.stringify(r.toArray()) === expected) &&
        shuffled.document.pendingRuns === 0
      );
    }),
    { seed, numRuns },
  );
  t.end();
});

test('seq property: concurrent typing at one position is deterministic and never interleaved', (t) => {
  const letters = 'ABCDE';
  checkProperty(
    t,
    'each replica’s word stays whole, words are ordered by client id, on every delivery order',
    fc.property(
      fc.string({ maxLength: 6, unit: fc.constantFrom('x', 'y', 'z') }),
      fc.nat(10),
      fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 5, maxLength: 5 }),
      fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      fc.integer(),
      (base, posSeed, clients, lengths, typedOneByOne, shuffleSeed) => {
        const origin = new Seq({ clientId: 5000 });
        origin.insert(0, base);
        const pos = posSeed % (base.length + 1);
        const replicas = clients.map((clientId) => new Seq({ clientId }));
        const updates: Buffer[] = [origin.encodeState()];
        replicas.forEach((r, i) => {
          r.applyUpdate(origin.encodeState());
          r.on('update', (u: Buffer, o: unknown) => o === undefined && updates.push(u));
          const word = letters[i].repeat(lengths[i]);
          if (typedOneByOne[i]) for (let k = 0; k < word.length; k++) r.insert(pos + k, word[k]);
          else r.insert(pos, word);
        });
        const random = new Random(shuffleSeed);
        const texts = [...replicas, new Seq({ clientId: 9999 })].map((r) => {
          for (const u of random.shuffle([...updates, ...updates])) r.applyUpdate(u);
          return r.toString();
        });
        const text = texts[0];
        if (!texts.every((x) => x === text)) return false;
        if (text.slice(0, pos) !== base.slice(0, pos) || text.slice(text.length - (base.length - pos)) !== base.slice(pos)) return false;
        const middle = text.slice(pos, pos + text.length - base.length);
        const expected = clients
          .map((clientId, i) => [clientId, letters[i].repeat(lengths[i])] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, word]) => word)
          .join('');
        return middle === expected;
      },
    ),
    { seed, numRuns },
  );
  t.end();
});

test('seq property: remote change events described from the touched runs equal those of a walk of the document', (t) => {
  checkProperty(
    t,
    'two receivers, one describing from the touched runs and one by a walk, report the same deltas; the block index agrees with a walk',
    fc.property(fc.array(opArb, { maxLength: 400 }), fc.integer(), (ops, shuffleSeed) => {
      const replicas = [1, 2, 3].map((clientId) => new Seq({ clientId }));
      const updates: Buffer[] = [];
      for (const r of replicas) r.on('update', (u: Buffer, origin: unknown) => origin === undefined && updates.push(u));
      for (const op of ops) {
        if (op.kind === 'sync') replicas[op.r].applyUpdate(replicas[op.from].encodeState(replicas[op.r].stateVector()));
        else play(replicas[op.r], op);
      }
      const random = new Random(shuffleSeed);
      // In order, then some shuffled and some whole-state updates, so updates touch one run or many.
      const again = updates.filter(() => random.chance(0.2));
      random.shuffle(again);
      const delivery = [...updates, ...again, ...replicas.map((r) => r.encodeState())];
      if (!replicas.every((r) => r.document.indexConsistent())) return false;
      const receivers = (['touched', 'walk'] as const).map((how) => {
        const seq = new Seq({ clientId: 8 });
        seq.document.describeWith = how;
        const deltas: unknown[] = [];
        let mirror: unknown[] = [];
        seq.on('change', (change) => {
          deltas.push(change.delta);
          mirror = applyOps(mirror, change.delta);
        });
        return { seq, deltas, mirror: () => mirror };
      });
      for (const u of delivery) {
        for (const r of receivers) r.seq.applyUpdate(u);
        if (!receivers[0].seq.document.indexConsistent()) return false;
      }
      const expected = JSON.stringify(receivers[1].seq.toArray());
      return JSON.stringify(receivers[0].deltas) === JSON.stringify(receivers[1].deltas) && JSON.stringify(receivers[0].mirror()) === expected && JSON.stringify(receivers[1].mirror()) === expected;
    }),
    { seed, numRuns },
  );
  t.end();
});
