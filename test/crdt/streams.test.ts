import pump from 'pump';
import test from 'tape';
import type { Duplex } from 'node:stream';
import { encode, uint } from '../../lib/codec/index.js';
import { fromWallTime } from '../../lib/clock/index.js';
import { CausalContext, contextCodec } from '../../lib/crdt/causal-context.js';
import type { DeltaReplica } from '../../lib/crdt/delta-replica.js';
import { DotMap } from '../../lib/crdt/dot-store.js';
import { ReplicationError } from '../../lib/errors.js';
import { GCounter, GSet, LWWRegister, MVRegister, ORMap, ORSet, PNCounter, Reduce, TwoPSet, replicate } from '../../lib/index.js';
import { FrameType } from '../../lib/stream/frames.js';
import { until } from '../helpers/compliance.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';
import { counter } from '../helpers/wire.js';

type Any = DeltaReplica<any, any>;

/** Every type, with a way to make a change and a way to read its state. */
const types: { kind: string; make: (id: string) => Any; mutate: (r: any, i: number) => void }[] = [
  { kind: 'gset', make: (id) => new GSet({ id }), mutate: (s, i) => s.add(i) },
  { kind: 'twopset', make: (id) => new TwoPSet({ id }), mutate: (s, i) => (i % 3 === 2 ? s.remove(i - 1) : s.add(i)) },
  { kind: 'orset', make: (id) => new ORSet({ id }), mutate: (s, i) => (i % 3 === 2 ? s.remove(i - 1) : s.add(i)) },
  { kind: 'gcounter', make: (id) => new GCounter({ id }), mutate: (c, i) => c.increment(i + 1) },
  { kind: 'pncounter', make: (id) => new PNCounter({ id }), mutate: (c, i) => c.increment(i % 2 ? -i : i + 1) },
  { kind: 'lwwregister', make: (id) => new LWWRegister({ id }), mutate: (r, i) => r.set({ i }) },
  { kind: 'mvregister', make: (id) => new MVRegister({ id }), mutate: (r, i) => r.set(i) },
  { kind: 'ormap', make: (id) => new ORMap({ id, values: PNCounter.embedded() }), mutate: (m, i) => (i % 4 === 3 ? m.remove(`k${i % 3}`) : m.update(`k${i % 3}`, (c: any) => c.increment(i + 1))) },
  { kind: 'reduce', make: (id) => new Reduce<number, number>({ id, reduce: Math.max, initial: 0 }), mutate: (r, i) => r.update(i) },
];

/** Pipes two replicas' streams together through byte counters. */
function link(a: Any, b: Any) {
  const [sa, sb] = [a.createStream(), b.createStream()];
  const [ab, ba] = [counter(), counter()];
  const done = new Promise<void>((resolve) => pump(sa, ab, sb, ba, sa, () => resolve()));
  const synced = Promise.all([sa, sb].map((s) => new Promise((resolve) => s.once('synced', resolve))));
  return {
    ab,
    ba,
    synced,
    async close() {
      sa.end();
      sb.end();
      await done;
    },
  };
}

const state = (r: Any) => JSON.stringify(r.value());

test('streams: descriptor kinds are distinct, value() and toJSON() agree', (t) => {
  const kinds = types.map((type) => type.make('x').descriptor.kind);
  t.deepEqual(kinds, types.map((type) => type.kind), 'kinds as documented');
  t.equal(new Set(kinds).size, kinds.length, 'all distinct');
  for (const type of types) {
    const r = type.make('x');
    for (let i = 0; i < 5; i++) type.mutate(r, i);
    t.equal(JSON.stringify(r), JSON.stringify(r.value()), `${type.kind}: toJSON() is value()`);
  }
  t.end();
});

