// Vine healing: one of five nodes is down while K keys are written; it comes
// back; how long until it holds all of its keys (every partition it
// replicates has the same Merkle root as its peers), and how many bytes
// hints and anti-entropy moved against the bytes it was missing.
// In one process (real sockets, LevelDB, a membership the bench controls),
// so the writes are fast enough on a 2-core machine.
//
// Run alone: node dist/bench/vine-heal.js [keys]   (default 10,000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PARTITIONS, VineNode } from '../lib/index.js';
import { LocalCluster, partitionOf } from '../lib/core.js';
import { type Row, printTable } from './harness.js';

export async function runVineHealBench(keys = 10_000): Promise<Row> {
  const root = mkdtempSync(join(tmpdir(), 'tendril-vine-heal-'));
  const local = new LocalCluster();
  const nodes: VineNode<string>[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const node = new VineNode<string>({ dataDir: join(root, `n${i}`), antiEntropyMs: 500, handoffMs: 200, membership: (self) => local.join(self) });
      await node.start();
      nodes.push(node);
    }
    const down = nodes[2];
    local.fail(down.id);
    down.cutConnections();
    const others = nodes.filter((n) => n !== down);
    let next = 0;
    let retried = 0;
    const writeStart = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async (_, c) => {
        for (let i = next++; i < keys; i = next++) {
          // A write that timed out on a busy machine is written again: every key must be acknowledged.
          while (!(await others[c % others.length].put(`key-${i}`, `value-${i}-${'x'.repeat(40)}`).then(() => true, () => false))) retried++;
        }
      }),
    );
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const before = nodes.map((n) => ({ ...n.stats }));
    const mine = [...Array(PARTITIONS).keys()].filter((p) => down.replicasOf(p).includes(down.id));
    const peerOf = (p: number) => nodes.find((n) => n.id === down.replicasOf(p).find((id) => id !== down.id))!;
    const returned = performance.now();
    local.recover(down.id);
    let healed = false;
    while (!healed && performance.now() - returned < 120_000) {
      healed = true;
      for (const p of mine) if ((await down.rootOf(p)) !== (await peerOf(p).rootOf(p))) healed = false;
      if (!healed) await new Promise((r) => setTimeout(r, 50));
    }
    const healSeconds = (performance.now() - returned) / 1000;
    // What it was missing: the records of its keys, as it now holds them.
    let missingBytes = 0;
    let missingKeys = 0;
    for (let i = 0; i < keys; i++) {
      const key = `key-${i}`;
      const p = partitionOf(key);
      if (!mine.includes(p)) continue;
      missingKeys++;
      missingBytes += (await down.handle({ type: 'read', id: 0, partition: p, key }, down.id)).length + Buffer.byteLength(key);
    }
    const moved = nodes.reduce((sum, n, i) => sum + (n.stats.syncBytes - before[i].syncBytes) + (n.stats.handoffBytes - before[i].handoffBytes), 0);
    const row: Row = {
      keys,
      'write s': writeSeconds,
      'writes retried': retried,
      'keys it missed': missingKeys,
      'healed in s': healed ? healSeconds : 'not within 120 s',
      'missing MiB': missingBytes / 2 ** 20,
      'moved MiB': moved / 2 ** 20,
      'moved / missing': `${(moved / missingBytes).toFixed(2)}x`,
      'handed off': nodes.reduce((s, n) => s + n.stats.handedOff, 0),
    };
    printTable('vine healing: a node down while keys were written (goal: within 10 s, at most 3x the missing bytes)', [row]);
    return row;
  } finally {
    for (const node of nodes) await node.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runVineHealBench(Number(process.argv[2] ?? 10_000));
}
