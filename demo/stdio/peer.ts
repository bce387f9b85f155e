// A peer that replicates a Model over its own stdin and stdout, so that two
// of them can be joined by pipes. It logs to stderr: stdout is the protocol.
import { Model, stdio } from '../../lib/index.js';

const name = process.argv[2] ?? 'peer';
const model = new Model({ id: name, name: 'stdio-demo' });
model.set(`${name}/started`, new Date().toISOString());
model.on('update', (key, value, meta) => {
  if (!meta.local) console.error(`${name}: ${key} = ${JSON.stringify(value)} (from ${meta.source})`);
});
// Each peer counts to TICKS, then reports once it holds both peers' final
// counts: what it reports is what both hold, however slow the machine.
const TICKS = 4;
let count = 0;
const writer = setInterval(() => {
  model.set(`${name}/count`, ++count);
  if (count === TICKS) clearInterval(writer);
}, 250);
const counts = () => [...model.keys()].filter((key) => key.endsWith('/count')).map((key) => model.get(key));
const report = setInterval(() => {
  const done = counts();
  if (done.length < 2 || done.some((n) => n !== TICKS)) return;
  clearInterval(report);
  console.error(`${name}: final state ${JSON.stringify(model.toJSON())}`);
  process.stdout.end();
}, 50);
await stdio(model, {}).catch((err) => console.error(`${name}: ${err.message}`));