for (const type of types) {
  test(`streams: ${type.kind}: four replicas in a ring converge over real pipes, then go quiet`, async (t) => {
    const rs = ['a', 'b', 'c', 'd'].map((id) => type.make(id));
    for (let i = 0; i < rs.length; i++) for (let j = 0; j < 3; j++) type.mutate(rs[i], i * 10 + j);
    const links = rs.map((r, i) => link(r, rs[(i + 1) % rs.length]));
    await Promise.all(links.map((l) => l.synced));
    for (let i = 0; i < rs.length; i++) type.mutate(rs[i], 100 + i);
    await until(() => rs.every((r) => state(r) === state(rs[0])));
    t.pass(`converged on ${state(rs[0]).slice(0, 60)}`);
    // An update circling the ring would keep the byte counts moving forever; settled links stop.
    const total = () => links.reduce((n, l) => n + l.ab.bytes + l.ba.bytes, 0);
    let last = -1;
    let quiet = 0;
    await until(() => {
      const now = total();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
      return quiet >= 10;
    });
    t.pass(`the ring goes quiet after ${last} bytes: no update circles it`);
    for (const l of links) await l.close();
  });
}

test('streams: after a reconnect, a peer receives only what it is missing', async (t) => {
  const [a, b] = [new ORSet({ id: 'a' }), new ORSet({ id: 'b' })];
  for (let i = 0; i < 1000; i++) a.add(`element-${i}`);
  const first = link(a, b);
  await first.synced;
  await first.close();
  const handshake = handshakeFrame(a.descriptor, { id: 'a' }).length;
  const perElement = (first.ab.bytes - handshake) / 1000;
  t.equal(state(a), state(b), `first sync: ${first.ab.bytes} bytes a -> b (${perElement.toFixed(1)} per element)`);

  // Offline, a adds 10 elements and removes 5.
  for (let i = 0; i < 10; i++) a.add(`new-${i}`);
  for (let i = 0; i < 5; i++) a.remove(`element-${i * 100}`);
  const again = link(a, b);
  await again.synced;
  await again.close();
  t.equal(state(a), state(b), 'in sync again');
  // a -> b: handshake, a's summary (a version vector), 10 entries, 5 removed dots as ranges, the synced marker.
  const summary = encode(contextCodec(), a.context).length + 4;
  const missing = 10 * perElement + 5 * 4;
  const overhead = again.ab.bytes - handshake - summary;
  t.ok(overhead <= missing + 16, `reconnect a -> b: ${again.ab.bytes} bytes (handshake ${handshake}, summary ${summary}, ${overhead} for 15 changes; budget ${Math.round(missing + 16)})`);
  t.ok(again.ab.bytes * 20 < first.ab.bytes, 'a small fraction of the first sync');
  // b -> a: b has nothing a lacks: handshake, summary, marker.
  t.ok(again.ba.bytes <= handshakeFrame(b.descriptor, { id: 'b' }).length + summary + 8, `reconnect b -> a: ${again.ba.bytes} bytes`);

  // A counter's catch-up does not grow with its history.
  const [c, d] = [new GCounter({ id: 'c' }), new GCounter({ id: 'd' })];
  for (let i = 0; i < 10_000; i++) c.increment();
  const l1 = link(c, d);
  await l1.synced;
  await l1.close();
  for (let i = 0; i < 5; i++) c.increment();
  const l2 = link(c, d);
  await l2.synced;
  await l2.close();
  t.equal(d.value(), 10_005, 'counter in sync');
  t.ok(l2.ab.bytes < handshakeFrame(c.descriptor, { id: 'c' }).length + 40, `counter reconnect after 10,005 increments: ${l2.ab.bytes} bytes c -> d`);
});

test('streams: one-way replication', async (t) => {
  const [a, b] = [new ORSet({ id: 'a' }), new ORSet({ id: 'b' })];
  a.add('from-a');
  b.add('from-b');
  const replication = await replicate(a, b, { writable: false }, { readable: false });
  a.add('live-a');
  b.add('live-b');
  await until(() => b.has('live-a'));
  t.deepEqual(a.value(), ['from-a', 'live-a'], 'a accepted nothing');
  t.deepEqual(b.value(), ['from-a', 'from-b', 'live-a', 'live-b'], 'b got everything of a');
  await replication.close();
});

