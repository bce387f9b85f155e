// The hybrid logical clock: monotonic timestamps under any interleaving of
// local events, remote timestamps and a misbehaving wall clock; the skew
// guard; the total order of stamps; restore after a restart.
import fc from 'fast-check';
import test from 'tape';
import { COUNTER_BITS, DEFAULT_MAX_DRIFT_MS, HybridClock, compareStamps, counter, fromWallTime, wallTime } from '../../lib/clock/index.js';
import { checkProperty, propertySeed } from '../helpers/property.js';
import { codeOf } from '../helpers/error-code.js';

const seed = propertySeed(0xc10c);

const START_MS = 1_700_000_000_000; // a wall-clock reading in 2023
const MAX_DRIFT = 60_000;
const issued = new Float64Array(2); // where the twin's stampInto writes

/** A wall clock the test moves by hand: forwards, backwards, or not at all. */
class ManualTime {
  constructor(public ms = START_MS) {}
  readonly read = () => this.ms;
}


// One step of a run. Remote timestamps are placed relative to our wall clock
// (to probe the drift bound) or to our last timestamp (to probe ties).
type Step =
  | { kind: 'advance'; ms: number }
  | { kind: 'local'; times: number }
  | { kind: 'remote'; aheadMs: number; counter: number }
  | { kind: 'near-last'; delta: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('advance' as const),
    ms: fc.oneof(
      fc.constant(0), // standing still
      fc.integer({ min: -5, max: 5 }),
      fc.integer({ min: -200_000, max: 200_000 }), // jumps either way, past maxDrift
      fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), // days
      fc.double({ min: -10, max: 10, noNaN: true }), // a fractional time source
    ),
  }),
  fc.record({ kind: fc.constant('local' as const), times: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1500 })) }),
  fc.record({
    kind: fc.constant('remote' as const),
    aheadMs: fc.oneof(fc.integer({ min: -1_000_000, max: 2 * MAX_DRIFT }), fc.constantFrom(MAX_DRIFT - 1, MAX_DRIFT, MAX_DRIFT + 1)),
    counter: fc.integer({ min: 0, max: 2 ** COUNTER_BITS - 1 }),
  }),
  fc.record({ kind: fc.constant('near-last' as const), delta: fc.integer({ min: -3, max: 3 }) }),
);

interface Outcome {
  ok: boolean;
  problem?: string;
}

/**
 * Runs the steps against a clock and a twin that never sees the refused
 * remote timestamps, checking after every step that:
 * - every local timestamp is a safe integer above every timestamp issued or
 *   accepted before, and not behind the wall clock;
 * - a remote timestamp is refused with ERR_CLOCK_SKEW exactly when it is more
 *   than maxDrift ahead of the wall clock, and a refusal changes nothing (the
 *   twin stays identical).
 */
function run(steps: Step[]): Outcome {
  const time = new ManualTime();
  const clock = new HybridClock({ now: time.read, maxDrift: MAX_DRIFT });
  const twin = new HybridClock({ now: time.read, maxDrift: MAX_DRIFT });
  let highest = 0;
  const fail = (problem: string): Outcome => ({ ok: false, problem });
  for (const s of steps) {
    if (s.kind === 'advance') {
      time.ms = Math.max(0, time.ms + s.ms);
    } else if (s.kind === 'local') {
      for (let i = 0; i < s.times; i++) {
        const ts = clock.now();
        // The twin issues every other timestamp through stampInto, which must give what now() gives.
        const twinTs = i % 2 === 0 ? twin.now() : (twin.stampInto(issued, 1), issued[1]);
        if (twinTs !== ts) return fail('the twin issued a different timestamp');
        if (!Number.isSafeInteger(ts)) return fail(`not a safe integer: ${ts}`);
        if (ts <= highest) return fail(`timestamp ${ts} not above ${highest}`);
        if (wallTime(ts) < Math.floor(time.ms)) return fail(`timestamp ${ts} behind the wall clock ${time.ms}`);
        highest = ts;
      }
    } else {
      const remote =
        s.kind === 'remote'
          ? Math.max(0, fromWallTime(time.ms + s.aheadMs) + s.counter)
          : Math.max(0, clock.last + s.delta);
      const tooFar = wallTime(remote) - time.ms > MAX_DRIFT;
      const before = clock.last;
      const code = codeOf(() => clock.receive(remote));
      if (tooFar) {
        if (code !== 'ERR_CLOCK_SKEW') return fail(`remote ${remote} (${wallTime(remote) - time.ms} ms ahead) gave ${code}, not ERR_CLOCK_SKEW`);
        if (clock.last !== before) return fail('a refused timestamp moved last');
      } else {
        if (code !== undefined) return fail(`remote ${remote} (${wallTime(remote) - time.ms} ms ahead) refused with ${code}`);
        twin.receive(remote);
        highest = Math.max(highest, remote);
      }
    }
    if (clock.last !== highest) return fail(`last is ${clock.last}, expected ${highest}`);
    if (twin.last !== clock.last) return fail('the twin drifted from the clock');
  }
  return { ok: true };
}

