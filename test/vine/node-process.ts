// One vine node in its own process, for the real-process tests.
// Usage: node node-process.js PORT DATA_DIR [SEED_PORT ...]
// Prints "id <node id>" once listening. SIGUSR2 cuts every connection of the
// node, in and out, again and again for 3 s: a network fault on its sockets.
import { Vine } from '../../lib/vine/vine.js';

const [port, dataDir, ...seeds] = process.argv.slice(2);
const vine = Vine({ dataDir, antiEntropyMs: 500, handoffMs: 200, gossip: { intervalMs: 200 } });
vine.listen(Number(port), '127.0.0.1');
for (const seed of seeds) vine.join(Number(seed), '127.0.0.1');
vine.on('listening', () => process.stdout.write(`id ${vine.node.id}\n`));
vine.on('error', (err: Error) => process.stderr.write(`error ${err.message}\n`));
process.on('SIGUSR2', () => {
  const until = Date.now() + 3000;
  const cut = setInterval(() => {
    vine.node.cutConnections();
    if (Date.now() > until) clearInterval(cut);
  }, 50);
});
process.on('SIGTERM', () => void vine.close(() => process.exit(0)));