// ------------------------------------------------------------------ bad input

/** A data frame holding raw message bytes. */
function dataFrame(...messages: Buffer[]): Buffer {
  return wireFrame(Buffer.concat([Buffer.from([FrameType.data]), encode(uint, messages.length), ...messages]));
}

function message(r: Any, m: unknown): Buffer {
  return encode(r.messages, m as any);
}

/** Opens a stream on `r`, plays `frames` as a peer, and resolves with the stream's error. */
async function feed(r: Any, frames: Buffer[]): Promise<ReplicationError | undefined> {
  const s = r.createStream({ failGraceMs: 20 } as any) as Duplex;
  const error = new Promise<ReplicationError | undefined>((resolve) => {
    s.once('error', (err) => resolve(err instanceof ReplicationError ? err : undefined));
    s.once('close', () => setImmediate(() => resolve(undefined)));
  });
  s.resume();
  s.write(handshakeFrame(r.descriptor));
  for (const f of frames) s.write(f);
  return error;
}

const peer = (r: Any) => `${r.id}-raw-peer`;

test('streams: bad input from a peer is a coded error; the replica is untouched and carries on', async (t) => {
  const cases: { name: string; make: (id: string) => Any; frames: (r: Any) => Buffer[]; code: string }[] = [
    {
      name: 'a 100,000-entry version vector',
      make: (id) => new ORSet({ id }),
      frames: () => {
        const huge = new CausalContext();
        for (let i = 0; i < 100_000; i++) huge.ranges.set(i.toString(36), [1, 1]);
        return [dataFrame(Buffer.concat([encode(uint, 0), encode(contextCodec(Infinity), huge)]))];
      },
      code: 'ERR_LIMIT',
    },
    {
      name: 'a G-counter total that goes down (a negative increment)',
      make: (id) => new GCounter({ id }),
      frames: (r) => {
        const entry = (seq: number, value: number) => ({ type: 'delta', delta: { store: new Map([[`${seq}@${peer(r)}`, { replica: peer(r), seq, value }]]), context: CausalContext.ofDots([{ replica: peer(r), seq }, ...(seq > 1 ? [{ replica: peer(r), seq: seq - 1 }] : [])]) } });
        // The peer's first total arrives in good order; then its total drops from 10 to 3.
        r.receiveDelta(entry(1, 10).delta as any);
        return [dataFrame(message(r, entry(2, 3)))];
      },
      code: 'ERR_INTEGRITY',
    },
    {
      name: 'an entry outside its delta context',
      make: (id) => new ORSet({ id }),
      frames: (r) => {
        const store = new DotMap<any>();
        store.entries.set(encode((r as ORSet)['keys'].encoding, 'x').toString('latin1'), [{ replica: peer(r), seq: 2 }]);
        return [dataFrame(message(r, { type: 'delta', delta: { store, context: CausalContext.ofDots([{ replica: peer(r), seq: 1 }]) } }))];
      },
      code: 'ERR_DECODE',
    },
    {
      name: 'events of ours we never made',
      make: (id) => new ORSet({ id }),
      frames: (r) => [dataFrame(message(r, { type: 'delta', delta: { store: new DotMap(), context: CausalContext.from([[r.id, [1, 1000]]]) } }))],
      code: 'ERR_INTEGRITY',
    },
    {
      name: 'a grow-only set delta that removes',
      make: (id) => new GSet({ id }),
      frames: (r) => [dataFrame(message(r, { type: 'delta', delta: { store: new DotMap(), context: CausalContext.from([[peer(r), [1, 2]]]) } }))],
      code: 'ERR_INTEGRITY',
    },
    {
      name: 'a register write ten minutes in the future',
      make: (id) => new LWWRegister({ id }),
      frames: (r) => {
        const dot = { replica: peer(r), seq: 1 };
        const store = new Map([[`1@${peer(r)}`, { ...dot, value: { ts: fromWallTime(Date.now() + 600_000), value: 'from the future' } }]]);
        return [dataFrame(message(r, { type: 'delta', delta: { store, context: CausalContext.ofDots([dot]) } }))];
      },
      code: 'ERR_CLOCK_SKEW',
    },
    {
      name: 'touching ranges in a context',
      make: (id) => new ORSet({ id }),
      frames: () => [dataFrame(Buffer.from([0, 1, 1, 0x70, 2, 0, 0, 0, 0]))],
      code: 'ERR_DECODE',
    },
    {
      name: 'an element that is not JSON',
      make: (id) => new ORSet({ id }),
      frames: (r) => {
        const ctx = encode(contextCodec(), CausalContext.ofDots([{ replica: 'p', seq: 1 }]));
        return [dataFrame(Buffer.concat([encode(uint, 1), ctx, Buffer.from([1, 3, 0x7b, 0x7b, 0x7b, 1, 0, 1])]))];
      },
      code: 'ERR_DECODE',
    },
    {
      name: 'a second summary',
      make: (id) => new PNCounter({ id }),
      frames: (r) => [dataFrame(message(r, { type: 'summary', context: new CausalContext() })), dataFrame(message(r, { type: 'summary', context: new CausalContext() }))],
      code: 'ERR_DECODE',
    },
  ];
  for (const c of cases) {
    const r = c.make('target');
    const other = c.make('friend');
    for (let i = 0; i < 3; i++) types.find((x) => x.kind === r.descriptor.kind)!.mutate(r, i);
    const frames = c.frames(r);
    const before = state(r);
    const err = await feed(r, frames);
    t.equal(err?.code, c.code, `${c.name}: ${err?.code} (${err?.message})`);
    t.equal(state(r), before, `${c.name}: replica untouched`);
    const healthy = await replicate(r, other);
    t.equal(state(other), state(r), `${c.name}: the replica still replicates`);
    await healthy.close();
  }
});