test('property: strictly monotonic under any interleaving, refusals change nothing', (t) => {
  let problem: string | undefined;
  checkProperty(
    t,
    'local events, remote timestamps, a wall clock that jumps and stands still',
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      const outcome = run(steps);
      problem = outcome.problem;
      return outcome.ok;
    }),
    { seed, numRuns: 500 },
  );
  if (problem) t.comment(`last problem seen: ${problem}`);
  t.end();
});

test('property: a timestamp beyond maxDrift is refused and changes nothing', (t) => {
  checkProperty(
    t,
    'receive throws ERR_CLOCK_SKEW; last and the next now() are as if it never came',
    fc.property(
      fc.array(step, { maxLength: 20 }),
      fc.integer({ min: MAX_DRIFT + 1, max: MAX_DRIFT + 10 ** 9 }),
      fc.integer({ min: 0, max: 2 ** COUNTER_BITS - 1 }),
      (history, aheadMs, count) => {
        const time = new ManualTime();
        const clock = new HybridClock({ now: time.read, maxDrift: MAX_DRIFT });
        const twin = new HybridClock({ now: time.read, maxDrift: MAX_DRIFT });
        for (const s of history) {
          if (s.kind === 'advance') time.ms = Math.max(0, time.ms + s.ms);
          else if (s.kind === 'local') for (let i = 0; i < Math.min(s.times, 5); i++) (clock.now(), twin.now());
          else {
            const remote = Math.max(0, s.kind === 'remote' ? fromWallTime(time.ms + s.aheadMs) + s.counter : clock.last + s.delta);
            if (codeOf(() => clock.receive(remote)) === undefined) twin.receive(remote);
          }
        }
        const last = clock.last;
        const remote = fromWallTime(time.ms + aheadMs) + count;
        return codeOf(() => clock.receive(remote)) === 'ERR_CLOCK_SKEW' && clock.last === last && clock.now() === twin.now();
      },
    ),
    { seed, numRuns: 300 },
  );
  t.end();
});

test('property: timestamps at and just under the bound are accepted', (t) => {
  checkProperty(
    t,
    'maxDrift ahead (any counter) or less is accepted, and the next now() orders after it',
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** COUNTER_BITS - 1 }), fc.integer({ min: -1_000_000, max: 1_000_000 }), (under, count, shift) => {
      const time = new ManualTime(START_MS + shift);
      const clock = new HybridClock({ now: time.read, maxDrift: MAX_DRIFT });
      const remote = fromWallTime(time.ms + MAX_DRIFT - under) + count;
      if (codeOf(() => clock.receive(remote)) !== undefined) return false;
      return clock.last === remote && clock.now() > remote;
    }),
    { seed, numRuns: 300 },
  );
  t.end();
});

