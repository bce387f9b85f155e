import test from 'tape';
import { KeyMap } from '../../lib/crdt/key-map.js';
import { hashOf } from '../../lib/key-hash.js';
import { ElementKeys } from '../../lib/crdt/element-keys.js';
import { DEFAULT_LIMITS, encode, json } from '../../lib/codec/index.js';
import { testRandom } from '../helpers/seed.js';

test('key-map: random sets, adds, deletes and bulk inserts agree with a Map, in insertion order, and keep the weight of the values', (t) => {
  const random = testRandom('key-map model');
  const weigh = (v: number) => v % 7;
  const map = new KeyMap<number>(weigh);
  const model = new Map<string, number>();
  // A small key space, so keys come back after deletes and holes pile up to be compacted.
  const key = () => `k${random.int(0, 300)}`;
  // Disagreements are collected, so that a run prints one line, not one per step.
  const wrong: string[] = [];
  const check = (same: boolean, what: string) => {
    if (!same) wrong.push(what);
  };
  for (let step = 0; step < 20_000; step++) {
    const op = random.int(0, 9);
    if (op < 3) {
      const k = key();
      map.set(k, step);
      model.set(k, step);
    } else if (op < 6) {
      const k = key();
      check(map.delete(k) === model.delete(k), `step ${step}: delete ${k}`);
    } else if (op < 7) {
      const k = key();
      const added = map.add(k, step);
      check(added === !model.has(k), `step ${step}: add ${k}`);
      if (added) model.set(k, step);
    } else if (op < 8) {
      // Now and then longer than the runs a bulk insert takes per call (64).
      const keys = Array.from({ length: random.int(0, random.chance(0.2) ? 200 : 20) }, key);
      const values = keys.map((_, i) => step * 100 + i);
      // Half the time with the values' weight given (as a delta's dot count), which the map must then not count twice or count past a stop.
      const given = random.chance(0.5) ? values.reduce((sum, v) => sum + weigh(v), 0) : undefined;
      const stop = map.insertAbsent(keys, values, 0, undefined, given);
      // The model: taken in order while absent (a key named twice stops at its second mention).
      let expected = 0;
      while (expected < keys.length && !model.has(keys[expected])) {
        model.set(keys[expected], values[expected]);
        expected++;
      }
      check(stop === expected, `step ${step}: bulk insert stops at the first key held`);
    } else {
      const k = key();
      check(map.get(k) === model.get(k) && map.has(k) === model.has(k), `step ${step}: get ${k}`);
    }
    if (step % 1000 === 0 || step === 19_999) {
      check(map.size === model.size && JSON.stringify([...map]) === JSON.stringify([...model]), `step ${step}: entries in insertion order`);
      let weight = 0;
      for (const v of model.values()) weight += weigh(v);
      check(map.weight === weight, `step ${step}: weight ${map.weight}, the values weigh ${weight}`);
    }
  }
  t.deepEqual(wrong, [], 'every step agrees with the Map');
  t.deepEqual([...map.keys()], [...model.keys()], 'keys');
  t.deepEqual([...map.values()], [...model.values()], 'values');
  map.clear();
  t.equal(map.size, 0, 'cleared');
  t.equal(map.weight, 0, 'weighs nothing');
  t.equal(new KeyMap<number>().weight, undefined, 'no weight without a weigh');
  t.equal(map.get('k1'), undefined, 'nothing left');
  t.end();
});

test('key-map: forEach sees what a Map would when the map changes under it', (t) => {
  const map = new KeyMap<number>();
  for (let i = 0; i < 100; i++) map.set(`k${i}`, i);
  for (let i = 0; i < 90; i++) map.delete(`k${i}`); // holes: the next inserts would compact, but not during a forEach
  const seen: string[] = [];
  map.forEach((_v, k) => {
    seen.push(k);
    if (k === 'k90') map.delete('k95');
    if (k === 'k91') for (let i = 0; i < 50; i++) map.set(`n${i}`, i);
  });
  const expected = ['k90', 'k91', 'k92', 'k93', 'k94', 'k96', 'k97', 'k98', 'k99', ...Array.from({ length: 50 }, (_, i) => `n${i}`)];
  t.deepEqual(seen, expected, 'deleted skipped, added visited, order kept');
  t.equal(map.size, 59, 'size');
  map.set('later', 1); // compacts now
  t.deepEqual([...map.keys()], [...expected, 'later'], 'order kept through a compaction');
  const iterator = map.keys();
  iterator.next();
  for (let i = 0; i < 50; i++) map.delete(`n${i}`);
  for (let i = 0; i < 100; i++) map.set(`m${i}`, i); // compacts
  t.throws(() => [...iterator], /compacted during iteration/, 'an iterator that would skip or repeat entries throws');
  t.end();
});

test('key-map: keys whose hashes collide in the index still work (linear probing, deleted entries probed past)', (t) => {
  // Keys picked to share their low 6 bits: with a 64-entry index they all land in one run.
  const keys: string[] = [];
  for (let i = 0; keys.length < 20; i++) if ((hashOf(`c${i}`) & 63) === 5) keys.push(`c${i}`);
  const map = new KeyMap<number>();
  keys.forEach((k, i) => map.set(k, i));
  for (let i = 0; i < keys.length; i += 2) map.delete(keys[i]);
  keys.forEach((k, i) => t.equal(map.get(k), i % 2 ? i : undefined, `${k}`));
  t.equal(map.insertAbsent(keys, keys.map(() => -1)), keys.length > 1 ? 1 : 0, 'bulk insert takes the deleted first key, stops at the held second');
  t.equal(map.get(keys[0]), -1, 'reinserted');
  t.end();
});

test('key-map: the hash a set key gets as it is decoded is the hash of the key it decodes to', (t) => {
  const random = testRandom('key-map decoded hashes');
  const keys = new ElementKeys();
  const values: unknown[] = ['', 'a', 'k123', 'with "quote"', 'back\\slash', 'tab\t', 'é', '😀', 'x'.repeat(126), 'x'.repeat(200), 7, null, { a: 1 }];
  for (let i = 0; i < 200; i++) values.push(String.fromCharCode(...Array.from({ length: random.int(0, 40) }, () => random.int(0x20, 0x7e))));
  const wrong: string[] = [];
  for (const value of values) {
    const bytes = encode(json, value);
    const hashes = new Int32Array(1);
    const key = keys.codec.decodeHashed({ buffer: bytes, offset: 0, end: bytes.length, depth: 0, limits: DEFAULT_LIMITS }, hashes, 0);
    if (key !== keys.keyOf(value) || hashes[0] !== hashOf(key)) wrong.push(JSON.stringify(value));
  }
  t.deepEqual(wrong, [], `${values.length} values: each decoded key is the value's key, with its hash`);
  t.end();
});

test('key-map: lends its columns only while they have no holes', (t) => {
  const map = new KeyMap<number>();
  for (let i = 0; i < 5; i++) map.set(`k${i}`, i);
  t.deepEqual(map.denseColumns(), [['k0', 'k1', 'k2', 'k3', 'k4'], [0, 1, 2, 3, 4]], 'keys and values in order');
  map.delete('k2');
  t.equal(map.denseColumns(), undefined, 'not with a hole');
  const keys: string[] = [];
  const values: number[] = [];
  t.equal(map.copyInto(keys, values), 4, 'copied past the hole');
  t.deepEqual([keys, values], [['k0', 'k1', 'k3', 'k4'], [0, 1, 3, 4]], 'copies in order');
  map.clear();
  t.deepEqual(map.denseColumns(), [[], []], 'empty');
  t.end();
});
