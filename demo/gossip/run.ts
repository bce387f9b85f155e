// The gossip demo: grapevine's README as real processes. One seed, twenty
// peers and an updater, each its own process on 127.0.0.1, all pointed at
// the seed. Prints what the peers see until they all agree: everyone knows
// all 21 others, everyone sees the updater's key, then everyone sees the
// expiring key disappear.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PEERS = 20;
const here = dirname(fileURLToPath(import.meta.url));
const children: ChildProcess[] = [];
const views = new Map<number, { live: number; somekey: unknown; lease: unknown }>();

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function cleanup(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', cleanup);

const ports = await freePorts(PEERS + 2);
const [seed, updaterPort] = ports;
const start = Date.now();
for (const [i, port] of ports.entries()) {
  const args = [join(here, 'peer.js'), String(port), String(seed), port === updaterPort ? 'updater' : 'peer', String(updaterPort), String(ports.length)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const view = JSON.parse(line);
    views.set(view.port, view);
  });
  void i;
}
console.log(`seed 127.0.0.1:${seed}, updater 127.0.0.1:${updaterPort}, ${PEERS} peers: ${ports.length} processes`);

const all = () => [...views.values()];
const phases = [
  { name: 'everyone knows all 21 others', done: () => views.size === ports.length && all().every((v) => v.live === ports.length - 1) },
  { name: 'everyone sees somekey = somevalue and the lease', done: () => all().every((v) => v.somekey === 'somevalue' && v.lease === 'held') },
  { name: 'the lease has expired everywhere', done: () => all().every((v) => v.somekey === 'somevalue' && v.lease === null) },
];
let phase = 0;
const timer = setInterval(() => {
  const seconds = ((Date.now() - start) / 1000).toFixed(1).padStart(5);
  const knowAll = all().filter((v) => v.live === ports.length - 1).length;
  const haveKey = all().filter((v) => v.somekey === 'somevalue').length;
  const haveLease = all().filter((v) => v.lease === 'held').length;
  console.log(`${seconds}s  reporting ${views.size}/${ports.length}  know all: ${knowAll}  somekey: ${haveKey}  lease: ${haveLease}`);
  while (phase < phases.length && phases[phase].done()) console.log(`        agreed: ${phases[phase++].name}`);
  if (phase === phases.length) {
    console.log('done: all 22 processes agree');
    clearInterval(timer);
    cleanup();
    process.exit(0);
  }
  if (Date.now() - start > 60_000) {
    console.log(`gave up after 60 s waiting for: ${phases[phase].name}`);
    cleanup();
    process.exit(1);
  }
}, 500);
