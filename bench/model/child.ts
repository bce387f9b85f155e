// One measurement in a fresh process: node child.js <full-sync|live|stall> <contestant> <n>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { contestants } from './contestants.js';

const [kind, name, count] = process.argv.slice(2);
const contestant = contestants[name];
const n = Number(count);

if (kind === 'full-sync') {
  console.log(JSON.stringify(await contestant.fullSync(n)));
} else if (kind === 'live') {
  console.log(JSON.stringify({ ms: await contestant.live!(n) }));
} else if (kind === 'stall') {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const result = await contestant.fullSync(n);
  delay.disable();
  console.log(JSON.stringify({ ...result, maxStallMs: delay.max / 1e6 }));
}
process.exit(0);
