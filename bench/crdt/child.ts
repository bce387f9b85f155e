// One measurement in a fresh process: node child.js <local|full-sync|live> <contestant> <n>
import { contestants } from './contestants.js';

const [kind, name, count] = process.argv.slice(2);
const contestant = contestants[name];
const n = Number(count);

if (kind === 'local') console.log(JSON.stringify({ ms: contestant.localAdds(n) }));
else if (kind === 'full-sync') console.log(JSON.stringify(await contestant.fullSync(n)));
else if (kind === 'live') console.log(JSON.stringify({ ms: await contestant.live(n) }));
process.exit(0);
