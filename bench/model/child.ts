// One measurement in a fresh process: node child.js <full-sync|live|stall> <contestant> <n>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { contestants } from './contestants.js';

const [kind, name, count] = process.argv.slice(2);
const contestant = contestants[name];
const n = Number(count);

if (kind === 'full-sync') {
  console.log(JSON.stringify(await contestant.fullSync(n)));
} else if (kind === 'live') {
  console.log(JSON.stringify(await contestant.live!(n)));
} else if (kind === 'stall') {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const result = await contestant.fullSync(n);
  delay.disable();
  // No sample at all means the loop never turned during the sync: the stall was the whole sync.
  const maxStallMs = delay.count === 0 ? result.ms : delay.max / 1e6;
  console.log(JSON.stringify({ ...result, maxStallMs, loopTurns: delay.count }));
}
process.exit(0);
