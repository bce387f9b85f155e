import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { LocalCluster } from '../../lib/vine/membership.js';
import { VineNode } from '../../lib/vine/node.js';
import { PARTITIONS, partitionOf } from '../../lib/vine/ring.js';
import { errors } from '../../lib/errors.js';

/** Five nodes in this process on real loopback sockets, with a membership the test controls. */
async function cluster(size: number, options: Record<string, unknown> = {}) {
  const local = new LocalCluster();
  const nodes: VineNode<any>[] = [];
  for (let i = 0; i < size; i++) {
    const node = new VineNode<any>({ db: new MemoryLevel(), antiEntropyMs: 200, handoffMs: 100, membership: (self) => local.join(self), ...options });
    await node.start();
    nodes.push(node);
  }
  return { local, nodes, stop: () => Promise.all(nodes.map((n) => n.stop())) };
}

const until = async (what: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

test('vine in process: quorum writes and reads through any node; siblings and contexts', async (t) => {
  const { nodes, stop } = await cluster(5);
  try {
    await nodes[0].put('foo', 'hello, world');
    for (const node of nodes) t.equal((await node.get('foo')).value, 'hello, world', `read through ${node.id}`);
    const seen = await nodes[1].get('foo');
    await nodes[2].put('foo', 'a', { context: seen.context });
    await nodes[3].put('foo', 'b', { context: seen.context });
    const both = await nodes[4].get('foo', { r: 3 });
    t.ok(both.conflict, 'two writes from the same context are siblings');
    t.deepEqual([...both.values].sort(), ['a', 'b']);
    await nodes[0].put('foo', 'merged', { context: both.context });
    const one = await nodes[4].get('foo', { r: 3 });
    t.deepEqual(one.values, ['merged'], 'a write with the read context replaces both');
    await nodes[1].del('foo');
    t.deepEqual((await nodes[2].get('foo')).values, [], 'deleted');
    const big = await nodes[0].put('big', 'v'.repeat(300 * 1024)).catch((e) => e);
    t.equal(big?.code, 'ERR_LIMIT', 'a value over the limit is refused');
    const bad = await nodes[0].put(42 as unknown as string, 'v').catch((e) => e);
    t.equal(bad?.code, 'ERR_INVALID_ARGUMENT', 'a key that is not a string is refused');
  } finally {
    await stop();
  }
});

test('vine in process: a down owner gets a hint, handed back when it returns; ERR_UNAVAILABLE when W is out of reach', async (t) => {
  const { local, nodes, stop } = await cluster(5);
  try {
    const key = 'hinted';
    const owners = nodes[0].replicasOf(partitionOf(key));
    const down = nodes.find((n) => n.id === owners[1])!;
    local.fail(down.id);
    const coordinator = nodes.find((n) => n.id !== down.id)!;
    await coordinator.put(key, 'v1', { w: 3 });
    const held = nodes.reduce((sum, n) => sum + (n.hintBacklog().get(down.id) ?? 0), 0);
    t.equal(held, 1, 'one stand-in holds a hint for the down owner (W = 3 met with the stand-in)');
    t.equal((await down.get(key, { r: 1, n: 1 }).catch(() => undefined))?.values.length ?? 0, 0, 'the down owner does not have it yet');
    local.recover(down.id);
    t.ok(await until(() => nodes.every((n) => (n.hintBacklog().get(down.id) ?? 0) === 0)), 'the hint is handed back and dropped');
    const p = partitionOf(key);
    t.ok(await until(async () => (await down.rootOf(p)) === (await nodes.find((n) => n.id === owners[0])!.rootOf(p))), 'the owner now has the same root as its peers');
    // Three of five down: no write with W = 2 can find two owners or stand-ins... with one live member left of a key's walk
    for (const n of nodes.slice(1)) local.fail(n.id);
    const err = await nodes[0].put('lonely', 'x').catch((e) => e);
    t.equal(err?.code, 'ERR_UNAVAILABLE', 'one live node, W = 2: ERR_UNAVAILABLE');
    t.match(String(err?.message), /needs 2 replicas; 0 answered of 1 reachable/, 'it says how many answered');
  } finally {
    await stop();
  }
});

test('vine in process: anti-entropy converges replicas nobody reads; a joining node takes its share', async (t) => {
  const { local, nodes, stop } = await cluster(4, { w: 1 });
  let extra: VineNode<any> | undefined;
  try {
    for (let i = 0; i < 300; i++) await nodes[i % 4].put(`k${i}`, i, { w: 1 });
    const agree = async (all: VineNode<any>[]) => {
      for (let p = 0; p < PARTITIONS; p++) {
        const replicas = all[0].replicasOf(p).map((id) => all.find((n) => n.id === id)!);
        const roots = new Set(await Promise.all(replicas.map((n) => n.rootOf(p))));
        if (roots.size !== 1) return false;
      }
      return true;
    };
    t.ok(await until(() => agree(nodes), 20_000), 'with W = 1, anti-entropy brings every partition\'s replicas to equal roots');
    extra = new VineNode<any>({ db: new MemoryLevel(), antiEntropyMs: 200, handoffMs: 100, w: 1, membership: (self) => local.join(self) });
    await extra.start();
    const all = [...nodes, extra];
    t.ok(await until(() => agree(all), 30_000), 'after a join, every partition\'s replicas (the newcomer among them) agree');
    let mine = 0;
    for (let i = 0; i < 300; i++) if (extra.replicasOf(partitionOf(`k${i}`)).includes(extra.id)) mine++;
    t.ok(mine > 0, `the newcomer replicates ${mine} of 300 keys`);
    for (let i = 0; i < 300; i++) {
      if ((await all[i % 5].get(`k${i}`, { r: 3 })).value !== i) t.fail(`k${i} lost`);
    }
    t.pass('every key reads back with R = 3');
  } finally {
    await stop();
    await extra?.stop();
  }
});

test('vine in process: a node that leaves hands its partitions over; N copies remain', async (t) => {
  const { local, nodes, stop } = await cluster(5);
  try {
    for (let i = 0; i < 200; i++) await nodes[i % 5].put(`k${i}`, i);
    const leaver = nodes[4];
    await leaver.leave();
    local.remove(leaver.id);
    const rest = nodes.slice(0, 4);
    let missing = 0;
    for (let i = 0; i < 200; i++) {
      // Read every replica alone (R = 1 through each owner): each must hold the key.
      const p = partitionOf(`k${i}`);
      for (const id of rest[0].replicasOf(p)) {
        const owner = rest.find((n) => n.id === id)!;
        const record = await owner.rootOf(p);
        if (record === '0'.repeat(32)) missing++;
      }
    }
    t.equal(missing, 0, 'every new replica of every partition holding data has data right after the leave');
    for (let i = 0; i < 200; i++) if ((await rest[i % 4].get(`k${i}`, { r: 3 })).value !== i) t.fail(`k${i} after the leave`);
    t.pass('all 200 keys read back with R = 3 from the four that remain');
  } finally {
    await stop();
  }
});

test('vine in process: after a join, the old replicas drop what they no longer replicate, but never while a new replica is down', async (t) => {
  const { local, nodes, stop } = await cluster(5);
  let extra: VineNode<any> | undefined;
  try {
    for (let i = 0; i < 300; i++) await nodes[i % 5].put(`k${i}`, i);
    const down = nodes[0];
    local.fail(down.id);
    extra = new VineNode<any>({ db: new MemoryLevel(), antiEntropyMs: 200, handoffMs: 100, membership: (self) => local.join(self) });
    await extra.start();
    const all = [...nodes, extra];
    const zero = '0'.repeat(32);
    // Partitions whose data some node holds without replicating it any more.
    const surplus = async (p: number) => {
      const replicas = extra!.replicasOf(p);
      const out: VineNode<any>[] = [];
      for (const node of all) if (!replicas.includes(node.id) && (await node.rootOf(p)) !== zero) out.push(node);
      return out;
    };
    const gathered = async () => {
      for (let p = 0; p < PARTITIONS; p++) if ((await surplus(p)).length > 0) return false;
      return true;
    };
    // While `down` is down, partitions it replicates keep their old copies.
    const waiting = (p: number) => extra!.replicasOf(p).includes(down.id);
    const othersGathered = await until(async () => {
      for (let p = 0; p < PARTITIONS; p++) if (!waiting(p) && (await surplus(p)).length > 0) return false;
      return true;
    }, 30_000);
    t.ok(othersGathered, 'partitions whose replicas are all up lose their old copies while that node is down');
    let kept = 0;
    for (let p = 0; p < PARTITIONS; p++) if (waiting(p) && (await surplus(p)).some((n) => n !== down)) kept++;
    t.ok(kept > 0, `with a new replica down, ${kept} partitions keep their old copies`);
    local.recover(down.id);
    t.ok(await until(gathered, 40_000), 'once every replica is up, no node holds a partition it does not replicate');
    const dropped = all.reduce((sum, n) => sum + n.stats.dropped, 0);
    t.ok(dropped > 0, `${dropped} partitions dropped in all`);
    for (let i = 0; i < 300; i++) if ((await all[i % 6].get(`k${i}`, { r: 3 })).value !== i) t.fail(`k${i} lost`);
    t.pass('every key reads back with R = 3');
  } finally {
    await stop();
    await extra?.stop();
  }
});

test('vine in process: a notify lost on the way to a watcher is sent again', async (t) => {
  const { nodes, stop } = await cluster(5);
  try {
    const watcher = nodes[4];
    // A key the watcher does not replicate, so only a notify can tell it.
    let key = '';
    for (let i = 0; !key; i++) if (!watcher.replicasOf(partitionOf(`w${i}`)).includes(watcher.id)) key = `w${i}`;
    const seen: unknown[] = [];
    watcher.on('data', (k: string, value: unknown) => k === key && seen.push(value));
    watcher.watch(key);
    // The first notify to arrive is lost, as if the connection was cut under it.
    let lost = 0;
    const handle = watcher.handle.bind(watcher);
    watcher.handle = (request, from) => {
      if (request.type === 'notify' && lost === 0) {
        lost++;
        return Promise.reject(errors.closed('the connection'));
      }
      return handle(request, from);
    };
    await nodes[0].put(key, 'hello');
    t.ok(await until(() => seen.length > 0, 10_000), 'the watcher still hears of the write');
    t.equal(lost, 1, 'after its first notify was lost');
    t.deepEqual(seen, ['hello'], 'once, with the value');
  } finally {
    await stop();
  }
});
