import test from 'tape';
import { runPrimaryBackup, primaryBackup } from '../../bin/sim/scenarios/primary-backup.js';

test('primary-backup goal: zero acknowledged writes lost over 200 seeds with random primary crashes', async (t) => {
  const seeds = Number(process.env.SIM_SEEDS ?? 200);
  const result = await primaryBackup.run({ seed: 1, duration: 30_000, extra: { seeds: String(seeds), 'crash-every': '5000' } });
  console.log(result.text.replace(/^/gm, '# '));
  t.ok((result.report.crashes as number) >= seeds, `${result.report.crashes} primary crashes`);
  t.ok((result.report.acked as number) > 0, `${result.report.acked} acknowledged writes`);
  t.ok(result.report.goals[0]!.met, result.report.goals[0]!.text);
  t.end();
});

test('primary-backup: forwarding, detection by polling only, loss and partitions: still nothing acknowledged is lost', async (t) => {
  const result = await primaryBackup.run({ seed: 1000, duration: 30_000, loss: 0.05, partitions: 2, extra: { seeds: '40', routing: 'forward', detect: 'polling' } });
  console.log(result.text.replace(/^/gm, '# '));
  t.ok((result.report.electionsByReason as Record<string, number>).polling > 0, 'polling detected failures');
  t.ok(result.report.goals[0]!.met, result.report.goals[0]!.text);
  t.end();
});

test('primary-backup: a failed send elects at once; a server that never returns is replaced; stale reads are counted', async (t) => {
  const run = runPrimaryBackup({
    seed: 3,
    nodes: 3,
    latency: 5,
    loss: 0,
    partitions: 0,
    duration: 60_000,
    routing: 'gateway',
    rate: 20,
    crashEvery: 6000,
    downFor: 2000,
    neverReturn: 0.5,
    replaceAfter: 5000,
    timeout: 1000,
    detect: 'both',
  });
  t.ok(run.elections.some((e) => e.reason === 'failed-send'), 'an election started on a failed send');
  t.ok(run.neverReturned > 0 && run.replacements > 0, `${run.neverReturned} never returned, ${run.replacements} replaced`);
  t.deepEqual(run.lostAcked, [], 'no acknowledged write lost');
  t.deepEqual(run.inconsistent, [], 'committed prefixes agree');
  t.deepEqual(run.failures, [], 'no protocol exception');
  t.ok(run.unavailable.length > 0, `${run.unavailable.length} unavailability windows measured`);
  t.ok(run.staleReads >= 0 && run.reads > 0, `${run.staleReads} stale reads of ${run.reads}`);
  t.end();
});

test('primary-backup mutation: the injected W1 bug (ack before any backup has the write) is caught within 40 seeds', async (t) => {
  // A crash loses what the primary had in flight (the default), so a write acknowledged by W1 and not yet on a backup is gone.
  const result = await primaryBackup.run({ seed: 1, duration: 30_000, extra: { seeds: '40', 'ack-quorum': '1' } });
  console.log(result.text.replace(/^/gm, '# '));
  t.ok((result.report.lostAckedWrites as number) > 0, `${result.report.lostAckedWrites} acknowledged writes lost: ${(result.report.lostAckedExamples as string[]).slice(0, 3).join('; ')}`);
  t.notOk(result.report.goals[0]!.met, 'the goal is missed');
  t.end();
});

test('primary-backup: W2R1 reads from the primary are never stale without failures; from any server they can be', async (t) => {
  const quiet = { seed: 7, duration: 20_000 };
  const primary = await primaryBackup.run({ ...quiet, extra: { seeds: '3', 'crash-every': '0' } });
  t.equal(primary.report.staleReads, 0, `reads from the primary, no crashes: ${primary.report.staleReads} stale of ${primary.report.reads}`);
  const any = await primaryBackup.run({ ...quiet, extra: { seeds: '3', 'crash-every': '0', 'read-from': 'any' } });
  t.ok((any.report.staleReads as number) > 0, `reads from any server, no crashes: ${any.report.staleReads} stale of ${any.report.reads}`);
  const crashes = await primaryBackup.run({ ...quiet, extra: { seeds: '3' } });
  t.ok(typeof crashes.report.staleReads === 'number' && crashes.report.goals[0]!.met, `reads from the primary with crashes: ${crashes.report.staleReads} stale, ${crashes.report.failedReads} failed`);
  t.end();
});
