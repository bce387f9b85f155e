// One peer of the TCP demo, as its own process:
//   node peer.js <name> <data dir> listen
//   node peer.js <name> <data dir> connect <port>
// It keeps a Model on LevelDB in <data dir>, replicates it over loopback TCP,
// writes a few keys, and reports to its parent as JSON lines on stdout.
import { createHash } from 'node:crypto';
import { Model, connect, listen, persist } from '../../lib/index.js';

const [name, dir, role, port] = process.argv.slice(2);
const report = (event: string, data: object = {}) => console.log(JSON.stringify({ peer: name, event, ...data }));

const model = new Model({ id: name, name: 'demo' });
const stored = await persist(model, dir); // classic-level (LevelDB) at `dir`
report('restored', { keys: model.size });

if (role === 'listen') {
  const server = await listen(model, 0);
  report('listening', { port: (server.address() as { port: number }).port });
} else {
  const connector = connect(model, { port: Number(port) });
  connector.on('synced', () => report('synced'));
}

// Each peer writes its own keys, and all three race for one shared key:
// last writer wins, by hybrid logical clock, the same on every replica.
let ticks = Number(model.get(`${name}/ticks`) ?? 0);
model.set(`${name}/hello`, `hello from ${name} (pid ${process.pid})`);
const writer = setInterval(() => {
  model.set(`${name}/ticks`, ++ticks);
  model.set('shared/last-writer', name);
}, 150 + Math.floor(Math.random() * 100));
setTimeout(() => clearInterval(writer), 1500);

const digest = () => createHash('sha256').update(JSON.stringify(model.toJSON())).digest('hex').slice(0, 12);
const reporter = setInterval(() => report('state', { keys: model.size, digest: digest(), state: model.toJSON() }), 200);

process.on('SIGTERM', async () => {
  clearInterval(writer);
  clearInterval(reporter);
  await stored.close();
  process.exit(0);
});