test('drift bound: fixed cases', (t) => {
  const time = new ManualTime();
  const clock = new HybridClock({ now: time.read });
  t.equal(clock.maxDrift, DEFAULT_MAX_DRIFT_MS, 'maxDrift defaults to DEFAULT_MAX_DRIFT_MS');
  t.equal(DEFAULT_MAX_DRIFT_MS, 60_000, 'which is 60 s');
  t.equal(codeOf(() => clock.receive(fromWallTime(START_MS + 60_000) + 1023)), undefined, 'exactly 60 s ahead (top of the counter) is accepted');
  t.equal(codeOf(() => clock.receive(fromWallTime(START_MS + 60_001))), 'ERR_CLOCK_SKEW', '60.001 s ahead is refused');
  t.equal(clock.last, fromWallTime(START_MS + 60_000) + 1023, 'last is the accepted timestamp');
  t.equal(codeOf(() => clock.check(fromWallTime(START_MS + 60_001))), 'ERR_CLOCK_SKEW', 'check() applies the same bound without receiving');
  t.equal(codeOf(() => clock.receive(0)), undefined, 'a timestamp from long ago is accepted');
  t.equal(clock.last, fromWallTime(START_MS + 60_000) + 1023, 'and does not move last back');

  const strict = new HybridClock({ now: time.read, maxDrift: 0 });
  t.equal(codeOf(() => strict.receive(fromWallTime(START_MS))), undefined, 'maxDrift 0: a timestamp at our wall time is accepted');
  t.equal(codeOf(() => strict.receive(fromWallTime(START_MS + 1))), 'ERR_CLOCK_SKEW', 'maxDrift 0: 1 ms ahead is refused');

  for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
    t.equal(codeOf(() => clock.receive(bad)), 'ERR_INVALID_ARGUMENT', `receive(${bad}) is ERR_INVALID_ARGUMENT`);
  }
  t.equal(clock.last, fromWallTime(START_MS + 60_000) + 1023, 'invalid timestamps changed nothing');
  t.end();
});

test('a wall clock that stands still, then jumps backwards', (t) => {
  const time = new ManualTime();
  const clock = new HybridClock({ now: time.read });
  const a = clock.now();
  const b = clock.now();
  t.equal(a, fromWallTime(START_MS), 'the first stamp is the wall time with counter 0');
  t.equal(b, a + 1, 'standing still: the counter counts');
  time.ms -= 3_600_000;
  const c = clock.now();
  t.equal(c, b + 1, 'an hour back: still after the last stamp');
  time.ms = START_MS + 5;
  t.equal(clock.now(), fromWallTime(START_MS + 5), 'once the wall clock passes the last stamp, it leads again');
  t.end();
});

test('counter overflow: more than 1,024 events in one millisecond', (t) => {
  const time = new ManualTime();
  const clock = new HybridClock({ now: time.read });
  const stamps = Array.from({ length: 5000 }, () => clock.now());
  t.ok(stamps.every((ts, i) => i === 0 || ts === stamps[i - 1] + 1), '5,000 stamps in one ms, each one above the last');
  t.equal(counter(stamps[1023]), 1023, 'the 1,024th stamp uses the last counter value');
  t.equal(wallTime(stamps[1024]), START_MS + 1, 'the 1,025th carries into the wall part');
  t.equal(counter(stamps[1024]), 0, 'with the counter back at 0');
  time.ms += 1;
  t.ok(clock.now() > stamps[4999], 'the wall clock catching up by 1 ms does not go back');
  time.ms += 10;
  t.equal(clock.now(), fromWallTime(START_MS + 11), 'once it passes the carried stamps, the wall time leads again');
  t.end();
});

