// A peer that replicates a Model over its own stdin and stdout, so that two
// of them can be joined by pipes. It logs to stderr: stdout is the protocol.
import { Model, stdio } from '../../lib/index.js';

const name = process.argv[2] ?? 'peer';
const model = new Model({ id: name, name: 'stdio-demo' });
model.set(`${name}/started`, new Date().toISOString());
model.on('update', (key, value, meta) => {
  if (!meta.local) console.error(`${name}: ${key} = ${JSON.stringify(value)} (from ${meta.source})`);
});
let count = 0;
const writer = setInterval(() => model.set(`${name}/count`, ++count), 250);
setTimeout(() => clearInterval(writer), 1000);
// Stop writing first, then give the last updates time to cross before reporting.
setTimeout(() => {
  console.error(`${name}: final state ${JSON.stringify(model.toJSON())}`);
  process.stdout.end();
}, 1600);
await stdio(model, {}).catch((err) => console.error(`${name}: ${err.message}`));
