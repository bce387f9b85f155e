// A standalone set reads, writes and measures its deltas' entries with its
// own loops (lib/crdt/set-entries.ts), which must agree byte for byte and
// error for error with the map's own per-entry path: the same deltas go
// through both, then the same deltas with random bytes changed.
import test from 'tape';
import { decodeState, encode } from '../../lib/codec/index.js';
import { CausalContext, type Dot } from '../../lib/crdt/causal-context.js';
import { type Delta, contextOfStore, deltaCodec } from '../../lib/crdt/delta.js';
import { type DotMap, dotMap, dotMapOf } from '../../lib/crdt/dot-store.js';
import { type ElementDots, dotsOf, elementDots, packDot } from '../../lib/crdt/element-dots.js';
import { ElementKeys } from '../../lib/crdt/element-keys.js';
import { setWire } from '../../lib/crdt/set-entries.js';
import { ReplicationError } from '../../lib/errors.js';
import { Random } from '../../lib/random.js';

const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 0x7fffffff));
const keys = new ElementKeys();
// The map's own path (flat, as a standalone set reads) and the set's loops.
const plain = deltaCodec(dotMap(keys.codec, elementDots, { flatDecode: true }));
const looped = deltaCodec(dotMap(keys.codec, elementDots, setWire));

/** An element of some kind: mostly plain strings, and every other shape a key can take. */
function element(random: Random, i: number): unknown {
  switch (random.int(0, 9)) {
    case 0:
      return `with "quote" ${i}`;
    case 1:
      return `ünïcode ${i}`;
    case 2:
      return 'long '.repeat(random.int(6, 40)) + i;
    case 3:
      return { i };
    case 4:
      return i;
    case 5:
      return '';
    default:
      return `k${i}`;
  }
}

/** Replica ids: short ones (dots held as numbers) and one too long for the table (dots held as objects). */
const replicas = ['a', 'b', 'c', 'r'.repeat(70)];

function dot(random: Random, next: Map<string, number>): Dot {
  const replica = random.pick(replicas);
  // Mostly the next seq (a run), sometimes a jump (a multi-byte difference).
  const seq = (next.get(replica) ?? 0) + (random.chance(0.1) ? random.int(2, 1 << 20) : 1);
  next.set(replica, seq);
  return { replica, seq };
}

function delta(random: Random, size: number): Delta<DotMap<ElementDots>> {
  const next = new Map<string, number>();
  const entries: [string, ElementDots][] = [];
  const used = new Set<string>();
  for (let i = 0; i < size; i++) {
    const key = keys.keyOf(element(random, i));
    if (used.has(key)) continue;
    used.add(key);
    const count = random.chance(0.1) ? random.int(2, 3) : 1;
    const dots = Array.from({ length: count }, () => dot(random, next));
    entries.push([key, count === 1 ? packDot(dots[0].replica, dots[0].seq) : dots]);
  }
  const store = dotMapOf(elementDots, entries);
  return { store, context: contextOfStore(dotMap(keys.codec, elementDots), store) };
}

function decodeWith(codec: typeof plain, bytes: Buffer): string {
  const state = decodeState(bytes);
  try {
    const d = codec.decode(state);
    const flat = d.store.flat!;
    const entries = flat.keys.map((k, i) => [k, dotsOf(flat.values[i]).map((x) => `${x.seq}@${x.replica}`), flat.hashes?.[i]]);
    return JSON.stringify({ entries, dots: flat.dots, context: d.context.toJSON(), offset: state.offset });
  } catch (err) {
    if (!(err instanceof ReplicationError)) return `not coded: ${String(err)}`;
    return `${err.code}: ${err.message}`;
  }
}

test(`set entries: the loops read what the map's path reads, bad bytes included (seed ${seed}, replay with SEED=${seed})`, (t) => {
  const random = new Random(seed);
  let checked = 0;
  let refused = 0;
  for (let run = 0; run < 200; run++) {
    // Now and then longer than the runs the loop reads per call (64).
    const d = delta(random, random.chance(0.25) ? random.int(60, 200) : random.int(0, 40));
    const bytes = encode(plain, d);
    const same = decodeWith(plain, bytes) === decodeWith(looped, bytes);
    if (!same) {
      t.fail(`run ${run}: a good delta read differently`);
      break;
    }
    // The same delta with bytes changed, cut short or extended.
    for (let k = 0; k < 10; k++) {
      const bad = Buffer.from(bytes);
      for (let m = random.int(1, 3); m > 0; m--) bad[random.int(0, bad.length - 1)] = random.chance(0.5) ? random.int(0, 255) : random.pick([0, 1, 0x22, 0x5c, 0x7f, 0x80]);
      const cut = random.chance(0.2) ? bad.subarray(0, random.int(0, bad.length)) : bad;
      const a = decodeWith(plain, cut);
      const b = decodeWith(looped, cut);
      if (a !== b) {
        t.fail(`run ${run}: changed bytes read differently:\n  map: ${a}\n  set: ${b}`);
        return t.end();
      }
      checked++;
      if (a.startsWith('ERR_')) refused++;
    }
  }
  t.ok(checked > 0 && refused > 0 && refused < checked, `${checked} changed deltas read alike, ${refused} of them refused alike`);
  t.end();
});

test(`set entries: pieces are written and measured as the map's path writes them (seed ${seed})`, (t) => {
  const random = new Random(seed + 1);
  const plainKind = dotMap(keys.codec, elementDots);
  const setKind = dotMap(keys.codec, elementDots, setWire);
  for (let run = 0; run < 100; run++) {
    // Every tenth run one large piece: more than the 64 KiB a piece is first written into.
    const large = run % 10 === 0;
    const whole = delta(random, large ? 3000 : random.int(1, 300)).store;
    // A fresh peer (all of it) and one that has seen part (the per-entry path).
    const peer = random.chance(0.5) ? new CausalContext() : CausalContext.from([['a', [1, random.int(1, 50)]]]);
    const budget = large ? 1 << 20 : random.int(64, 4096);
    const expected = [...plainKind.missing(whole, peer, budget)].map((p) => ({ store: p, context: contextOfStore(plainKind, p) }));
    const got = [...setKind.missing(whole, peer, budget)].map((p) => ({ store: p, context: contextOfStore(setKind, p) }));
    t.equal(got.length, expected.length, `run ${run}: as many pieces`);
    for (let i = 0; i < got.length; i++) {
      const want = encode(plain, expected[i]);
      const bytes = encode(looped, got[i]);
      if (!want.equals(bytes)) {
        t.fail(`run ${run}, piece ${i}: different bytes`);
        return t.end();
      }
      // The size measured as the piece was gathered is its size, also with more replicas in its context (the last piece carries the removals).
      if (looped.encodingLength(got[i]) !== bytes.length) {
        t.fail(`run ${run}, piece ${i}: measured ${looped.encodingLength(got[i])}, written ${bytes.length}`);
        return t.end();
      }
      const wider = { store: got[i].store, context: got[i].context.clone() };
      wider.context.union(CausalContext.from([['zz', [1, 3]]]));
      if (looped.encodingLength(wider) !== encode(looped, wider).length) {
        t.fail(`run ${run}, piece ${i}: measured wrong with a wider context`);
        return t.end();
      }
    }
  }
  t.pass('every piece written alike and measured exactly');
  t.end();
});
