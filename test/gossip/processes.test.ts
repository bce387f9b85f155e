import test from 'tape';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/**
 * Ten gossip nodes as OS processes on 127.0.0.1, joined through one seed.
 * Every wait is bounded; every process is killed on the way out, pass or fail.
 */
const script = join(dirname(fileURLToPath(import.meta.url)), 'gossip-node.js');
const WAIT_MS = 40_000;

interface Proc {
  port: number;
  child: ChildProcess;
  events: unknown[][];
}

const procs: Proc[] = [];

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function launch(port: number, seedPort: number, initial?: string): Proc {
  const child = spawn(process.execPath, [script, String(port), String(seedPort), ...(initial ? [initial] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const proc: Proc = { port, child, events: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => proc.events.push(JSON.parse(line)));
  procs.push(proc);
  return proc;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const id = (p: Proc) => `127.0.0.1:${p.port}`;
const has = (p: Proc, event: string, peer: string, after = 0) => p.events.slice(after).some((e) => e[0] === event && e[1] === peer);

test('ten processes: join through a seed, detect two SIGKILLs, see a restart, spread a key', async (t) => {
  const ports = await freePorts(10);
  console.log(`# ports ${ports.join(',')}`);
  try {
    const nodes = ports.map((port, i) => launch(port, ports[0], `name=node${i}`));
    await until('every process lists the other nine', () =>
      nodes.every((p) => nodes.every((q) => q === p || has(p, 'new_peer', id(q)))));
    t.pass('every process lists all ten (itself and nine peers)');

    const [victimA, victimB] = [nodes[8], nodes[9]];
    const survivors = nodes.slice(0, 8);
    victimA.child.kill('SIGKILL');
    victimB.child.kill('SIGKILL');
    await until('every survivor convicts both', () =>
      survivors.every((p) => has(p, 'peer_failed', id(victimA)) && has(p, 'peer_failed', id(victimB))));
    t.pass('every survivor emits peer_failed for both killed processes');

    const marks = survivors.map((p) => p.events.length);
    const reborn = launch(victimA.port, ports[0], 'name=reborn');
    await until('every survivor sees the restarted node alive with its new state', () =>
      survivors.every((p, i) => p.events.slice(marks[i]).some((e) => e[0] === 'peer_alive' && e[1] === id(reborn) && (e[3] as Record<string, unknown>).name === 'reborn')));
    t.pass('every survivor emits peer_alive for the restarted node, with its new state');

    survivors[3].child.stdin!.write('set greeting "hello"\n');
    const everyone = [...survivors, reborn];
    await until('the key reaches everyone', () =>
      everyone.every((p) => p === survivors[3] || p.events.some((e) => e[0] === 'update' && e[1] === id(survivors[3]) && e[2] === 'greeting' && e[3] === 'hello')));
    t.pass('a key set on one process reaches all the others');
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
});
