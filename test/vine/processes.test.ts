import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'tape';
import { DEFAULTS } from '../../lib/vine/options.js';
import { RemoteVine } from '../../lib/vine/remote.js';
import { HashRing, PARTITIONS } from '../../lib/vine/ring.js';
import { VineClient } from '../../lib/vine/rpc.js';
import { testRandom } from '../helpers/seed.js';
import { freePorts } from './free-ports.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'node-process.js');
const NODES = 5;
/** The whole test gives up after this long (the runner's own limit is longer). */
const TEST_BUDGET_MS = 150_000;

interface Proc {
  port: number;
  dir: string;
  child: ChildProcess;
  id: Promise<string>;
}

function spawnNode(port: number, dir: string, seeds: number[]): Proc {
  const child = spawn(process.execPath, [script, String(port), dir, ...seeds.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const id = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /^id (\S+)$/m.exec(out);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code, signal) => reject(new Error(`node on ${port} exited (${code ?? signal}) before it listened`)));
  });
  id.catch(() => undefined);
  child.stderr!.on('data', (chunk) => process.stderr.write(`# node ${port}: ${chunk}`));
  return { port, dir, child, id };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('vine: five processes, one SIGKILLed and one with its sockets cut; every acknowledged write reads back from every node; replicas converge', async (t) => {
  const random = testRandom('vine processes');
  const started = Date.now();
  const base = await freePorts(2 * NODES, random);
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-'));
  const procs: Proc[] = [];
  const remotes = new Map<number, RemoteVine<number>>();
  const remote = (i: number) => {
    let r = remotes.get(i);
    // Not routed: node i coordinates every request sent through it, replica of the key or not.
    if (!r) remotes.set(i, (r = new RemoteVine<number>({ host: '127.0.0.1', port: procs[i].port }, { timeout: 1500, route: false })));
    return r;
  };
  // Routed: sends each write to a replica of its key (node 0, never killed, gives it the ring).
  let routed: RemoteVine<number> | undefined;
  const budget = setTimeout(() => {
    t.fail('time budget exceeded');
    for (const p of procs) p.child.kill('SIGKILL');
    process.exit(1);
  }, TEST_BUDGET_MS);
  try {
    for (let i = 0; i < NODES; i++) procs.push(spawnNode(base + 2 * i, join(root, `n${i}`), i === 0 ? [] : [base]));
    const ids = await Promise.all(procs.map((p) => p.id));
    t.pass(`five nodes listening on 127.0.0.1:${base}..${base + 2 * (NODES - 1)}`);

    // The cluster has formed once a write with W = N = 5... is too strict for n = 3; instead every node must coordinate W = 3.
    for (let i = 0; i < NODES; i++) {
      for (let attempt = 0; ; attempt++) {
        const ok = await remote(i).put(`probe-${i}`, i, { w: 3 }).then(() => true, () => false);
        if (ok) break;
        if (attempt > 100) throw new Error(`node ${i} never reached a W = 3 quorum`);
        await sleep(200);
      }
    }
    await sleep(1500); // every node has gossiped with every other by now (interval 200 ms)
    t.pass('the cluster formed');

    const killed = random.int(1, NODES - 1);
    let cut = random.int(1, NODES - 1);
    if (cut === killed) cut = (cut % (NODES - 1)) + 1;
    const acked = new Map<string, number>();
    let failed = 0;
    let next = 0;
    let phase = 'before';
    const writer = async (lane: number) => {
      while (phase !== 'done') {
        const i = next++;
        const key = `key-${i}`;
        // One write in six goes through the routed client (which may pick the killed node until it learns it is down).
        const via = random.int(0, NODES);
        if (via === killed && phase === 'faults') continue;
        try {
          await (via === NODES ? (routed ??= new RemoteVine<number>({ host: '127.0.0.1', port: procs[0].port }, { timeout: 1500 })) : remote(via)).put(key, i);
          acked.set(key, i);
        } catch {
          failed++;
        }
        if (lane === 0 && i % 50 === 0) await sleep(1);
      }
    };
    const writers = Array.from({ length: 8 }, (_, lane) => writer(lane));
    await sleep(1500);
    phase = 'faults';
    procs[killed].child.kill('SIGKILL');
    procs[cut].child.kill('SIGUSR2');
    t.pass(`SIGKILLed node ${killed}, cutting the sockets of node ${cut} for 3 s`);
    await sleep(4000);
    // Enough writes to mean something, however slow the machine: keep writing (the killed node stays down) until 100 are acknowledged.
    const enough = Date.now() + 60_000;
    while (acked.size <= 100 && Date.now() < enough) await sleep(100);
    phase = 'done';
    await Promise.all(writers);
    t.ok(acked.size > 100, `${acked.size} writes acknowledged, ${failed} failed`);

    remotes.get(killed)?.close();
    remotes.delete(killed);
    procs[killed] = spawnNode(procs[killed].port, procs[killed].dir, [base]);
    t.equal(await procs[killed].id, ids[killed], 'the killed node restarts with its data and id');

    // Healing: every partition's replicas reach the same Merkle root.
    const ring = new HashRing(ids);
    const clients = procs.map((p) => new VineClient({ host: '127.0.0.1', port: p.port }, '', { cluster: DEFAULTS.cluster, maxFrameBytes: DEFAULTS.maxFrameBytes, helloTimeoutMs: 5000 }));
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    let differing = PARTITIONS;
    const healStart = Date.now();
    while (Date.now() - started < TEST_BUDGET_MS - 30_000) {
      const roots = await Promise.all(clients.map((c) => c.request({ type: 'roots', partitions }, 5000).catch(() => undefined)));
      differing = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const seen = new Set(ring.preferenceList(p, 3).map((id) => Buffer.from(roots[ids.indexOf(id)]?.subarray(p * 16, p * 16 + 16) ?? []).toString('hex')));
        if (seen.size !== 1) differing++;
      }
      if (differing === 0) break;
      await sleep(500);
    }
    for (const c of clients) c.close();
    t.equal(differing, 0, `after healing, all 3 replicas of each of the ${PARTITIONS} partitions have equal Merkle roots (${((Date.now() - healStart) / 1000).toFixed(1)} s)`);

    // Every acknowledged write, read back through every node.
    let wrong = 0;
    const keys = [...acked];
    for (let i = 0; i < NODES; i++) {
      const queue = [...keys];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let entry = queue.shift(); entry; entry = queue.shift()) {
            const got = await remote(i).get(entry[0]).catch((err) => ({ values: [String(err)] }));
            if (got.values.length !== 1 || got.values[0] !== entry[1]) {
              if (wrong++ < 5) t.comment(`node ${i}: ${entry[0]} = ${JSON.stringify(got.values)}, acknowledged ${entry[1]}`);
            }
          }
        }),
      );
    }
    t.equal(wrong, 0, `all ${acked.size} acknowledged writes read back from each of the ${NODES} nodes`);
  } finally {
    clearTimeout(budget);
    for (const r of remotes.values()) r.close();
    routed?.close();
    for (const p of procs) p.child.kill('SIGKILL');
    await sleep(200);
    rmSync(root, { recursive: true, force: true });
  }
});