test('property: compareStamps is a total order', (t) => {
  const ids = fc.constantFrom('', 'a', 'b', 'ab', 'B', 'é', 'replica-1', 'replica-10', 'replica-2');
  const stamp = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.maxSafeNat()), ids);
  const cmp = ([t1, id1]: [number, string], [t2, id2]: [number, string]) => compareStamps(t1, id1, t2, id2);
  checkProperty(t, 'reflexive: a stamp equals itself', fc.property(stamp, (a) => cmp(a, a) === 0), { seed, numRuns: 200 });
  checkProperty(t, 'antisymmetric: cmp(a, b) === -cmp(b, a)', fc.property(stamp, stamp, (a, b) => cmp(a, b) === -cmp(b, a) && [-1, 0, 1].includes(cmp(a, b))), { seed, numRuns: 500 });
  checkProperty(t, 'equal only when timestamp and id are equal', fc.property(stamp, stamp, (a, b) => (cmp(a, b) === 0) === (a[0] === b[0] && a[1] === b[1])), { seed, numRuns: 500 });
  checkProperty(
    t,
    'transitive: a <= b and b <= c give a <= c',
    fc.property(stamp, stamp, stamp, (a, b, c) => !(cmp(a, b) <= 0 && cmp(b, c) <= 0) || cmp(a, c) <= 0),
    { seed, numRuns: 1000 },
  );
  checkProperty(t, 'the timestamp decides first', fc.property(stamp, stamp, (a, b) => a[0] === b[0] || cmp(a, b) === Math.sign(a[0] - b[0])), { seed, numRuns: 500 });
  checkProperty(
    t,
    'every replica sorts the same stamps into the same order',
    fc.property(fc.array(stamp, { maxLength: 30 }), fc.integer(), (stamps, shuffleSeed) => {
      const shuffled = [...stamps].sort((x, y) => (((x[0] * 31 + x[1].length) ^ shuffleSeed) & 7) - (((y[0] * 31 + y[1].length) ^ shuffleSeed) & 7));
      return JSON.stringify([...stamps].sort(cmp)) === JSON.stringify(shuffled.sort(cmp));
    }),
    { seed, numRuns: 300 },
  );
  t.equal(compareStamps(5, 'b', 5, 'a'), 1, 'a tie goes to the greater id');
  t.equal(compareStamps(5, 'z', 6, 'a'), -1, 'the timestamp beats the id');
  t.end();
});

test('restore: never reissue a timestamp after a restart', (t) => {
  const time = new ManualTime();
  const before = new HybridClock({ now: time.read });
  const issued = Array.from({ length: 2000 }, () => before.now()); // runs ahead of the wall clock
  time.ms -= 10_000; // and the machine comes back with its clock set back
  const after = new HybridClock({ now: time.read });
  after.restore(before.last);
  t.equal(after.last, before.last, 'last is restored');
  t.ok(after.now() > issued[issued.length - 1], 'the first stamp after restore is above every stamp issued before');

  const ahead = after.last;
  after.restore(fromWallTime(START_MS - 3_600_000));
  t.equal(after.last, ahead, 'restoring an older timestamp does not move the clock back');

  for (const bad of [-1, 0.5, Number.NaN, Infinity, -Infinity, 2 ** 53]) {
    t.equal(codeOf(() => after.restore(bad)), 'ERR_INVALID_ARGUMENT', `restore(${bad}) is ERR_INVALID_ARGUMENT`);
  }
  t.equal(after.last, ahead, 'invalid restores changed nothing');
  const next = after.now();
  t.ok(Number.isSafeInteger(next) && next > ahead, 'and the clock still counts up');
  t.end();
});

test('property: restore then now() is above the restored timestamp', (t) => {
  checkProperty(
    t,
    'now() > restored, whatever the wall clock says',
    fc.property(fc.integer({ min: 0, max: 2 ** 42 }).map((ms) => fromWallTime(ms)), fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 2 ** 42 }), (base, count, wallMs) => {
      const clock = new HybridClock({ now: () => wallMs });
      clock.restore(base + count);
      return clock.now() > base + count;
    }),
    { seed, numRuns: 300 },
  );
  t.end();
});

test('timestamp packing', (t) => {
  t.equal(COUNTER_BITS, 10, '10 counter bits: 1,024 events per ms');
  t.equal(fromWallTime(START_MS), START_MS * 1024, 'wall ms times 1,024');
  t.equal(fromWallTime(1.9), 1024, 'fractional ms are floored');
  t.equal(wallTime(START_MS * 1024 + 1023), START_MS, 'wallTime drops the counter');
  t.equal(counter(START_MS * 1024 + 1023), 1023, 'counter is the low 10 bits');
  t.ok(Number.isSafeInteger(fromWallTime(Date.UTC(2248, 0, 1))), 'a timestamp in 2248 is still a safe integer');
  checkProperty(
    t,
    'packing keeps order: (wall, counter) pairs compare like their stamps',
    fc.property(fc.integer({ min: 0, max: 2 ** 43 - 1 }), fc.integer({ min: 0, max: 1023 }), (ms, c) => {
      const ts = fromWallTime(ms) + c;
      return wallTime(ts) === ms && counter(ts) === c && Number.isSafeInteger(ts);
    }),
    { seed, numRuns: 300 },
  );
  t.end();
});
