// The vine demo: five `tendril vine` processes on loopback form a cluster;
// a writer sends quorum writes through random nodes; one node is killed with
// SIGKILL and the writes go on; it restarts; then every acknowledged write is
// read back through every node, and the three replicas of every partition
// are shown to hold the same Merkle root.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HashRing, PARTITIONS, RemoteVine } from '../../lib/index.js';

const tendril = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tendril.js');
const NODES = 5;
const base = Number(process.env.VINE_DEMO_PORT ?? 7400);
const root = mkdtempSync(join(tmpdir(), 'tendril-vine-demo-'));
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(i: number): Promise<string> {
  const args = ['vine', '--port', String(base + 2 * i), '--data', join(root, `node${i}`), '--gossip-ms', '250'];
  if (i > 0) args.push('--join', `127.0.0.1:${base}`);
  const child = spawn(process.execPath, [tendril, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children[i] = child;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${i} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^vine (\S+) listening on (\S+)$/.exec(line);
      if (match) {
        console.log(`node ${i}  ${match[1]}  listening on ${match[2]} (gossip on port ${base + 2 * i + 1})`);
        resolve(match[1]);
      }
    });
  });
}

// Not routed: each client's node coordinates, so writes go through random nodes and reads through every node.
const clients = Array.from({ length: NODES }, (_, i) => new RemoteVine<number>({ host: '127.0.0.1', port: base + 2 * i }, { timeout: 1500, route: false }));
try {
  console.log(`tendril vine demo: ${NODES} processes, N = 3, R = 2, W = 2; data in ${root}\n`);
  const ids = await Promise.all(Array.from({ length: NODES }, (_, i) => start(i)));
  // Wait until every node can gather a write quorum of three.
  for (let i = 0; i < NODES; i++) while (!(await clients[i].put(`hello-${i}`, i, { w: 3 }).then(() => true, () => false))) await sleep(200);
  console.log('\ncluster formed: every node coordinates a W = 3 write\n');

  const acked = new Map<string, number>();
  let failed = 0;
  let next = 0;
  let down = -1;
  let writing = true;
  const writer = async () => {
    while (writing) {
      const i = next++;
      let via = Math.floor(Math.random() * NODES);
      if (via === down) via = (via + 1) % NODES;
      await clients[via].put(`key-${i}`, i).then(() => acked.set(`key-${i}`, i), () => failed++);
    }
  };
  const writers = Array.from({ length: 16 }, writer);
  await sleep(2000);
  down = 3;
  children[3].removeAllListeners('exit');
  children[3].kill('SIGKILL');
  console.log(`after ${acked.size} acknowledged writes: node 3 killed with SIGKILL; writing on`);
  await sleep(4000);
  writing = false;
  await Promise.all(writers);
  console.log(`writes stopped: ${acked.size} acknowledged, ${failed} failed (ERR_UNAVAILABLE while the cluster noticed)`);
  await start(3);
  console.log('node 3 restarted on its data; hints and anti-entropy bring it up to date\n');

  const ring = new HashRing(ids);
  const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
  const healStart = Date.now();
  let differing = PARTITIONS;
  while (differing > 0 && Date.now() - healStart < 60_000) {
    const roots = await Promise.all(clients.map((c) => c.roots(partitions).catch(() => [] as string[])));
    differing = partitions.filter((p) => new Set(ring.preferenceList(p, 3).map((id) => roots[ids.indexOf(id)][p])).size !== 1).length;
    if (differing > 0) await sleep(250);
  }
  console.log(`replicas agree: ${PARTITIONS - differing} of ${PARTITIONS} partitions have equal Merkle roots on all 3 replicas (${((Date.now() - healStart) / 1000).toFixed(1)} s after the restart)`);

  let readable = 0;
  for (const [key, value] of acked) {
    const all = await Promise.all(clients.map((c) => c.get(key).then((v) => v.values.length === 1 && v.values[0] === value, () => false)));
    if (all.every(Boolean)) readable++;
  }
  console.log(`every acknowledged write readable through every node: ${readable} of ${acked.size}${readable === acked.size ? ' - none lost' : ' - SOME MISSING'}`);
  process.exitCode = readable === acked.size && differing === 0 ? 0 : 1;
} finally {
  for (const c of clients) c.close();
  for (const child of children) {
    child?.removeAllListeners('exit');
    child?.kill('SIGKILL');
  }
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
}
