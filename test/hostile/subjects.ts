import { inspect } from 'node:util';
import { MemoryLevel } from 'memory-level';
import {
  GCounter,
  GSet,
  LWWRegister,
  Log,
  MVRegister,
  MerkleStore,
  Model,
  ORMap,
  ORSet,
  PNCounter,
  Seq,
  TwoPSet,
} from '../../lib/index.js';
import type { ValueEncoding } from '../../lib/codec/index.js';
import type { DeltaReplica } from '../../lib/crdt/delta-replica.js';
import { CausalContext } from '../../lib/crdt/causal-context.js';
import { seqMessageCodec } from '../../lib/seq/session.js';
import { encodeStateVector } from '../../lib/seq/update-codec.js';
import { encodeDeleteDigest } from '../../lib/seq/delete-digest.js';
import { merkleMessageCodec } from '../../lib/merkle/messages.js';
import { json } from '../../lib/codec/index.js';
import { uint } from '../../lib/codec/primitives.js';
import type { Subject } from './suite.js';

/** Deep, sorted, exact: tells -0 from 0, Infinity from null, a Date from a string. */
export function dump(value: unknown): string {
  return inspect(value, { depth: Infinity, sorted: true, maxArrayLength: Infinity, maxStringLength: Infinity, breakLength: Infinity, getters: false });
}

const scuttlebuttOpening = () => [{ type: 'digest', clock: [] }];

export const model: Subject<Model> = {
  name: 'model',
  create: (id) => new Model({ id }),
  populate(m) {
    for (let i = 0; i < 20; i++) m.set(`key-${i}`, { i, list: [i, `${i}`], nested: { ok: true } });
    m.delete('key-3');
  },
  // Every retained update as it goes on the wire (source, timestamp, key and value text), by key.
  snapshot: (m) => dump([...m.history()].map((u) => [u.key, u.source, u.ts, u.json]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))),
  codec: (m) => m.messageCodec,
  opening: scuttlebuttOpening,
};

export const log: Subject<Log> = {
  name: 'log',
  create: (id) => new Log({ id }),
  populate(l) {
    for (let i = 0; i < 20; i++) l.append({ i, text: `entry ${i}` });
  },
  snapshot: (l) => dump([...l.history()].map((e) => [e.source, e.seq, e.ts, e.json, Buffer.from(e.hash).toString('hex')])),
  codec: (l) => l.messageCodec,
  opening: scuttlebuttOpening,
};

/**
 * Everything a delta-state replica holds, independent of how its store is
 * laid out in memory: the value, every dot the store holds, and the causal
 * context, each sorted.
 */
function deltaSnapshot(r: DeltaReplica<any, any>): string {
  const dots: string[] = [];
  r.storeKind.forEachDot(r.store, (replica: string, seq: number) => dots.push(`${seq}@${replica}`));
  return dump({ value: r.value(), dots: dots.sort(), context: [...r.context.ranges].sort(([a], [b]) => (a < b ? -1 : 1)) });
}

function deltaSubject<R extends DeltaReplica<any, any>>(name: string, create: (id: string) => R, populate: (r: R) => void): Subject<R> {
  return {
    name,
    create,
    populate,
    snapshot: deltaSnapshot,
    codec: (r) => r.messages,
    opening: () => [{ type: 'summary', context: new CausalContext() }],
  };
}

export const gset = deltaSubject('gset', (id) => new GSet({ id }), (s) => {
  for (let i = 0; i < 20; i++) s.add({ i });
});
export const twopset = deltaSubject('twopset', (id) => new TwoPSet({ id }), (s) => {
  for (let i = 0; i < 20; i++) s.add(`e${i}`);
  for (let i = 0; i < 5; i++) s.remove(`e${i}`);
});
export const orset = deltaSubject('orset', (id) => new ORSet({ id }), (s) => {
  for (let i = 0; i < 20; i++) s.add([i, 'x']);
  for (let i = 0; i < 5; i++) s.remove([i, 'x']);
});
export const gcounter = deltaSubject('gcounter', (id) => new GCounter({ id }), (c) => {
  for (let i = 1; i <= 20; i++) c.increment(i);
});
export const pncounter = deltaSubject('pncounter', (id) => new PNCounter({ id }), (c) => {
  for (let i = 1; i <= 20; i++) c.increment(i);
  c.decrement(7);
});
export const lwwregister = deltaSubject('lwwregister', (id) => new LWWRegister({ id }), (r) => {
  r.set({ hello: ['world', 1, 2.5, null, true] });
});
export const mvregister = deltaSubject('mvregister', (id) => new MVRegister({ id }), (r) => {
  r.set(['a', { b: 1 }]);
});
export const ormap = deltaSubject('ormap', (id) => new ORMap({ id, values: ORSet.embedded() }), (m) => {
  for (let i = 0; i < 10; i++) m.update(`k${i}`, (set) => set.add(i));
  m.remove('k2');
});

export const seq: Subject<Seq> = {
  name: 'seq',
  create: (id) => new Seq({ id, clientId: hashId(id) }),
  populate(s) {
    s.insert(0, 'hello, world');
    s.push([1, { two: 2 }, ['three']]);
    s.delete(0, 1);
  },
  snapshot: (s) => dump({ value: s.toJSON(), state: s.encodeState().toString('hex') }),
  codec: () => seqMessageCodec,
  opening: () => {
    const empty = new Seq({ clientId: 1 });
    return [{ type: 'hello', stateVector: encodeStateVector(empty.document.stateVector()), deletes: encodeDeleteDigest(empty.document.deleteDigest()) }];
  },
};

export const merkle: Subject<MerkleStore> = {
  name: 'merkle',
  async create(id) {
    const store = new MerkleStore({ db: new MemoryLevel(), id, depth: 6 });
    await store.open();
    return store;
  },
  async populate(store) {
    for (let i = 0; i < 20; i++) await store.put(`k${i}`, { i });
    await store.del('k3');
  },
  async snapshot(store) {
    await store.flushed();
    const entries: unknown[] = [];
    for await (const versions of store.entries()) entries.push(versions);
    return dump({ root: store.rootHash, entries });
  },
  codec: () => merkleMessageCodec,
  opening: () => [],
  close: (store) => store.close(),
};

export const SUBJECTS = { model, log, gset, twopset, orset, gcounter, pncounter, lwwregister, mvregister, ormap, seq, merkle } as const;

/** A stable client id for a Seq named `id`. */
function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/**
 * A value encoding that writes JSON text exactly as given (a `RawJson`), for
 * forging values that an honest encoder would never write: `-0`, `1e309`,
 * duplicate keys. It calls itself `json`, so the handshake matches.
 */
export class RawJson {
  constructor(readonly text: string) {}
}
export const rawJson: ValueEncoding<unknown> = {
  name: 'json',
  canonical: (value) => value,
  encodingLength: (value) => (value instanceof RawJson ? uint.encodingLength(Buffer.byteLength(value.text)) + Buffer.byteLength(value.text) : json.encodingLength(value)),
  encode(value, state) {
    if (!(value instanceof RawJson)) return json.encode(value, state);
    const length = Buffer.byteLength(value.text);
    uint.encode(length, state);
    state.offset += state.buffer.write(value.text, state.offset, 'utf8');
  },
  decode: (state) => json.decode(state),
};
