// A child process for persist-crash.test: a persisted Model or Log on disk,
// replicating with the test's server over TCP on 127.0.0.1.
// Usage: node persist-writer.js <model|log> <dir> <id> <port> <forever|after> <tag>
//   forever: connect live and write bursts until killed; prints "ready" once connected.
//   after:   write at once (before any resync), then sync once, then print "state <snapshot>" and exit.
import { Log, Model, connect, persist } from '../../lib/index.js';
import { log as logSubject, model as modelSubject } from './subjects.js';

const [kind, dir, id, port, phase, tag] = process.argv.slice(2);
const replica = kind === 'log' ? new Log({ id }) : new Model({ id });
const write = (i: number) => (replica instanceof Log ? replica.append({ tag, i }) : replica.set(`${tag}-${i % 50}`, { tag, i }));
const stored = await persist(replica as Model, dir);

if (phase === 'forever') {
  const link = connect(replica, { port: Number(port), reconnect: false });
  link.once('connect', () => process.stdout.write('ready\n'));
  let i = 0;
  // Bursts: many writes per turn, so that a kill lands between applying and storing as often as it can.
  const burst = () => {
    for (let k = 0; k < 20; k++) write(i++);
    setTimeout(burst, 1);
  };
  burst();
} else {
  for (let i = 0; i < 5; i++) write(i);
  // Only stored writes are sent; a one-shot sync takes what is stored when it runs.
  await stored.flush();
  const link = connect(replica, { port: Number(port), reconnect: false, live: false });
  let failure: Error | undefined;
  link.on('peerError', (err) => (failure ??= err));
  link.once('disconnect', async () => {
    await stored.close();
    if (failure) {
      process.stderr.write(`sync failed: ${(failure as { code?: string }).code} ${failure.message}\n`);
      process.exit(1);
    }
    const snapshot = replica instanceof Log ? logSubject.snapshot(replica) : modelSubject.snapshot(replica);
    // Written in full before exiting: a pipe takes a large write in pieces.
    process.stdout.write(`state ${JSON.stringify(snapshot)}\n`, () => process.exit(0));
  });
}
