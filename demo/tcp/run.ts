// The main demo: three peers, each its own process, replicating one Model
// over loopback TCP, each persisting it on LevelDB. Run it twice: the second
// run starts from what the first left on disk.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = resolve(process.env.TENDRIL_DEMO_DIR ?? '.tendril-demo');
mkdirSync(dataDir, { recursive: true });
const names = ['alice', 'bob', 'carol'];
const latest = new Map<string, { keys: number; digest: string; state: Record<string, unknown> }>();
const children: ChildProcess[] = [];

function start(name: string, args: string[]): Promise<number | undefined> {
  const child = spawn(process.execPath, [join(here, 'peer.js'), name, join(dataDir, name), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolvePort) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line);
      if (message.event === 'listening') {
        console.log(`${name.padEnd(6)} listening on 127.0.0.1:${message.port} (net.createServer)`);
        resolvePort(message.port);
      } else if (message.event === 'restored') {
        console.log(`${name.padEnd(6)} opened its LevelDB store with ${message.keys} keys`);
        if (args[0] !== 'listen') resolvePort(undefined);
      } else if (message.event === 'synced') {
        console.log(`${name.padEnd(6)} connected and synced`);
      } else if (message.event === 'state') {
        latest.set(name, message);
      }
    });
  });
}

console.log(`tendril demo: three peers replicating a Model over loopback TCP; data in ${dataDir}\n`);
const port = await start(names[0], ['listen']);
await Promise.all(names.slice(1).map((name) => start(name, ['connect', String(port)])));

const started = Date.now();
const timer = setInterval(() => {
  if (latest.size < names.length) return;
  const line = names.map((name) => `${name} ${latest.get(name)!.keys} keys #${latest.get(name)!.digest}`).join(' | ');
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s  ${line}`);
  const digests = new Set(names.map((name) => latest.get(name)!.digest));
  const quiet = Date.now() - started > 2000; // the peers stop writing after 1.5 s
  if ((quiet && digests.size === 1) || Date.now() - started > 15_000) finish(digests.size === 1);
}, 250);

function finish(converged: boolean): void {
  clearInterval(timer);
  const state = latest.get(names[0])!.state;
  console.log(converged ? '\nconverged: all three peers hold the same state:' : '\nNOT converged: the peers differ');
  for (const [key, value] of Object.entries(state)) console.log(`  ${key.padEnd(20)} ${JSON.stringify(value)}`);
  console.log('\nRun it again: each peer resumes from its LevelDB store and the tick counters carry on.');
  for (const child of children) child.kill('SIGTERM');
  process.exitCode = converged ? 0 : 1;
}
