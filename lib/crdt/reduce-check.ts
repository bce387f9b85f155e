import { Random } from '../random.js';
import { type ValueEncoding, encode, json } from '../codec/index.js';
import type { Reducer } from './reduce.js';

export interface CheckReducerOptions<I> {
  /** Makes one random update from a random source (floats in [0, 1)). Default: integers in [-1000, 1000]. */
  generate?: (random: () => number) => I;
  /** Random cases per law. Default 200. */
  runs?: number;
  /** Seed of the random source; the report says which seed was used. Default 1. */
  seed?: number;
  /** Values are equal when they encode to the same bytes. Default `json`. */
  valueEncoding?: ValueEncoding<any>;
}

export type Law = 'commutative' | 'associative' | 'idempotent';

export interface CheckReport<V> {
  ok: boolean;
  seed: number;
  runs: number;
  /** The first counterexample of each law that failed, with the mapped values it used. */
  failures: { law: Law; values: V[] }[];
}

/**
 * Tests a reducer on random inputs: for mapped values a, b, c it checks
 * reduce(a, b) = reduce(b, a), reduce(reduce(a, b), c) = reduce(a,
 * reduce(b, c)) and reduce(a, a) = a, comparing encoded bytes. Passing is
 * evidence, not proof; failing is proof, with a counterexample.
 */
export function checkReducer<I, V>(reducer: Reducer<I, V>, options: CheckReducerOptions<I> = {}): CheckReport<V> {
  const seed = options.seed ?? 1;
  const runs = options.runs ?? 200;
  const encoding = options.valueEncoding ?? json;
  const source = new Random(seed);
  const random = () => source.float();
  const generate = options.generate ?? ((r: () => number) => (Math.floor(r() * 2001) - 1000) as unknown as I);
  const value = () => (reducer.map ? reducer.map(generate(random)) : (generate(random) as unknown as V));
  const same = (a: V, b: V) => {
    try {
      return encode(encoding, a).equals(encode(encoding, b));
    } catch {
      return false;
    }
  };
  const { reduce } = reducer;
  const failures: { law: Law; values: V[] }[] = [];
  const failed = new Set<Law>();
  const fail = (law: Law, values: V[]) => {
    if (failed.has(law)) return;
    failed.add(law);
    failures.push({ law, values });
  };
  for (let i = 0; i < runs; i++) {
    const a = value();
    const b = value();
    const c = value();
    if (!same(reduce(a, b), reduce(b, a))) fail('commutative', [a, b]);
    if (!same(reduce(reduce(a, b), c), reduce(a, reduce(b, c)))) fail('associative', [a, b, c]);
    if (!same(reduce(a, a), a)) fail('idempotent', [a]);
  }
  return { ok: failures.length === 0, seed, runs, failures };
}
