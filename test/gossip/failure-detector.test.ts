import test from 'tape';
import { PhiAccrualDetector, log10Erfc, phiOfNormal } from '../../lib/gossip/failure-detector.js';

/** P(X > x) for X ~ N(mean, sd), by Simpson's rule over the tail: an independent reference. */
function tail(x: number, mean: number, sd: number): number {
  const pdf = (t: number) => Math.exp(-0.5 * ((t - mean) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
  const end = mean + 40 * sd;
  if (x >= end) return 0;
  const steps = 200_000;
  const h = (end - x) / steps;
  let sum = pdf(x) + pdf(end);
  for (let i = 1; i < steps; i++) sum += pdf(x + i * h) * (i % 2 === 1 ? 4 : 2);
  return (sum * h) / 3;
}

test('log10 erfc matches known values', (t) => {
  // erfc(0) = 1, erfc(1) = 0.157299207, erfc(3) = 2.20904970e-5, erfc(-1) = 1.842700793
  t.ok(Math.abs(log10Erfc(0)) < 1e-6);
  t.ok(Math.abs(10 ** log10Erfc(1) - 0.157299207) < 1e-7);
  t.ok(Math.abs(10 ** log10Erfc(3) / 2.2090497e-5 - 1) < 1e-6);
  t.ok(Math.abs(10 ** log10Erfc(-1) - 1.842700793) < 1e-7);
  t.ok(Number.isFinite(log10Erfc(60)), 'finite far into the tail');
  t.end();
});

test('phi of a known inter-arrival series against the formula', (t) => {
  const options = { acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 1, firstHeartbeatEstimateMs: 1000, maxSampleIntervalMs: Infinity };
  const detector = new PhiAccrualDetector(options);
  const intervals = [1000, 1100, 900, 1050, 950, 1200, 800, 1000];
  let now = 0;
  detector.heartbeat(now);
  for (const interval of intervals) detector.heartbeat((now += interval));
  // The window holds the two seed samples (estimate -/+ estimate/4) and the intervals.
  const samples = [750, 1250, ...intervals];
  const mean = samples.reduce((a, b) => a + b) / samples.length;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
  t.ok(Math.abs(detector.mean - mean) < 1e-9, `mean ${mean}`);
  t.ok(Math.abs(detector.standardDeviation - sd) < 1e-9, `sd ${sd.toFixed(3)}`);
  for (const elapsed of [0, 500, 1000, 1200, 1500, 2000, 2500]) {
    const expected = -Math.log10(tail(elapsed, mean, sd));
    const phi = detector.phi(now + elapsed);
    t.ok(Math.abs(phi - expected) < 1e-4 * Math.max(1, expected), `phi(${elapsed}) = ${phi.toFixed(5)}, formula ${expected.toFixed(5)}`);
  }
  t.end();
});

test('phi: the minimum standard deviation and the acceptable pause', (t) => {
  const regular = (options: ConstructorParameters<typeof PhiAccrualDetector>[0]) => {
    const d = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 1000, ...options });
    for (let i = 0; i <= 200; i++) d.heartbeat(i * 1000);
    return d;
  };
  const floor = regular({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 100 });
  // Nearly zero jitter: phi follows the 100 ms floor, not the measured spread.
  const expected = phiOfNormal(1300, floor.mean, 100);
  t.ok(Math.abs(floor.phi(200_000 + 1300) - expected) < 1e-9, 'floor applies');
  const paused = regular({ acceptableHeartbeatPauseMs: 3000, minStdDeviationMs: 100 });
  t.ok(paused.phi(200_000 + 3500) < 1, 'within the acceptable pause: low phi');
  t.ok(paused.phi(200_000 + 5000) > 8, 'beyond it: above the threshold');
  t.ok(paused.isAvailable(200_000 + 3900) && !paused.isAvailable(200_000 + 5000));
  t.end();
});

test('phi: an outage is not a sample', (t) => {
  const d = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 1000, acceptableHeartbeatPauseMs: 3000 });
  for (let i = 0; i <= 20; i++) d.heartbeat(i * 1000);
  const before = [d.mean, d.standardDeviation];
  d.heartbeat(20_000 + 30_000); // back after 30 s: longer than estimate + acceptable pause
  t.deepEqual([d.mean, d.standardDeviation], before, 'the 30 s gap is not recorded');
  t.end();
});

test('phi: the window is bounded and forgets old intervals', (t) => {
  const d = new PhiAccrualDetector({ maxSampleSize: 10, firstHeartbeatEstimateMs: 1000, maxSampleIntervalMs: Infinity });
  let now = 0;
  d.heartbeat(now);
  for (let i = 0; i < 50; i++) d.heartbeat((now += 5000));
  t.equal(d.mean, 5000, 'only the last 10 intervals count');
  t.equal(d.standardDeviation, 0);
  d.restartSilence(now + 60_000);
  t.equal(d.phi(now + 60_000), 0, 'a restarted silence starts from zero');
  t.equal(d.mean, 5000, 'and adds no interval');
  t.end();
});

test('phi: a relayed heartbeat that skips versions records the time per version', (t) => {
  const d = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 1000, maxSampleIntervalMs: Infinity, maxSampleSize: 4 });
  d.heartbeat(0);
  d.heartbeat(3000, 3); // three heartbeats at once, 3 s after the last: 1 s each
  d.heartbeat(3500, 1);
  d.heartbeat(3500, 0); // nothing new: ignored
  d.heartbeat(5500, 2);
  t.equal(d.mean, (1250 + 1000 + 500 + 1000) / 4, 'window: the second seed sample, then 1000, 500, 1000');
  t.end();
});

test('phi: by default, a silence the detector would have convicted on is not a sample', (t) => {
  const d = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 1000, acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 100 });
  for (let i = 0; i <= 20; i++) d.heartbeat(i * 1000);
  const before = d.mean;
  d.heartbeat(20_000 + 1200); // late, but phi was still under 8: a sample
  t.notEqual(d.mean, before, 'a late heartbeat below the threshold is recorded');
  const after = d.mean;
  t.ok(!d.isAvailable(21_200 + 5000), 'five seconds on, phi is past 8');
  d.heartbeat(21_200 + 5000);
  t.equal(d.mean, after, 'the outage is not recorded');
  t.end();
});