test('streams: bad arguments are ERR_INVALID_ARGUMENT', (t) => {
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return (err as ReplicationError).code;
    }
  };
  const g = new GCounter({ id: 'g' });
  t.equal(code(() => g.increment(-1)), 'ERR_INVALID_ARGUMENT', 'negative increment');
  t.equal(code(() => g.increment(0)), 'ERR_INVALID_ARGUMENT', 'zero increment');
  t.equal(code(() => g.increment(1.5)), 'ERR_INVALID_ARGUMENT', 'fractional increment');
  t.equal(code(() => new PNCounter({ id: 'p' }).decrement(-2)), 'ERR_INVALID_ARGUMENT', 'negative decrement');
  t.equal(code(() => new GSet({ id: 's' }).remove(1)), 'ERR_INVALID_ARGUMENT', 'removing from a GSet');
  t.equal(code(() => new ORSet({ id: 'o' }).add(() => 1)), 'ERR_INVALID_ARGUMENT', 'a function as an element');
  t.equal(code(() => new LWWRegister({ id: 'l' }).set(undefined)), 'ERR_INVALID_ARGUMENT', 'undefined in a register');
  t.equal(g.value(), 0, 'nothing changed');
  t.end();
});

test('streams: a large state with scattered removals goes in bounded pieces through small frames', async (t) => {
  const [a, b] = [new ORSet({ id: 'a' }), new ORSet({ id: 'b' })];
  for (let i = 0; i < 3000; i++) a.add(i);
  for (let i = 0; i < 3000; i += 3) a.remove(i); // 1,000 separate removal ranges
  const replication = await replicate(a, b, { maxFrameBytes: 512 });
  t.equal(b.size, 2000, 'all live elements arrived');
  t.deepEqual(b.value(), a.value(), 'identical');
  t.deepEqual(b.context.toJSON(), a.context.toJSON(), 'the removals arrived too');
  await replication.close();
});
