import test from 'tape';
import { dynamo, runDynamo } from '../../bin/sim/scenarios/dynamo.js';

test('dynamo goal: zero acknowledged writes lost over 200 seeds with random crashes; replicas converge after the last fault', async (t) => {
  const result = await dynamo.run({ seed: 1, duration: 20_000, extra: { seeds: '200' } });
  const r = result.report as Record<string, any>;
  t.equal(r.lostAckedWrites, 0, `0 of ${r.acked} acknowledged writes lost`);
  t.deepEqual(r.notConverged, [], 'every run converged (N identical replicas per key, no hints left) within 30 s of the last fault');
  t.equal(r.staleWithoutFault, 0, 'N3 R2 W2: no stale read without a fault between the write and the read');
  t.ok(r.availability > 0.9, `availability ${r.availability}`);
  t.ok(result.report.goals.every((g) => g.met), 'every goal met');
  t.end();
});

test('dynamo: partitions and loss too: still nothing acknowledged is lost, and the replicas converge', async (t) => {
  const result = await dynamo.run({ seed: 5000, duration: 20_000, partitions: 2, loss: 0.02, extra: { seeds: '40' } });
  const r = result.report as Record<string, any>;
  t.equal(r.lostAckedWrites, 0, `0 of ${r.acked} acknowledged writes lost`);
  t.deepEqual(r.notConverged, [], 'every run converged');
  t.ok(r.maxHints > 0, `stand-ins kept hints (at most ${r.maxHints} at once)`);
  t.end();
});

test('dynamo: the same seed gives the same run; the stale-read checker can fail', (t) => {
  const options = { seed: 7, nodes: 5, n: 3, r: 2, w: 2, latency: 5, loss: 0, partitions: 1, duration: 10_000, rate: 20, keys: 10, crashEvery: 3000, downFor: 2000, maxDown: 1 };
  const a = runDynamo(options);
  const b = runDynamo(options);
  t.deepEqual(JSON.stringify(a), JSON.stringify(b), 'deterministic from the seed');
  let staleWithoutFault = 0;
  for (let seed = 1; seed <= 20 && staleWithoutFault === 0; seed++) staleWithoutFault += runDynamo({ ...options, seed, r: 1, w: 1, partitions: 0, crashEvery: 1e9, replicaLatency: 100 }).staleWithoutFault;
  t.ok(staleWithoutFault > 0, 'W1 R1, replicas slower than the client: the stale-read checker finds stale reads with no fault (it can fail)');
  t.end();
});

test('dynamo: the same R1 W1 runs with R2 W2 read nothing stale without a fault', (t) => {
  let stale = 0;
  for (let seed = 1; seed <= 20; seed++) stale += runDynamo({ seed, nodes: 5, n: 3, r: 2, w: 2, latency: 5, loss: 0, partitions: 0, duration: 10_000, rate: 20, keys: 10, crashEvery: 1e9, downFor: 2000, maxDown: 1, replicaLatency: 100 }).staleWithoutFault;
  t.equal(stale, 0, 'R + W > N: no stale read');
  t.end();
});
