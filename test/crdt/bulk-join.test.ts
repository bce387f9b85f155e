// A catch-up into a replica that lacks it all is joined in bulk (see
// KeyMap#insertAbsent); with a 'change' listener attached, the same delta
// goes key by key. Both paths must refuse the same bad input, with the same
// code, and leave the replica as it was.
import test from 'tape';
import { GSet, ORSet } from '../../lib/index.js';
import { decode, encode } from '../../lib/codec/index.js';
import { CausalContext } from '../../lib/crdt/causal-context.js';
import { contextOfStore } from '../../lib/crdt/delta.js';
import { KeyMap } from '../../lib/crdt/key-map.js';
import { codeOf } from '../helpers/error-code.js';
import { canonical, deliver } from './harness.js';

type SetReplica = ORSet | GSet;

/** Counts the bulk joins made while `fn` runs. */
function bulkJoins(fn: () => void): number {
  const original = KeyMap.prototype.insertAbsent;
  let calls = 0;
  KeyMap.prototype.insertAbsent = function (this: KeyMap<unknown>, ...args: Parameters<typeof original>) {
    calls++;
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    KeyMap.prototype.insertAbsent = original;
  }
  return calls;
}

/** Decodes `bytes` as `b` would read them from a peer and joins them: the code of the error, or undefined. */
function receive(b: SetReplica, bytes: Buffer): string | undefined {
  return codeOf(() => {
    const message = decode(b.messages, bytes);
    if (message.type !== 'delta') throw new Error('not a delta');
    b.receiveDelta(message.delta);
  });
}

for (const [kind, make] of [
  ['orset', (id: string) => new ORSet({ id })],
  ['gset', (id: string) => new GSet({ id })],
] as const) {
  test(`${kind}: the bulk join and the key-by-key join refuse the same bad deltas, and change nothing`, (t) => {
    const a = make('a');
    for (const v of ['kept', 'x', 'y', 'z', 'w']) a.add(v);
    const entries = a.store.entries;
    const key = (v: string) => [...entries.keys()].find((k) => k.includes(v))!;
    const dot = (v: string) => entries.get(key(v))!;
    // A forged flat delta; its context is the dots it names unless given.
    const flat = (keys: string[], values: string[], context?: CausalContext) => {
      const store = a.storeKind.empty();
      store.flat = { keys: keys.map(key), values: values.map(dot), distinct: true };
      const ctx = context ?? contextOfStore(a.storeKind, store);
      return encode(a.messages, { type: 'delta', delta: { store, context: ctx } });
    };
    const bad: [string, Buffer, string][] = [
      ['a new key named twice', flat(['x', 'y', 'z', 'z'], ['x', 'y', 'z', 'w']), 'ERR_DECODE'],
      ['a held key named twice', flat(['kept', 'x', 'kept'], ['kept', 'x', 'y']), 'ERR_DECODE'],
      ['a held key named twice, after new ones', flat(['x', 'kept', 'y', 'kept'], ['x', 'kept', 'y', 'z']), 'ERR_DECODE'],
      ['a dot named twice', flat(['x', 'y'], ['x', 'x']), 'ERR_DECODE'],
      ['a dot outside the context', flat(['x', 'y'], ['z', 'w'], CausalContext.from([['a', [1, 3]]])), 'ERR_DECODE'],
      ['our own events claimed', flat(['x'], ['x'], CausalContext.from([['a', [2, 2]], ['b', [1, 9]]])), 'ERR_INTEGRITY'],
    ];
    if (kind === 'gset') bad.push(['a grow-only delta that removes', flat(['x'], ['x'], a.context.clone()), 'ERR_INTEGRITY']);
    for (const [name, bytes, code] of bad) {
      // Two replicas of the same id and state: b is quiet, so a delta that
      // shares no dot with what it has seen is joined in bulk; c is listened
      // to, so the same delta goes key by key. Each holds 'kept' (its own add).
      const [b, c] = [make('b'), make('b')];
      let changes = 0;
      for (const r of [b, c]) r.add('kept');
      c.on('change', () => changes++);
      const [beforeB, beforeC] = [canonical(b), canonical(c)];
      let codeB: string | undefined;
      const bulk = bulkJoins(() => (codeB = receive(b, bytes)));
      const codeC = receive(c, bytes);
      t.equal(codeB, code, `${name}: refused in bulk (${code})`);
      t.equal(codeC, code, `${name}: refused key by key (${code})`);
      t.equal(canonical(b), beforeB, `${name}: bulk: nothing changed`);
      t.equal(canonical(c), beforeC, `${name}: key by key: nothing changed`);
      t.equal(changes, 0, `${name}: no change event`);
      if (name.includes('named twice') && !name.startsWith('a dot')) t.ok(bulk > 0, `${name}: the bulk path was taken`);
      // Both still take a valid delta, and end alike.
      deliver(b, a.state());
      deliver(c, a.state());
      t.deepEqual(b.value(), c.value(), `${name}: both join the whole state afterwards`);
    }
    t.end();
  });
}
