// Shared helpers of the CRDT tests: a replica's state in canonical form,
// delivery of deltas through the wire codec, joins of whole states, and
// the fast-check run count (NIGHTLY multiplies it).
import fc from 'fast-check';
import type { Test } from 'tape';
import { decode, encode } from '../../lib/codec/index.js';
import { HybridClock } from '../../lib/clock/index.js';
import type { DeltaReplica } from '../../lib/crdt/delta-replica.js';
import type { Delta } from '../../lib/crdt/delta.js';
import { DotMap } from '../../lib/crdt/dot-store.js';
import { type ElementDots, dotsOf } from '../../lib/crdt/element-dots.js';

export type AnyReplica = DeltaReplica<any, any>;

/** Runs per property: 200, times NIGHTLY if set (e.g. NIGHTLY=50). */
export const RUNS = 200 * Math.max(1, Number(process.env.NIGHTLY ?? 1) || 1);

/** fast-check parameters: the run count, and the seed from SEED when replaying. */
export function fcParams(): { numRuns: number; seed?: number } {
  return process.env.SEED ? { numRuns: RUNS, seed: Number(process.env.SEED) } : { numRuns: RUNS };
}

/** A clock whose physical time is a counter, so runs replay exactly. */
export function stepClock(): HybridClock {
  let t = 1_700_000_000_000;
  return new HybridClock({ now: () => t++ });
}

/**
 * The state in canonical form: the value, the causal context, and every
 * key's sorted dots (with dot values where there are any). Two replicas
 * with the same canonical form hold the same state.
 */
export function canonical(r: AnyReplica): string {
  // The dot count a store keeps as it changes (a set's) must be the count of its dots.
  if (r.storeKind.dotCount !== undefined) {
    let n = 0;
    r.storeKind.forEachDot(r.store, () => n++);
    if (r.storeKind.dotCount(r.store) !== n) throw new Error(`${r.id}: the store counts ${r.storeKind.dotCount(r.store)} dots, holds ${n}`);
  }
  const dots = (s: unknown): unknown => {
    if (s instanceof DotMap) return [...s.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, dots(v)]);
    if (s instanceof Map) return [...s.values()].map((e) => [`${e.seq}@${e.replica}`, e.value]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    // A set element's lone dot is held without an array, and as a number where it fits.
    const list = typeof s === 'number' || !Array.isArray(s) ? dotsOf(s as ElementDots) : s;
    return (list as { replica: string; seq: number }[]).map((d) => `${d.seq}@${d.replica}`).sort();
  };
  return JSON.stringify([r.value(), r.context.toJSON(), dots(r.store)]);
}

/** A delta as a peer receives it: encoded and decoded with the replica's message codec. */
export function wire<S>(r: DeltaReplica<S, any>, delta: Delta<S>): Delta<S> {
  const message = decode(r.messages, encode(r.messages, { type: 'delta', delta }));
  if (message.type !== 'delta') throw new Error('not a delta');
  return message.delta;
}

/** Delivers `delta` to `r` through the codec. */
export function deliver<S>(r: DeltaReplica<S, any>, delta: Delta<S>): void {
  r.receiveDelta(wire(r, delta));
}

/** A fresh replica holding the join of the given replicas' whole states. */
export function join<R extends AnyReplica>(make: (id: string) => R, ...states: AnyReplica[]): R {
  const out = make(`join-${joins++}`);
  for (const s of states) deliver(out, s.state());
  return out;
}
let joins = 0;

/** Records every local delta of `r`. */
export function record<R extends AnyReplica>(r: R, into: Delta<any>[]): R {
  r.tap = (delta) => into.push(delta);
  return r;
}

/** Checks a fast-check property as one tape assertion; a failure reports the seed and the shrunk counterexample. */
export function holds(t: Test, property: fc.IProperty<any>, message: string): void {
  const details = fc.check(property, fcParams());
  if (details.failed) t.fail(`${message}: ${fc.defaultReportMessage(details)}`);
  else t.pass(`${message} (${details.numRuns} runs, seed ${details.seed})`);
}
