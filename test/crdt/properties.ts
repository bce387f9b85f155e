// The property suite every CRDT type runs: join laws, delivery in any
// order with duplicates, convergence through the catch-up exchange, and
// agreement with a sequential reference model.
import fc from 'fast-check';
import test from 'tape';
import { DEFAULT_LIMITS } from '../../lib/codec/index.js';
import type { Delta } from '../../lib/crdt/delta.js';
import { Random } from '../../lib/random.js';
import { type AnyReplica, canonical, deliver, holds, join, record } from './harness.js';

export interface TypeSpec<R extends AnyReplica, Op> {
  name: string;
  make(id: string): R;
  op: fc.Arbitrary<Op>;
  apply(r: R, op: Op): void;
  /** A sequential reference model: what the value must be after the same operations, one at a time. */
  model?: { init(): any; apply(m: any, op: Op): any; read(m: any): unknown };
}

type Step<Op> = { kind: 'op'; replica: number; op: Op } | { kind: 'sync'; from: number; to: number; chunk: number };

const REPLICAS = 3;

function steps<Op>(op: fc.Arbitrary<Op>): fc.Arbitrary<Step<Op>[]> {
  const replica = fc.integer({ min: 0, max: REPLICAS - 1 });
  return fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('op' as const), replica, op }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: replica, to: replica, chunk: fc.constantFrom(64, 1 << 16) }) },
    ),
    { maxLength: 16 },
  );
}

/** What `from` sends `to` after `to`'s summary: the catch-up, pulled through a real session, in pieces of `chunk` bytes. */
export function catchUp(from: AnyReplica, to: AnyReplica, chunk = 1 << 16): void {
  if (from === to) return;
  const session = from.openSession({ live: false, readable: true, writable: false, maxMessageBytes: chunk, limits: DEFAULT_LIMITS });
  session.start({ id: to.id, readable: false, writable: true, live: false });
  session.receive({ type: 'summary', context: to.context.clone() });
  for (let m = session.pull(); m !== undefined; m = session.pull()) if (m.type === 'delta') deliver(to, m.delta);
  session.close();
}

function run<R extends AnyReplica, Op>(spec: TypeSpec<R, Op>, script: Step<Op>[]) {
  const deltas: Delta<any>[] = [];
  const replicas = Array.from({ length: REPLICAS }, (_, i) => record(spec.make(`r${i}`), deltas));
  for (const step of script) {
    if (step.kind === 'op') spec.apply(replicas[step.replica], step.op);
    else catchUp(replicas[step.from], replicas[step.to], step.chunk);
  }
  return { replicas, deltas };
}

export function properties<R extends AnyReplica, Op>(spec: TypeSpec<R, Op>): void {
  const make = (id: string) => spec.make(id);

  test(`${spec.name}: join is commutative, associative and idempotent`, (t) => {
    holds(
      t,
      fc.property(steps(spec.op), (script) => {
        const [a, b, c] = run(spec, script).replicas;
        const ab = canonical(join(make, a, b));
        if (ab !== canonical(join(make, b, a))) return false;
        if (canonical(join(make, join(make, a, b), c)) !== canonical(join(make, a, join(make, b, c)))) return false;
        return canonical(join(make, a, a)) === canonical(a) && canonical(join(make, a, b, b, a)) === ab;
      }),
      'laws hold',
    );
    t.end();
  });

  test(`${spec.name}: every delta, in any order and with duplicates, gives one state`, (t) => {
    holds(
      t,
      fc.property(steps(spec.op), fc.integer({ min: 0, max: 0x7fffffff }), (script, seed) => {
        const { replicas, deltas } = run(spec, script);
        const inOrder = make('in-order');
        for (const d of deltas) deliver(inOrder, d);
        const random = new Random(seed);
        const shuffled = random.shuffle([...deltas, ...deltas.filter(() => random.chance(0.5))]);
        const anyOrder = make('any-order');
        for (const d of shuffled) deliver(anyOrder, d);
        const expected = canonical(inOrder);
        return canonical(anyOrder) === expected && canonical(join(make, ...replicas)) === expected;
      }),
      'delivery order never matters',
    );
    t.end();
  });

  test(`${spec.name}: catch-up exchanges converge every replica`, (t) => {
    holds(
      t,
      fc.property(steps(spec.op), fc.constantFrom(64, 1 << 16), (script, chunk) => {
        const { replicas } = run(spec, script);
        const expected = canonical(join(make, ...replicas));
        // A chain then back: after two sweeps everyone has everything.
        for (let i = 0; i + 1 < REPLICAS; i++) catchUp(replicas[i], replicas[i + 1], chunk);
        for (let i = REPLICAS - 1; i > 0; i--) catchUp(replicas[i], replicas[i - 1], chunk);
        return replicas.every((r) => canonical(r) === expected);
      }),
      'summaries and deltas converge',
    );
    t.end();
  });

  const model = spec.model;
  if (model) {
    test(`${spec.name}: matches the sequential reference model`, (t) => {
      holds(
        t,
        fc.property(fc.array(fc.record({ replica: fc.integer({ min: 0, max: REPLICAS - 1 }), op: spec.op }), { maxLength: 20 }), (ops) => {
          const deltas: Delta<any>[] = [];
          const replicas = Array.from({ length: REPLICAS }, (_, i) => record(spec.make(`m${i}`), deltas));
          let m = model.init();
          for (const { replica, op } of ops) {
            const seen = deltas.length;
            spec.apply(replicas[replica], op);
            m = model.apply(m, op);
            // Every other replica sees the change before the next one: no concurrency.
            for (const d of deltas.slice(seen)) for (const r of replicas) if (r !== replicas[replica]) deliver(r, d);
            const expected = JSON.stringify(model.read(m));
            if (!replicas.every((r) => JSON.stringify(r.value()) === expected)) return false;
          }
          return true;
        }),
        'agrees with the model',
      );
      t.end();
    });
  }
}
