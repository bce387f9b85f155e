// Loaded into a benchmarked process with `node --import`: the first SIGUSR2
// starts a CPU profile, the second writes it to `$PROFILE_HOOK_DIR/<pid>.cpuprofile`.
// So a bench can profile exactly one phase of a long-running process (startup
// would otherwise dominate the profile).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.PROFILE_HOOK_DIR ?? '.';
let session: Session | undefined;

process.on('SIGUSR2', () => {
  if (!session) {
    session = new Session();
    session.connect();
    session.post('Profiler.enable', () => session!.post('Profiler.start'));
    return;
  }
  const running = session;
  session = undefined;
  running.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    running.disconnect();
  });
});
