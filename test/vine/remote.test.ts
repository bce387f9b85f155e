import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { LocalCluster } from '../../lib/vine/membership.js';
import type { WireRequest } from '../../lib/vine/messages.js';
import { VineNode } from '../../lib/vine/node.js';
import { RemoteVine } from '../../lib/vine/remote.js';
import { partitionOf } from '../../lib/vine/ring.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Five nodes in this process on real loopback sockets; each records the keys of the `coordinate` requests it gets. */
async function cluster() {
  const local = new LocalCluster();
  const nodes: VineNode<any>[] = [];
  const coordinated = new Map<string, string[]>();
  for (let i = 0; i < 5; i++) {
    const node = new VineNode<any>({ db: new MemoryLevel(), antiEntropyMs: 60_000, handoffMs: 100, membership: (self) => local.join(self) });
    await node.start();
    const handle = node.handle.bind(node);
    node.handle = (request: WireRequest, from: string) => {
      if (request.type === 'coordinate') coordinated.get(node.id)!.push(request.key);
      return handle(request, from);
    };
    coordinated.set(node.id, []);
    nodes.push(node);
  }
  return { local, nodes, coordinated };
}

test('RemoteVine sends each request to a replica of its key once it knows the ring; not routed, the node it was given coordinates', async (t) => {
  const { local, nodes, coordinated } = await cluster();
  const routed = new RemoteVine<number>({ host: '127.0.0.1', port: nodes[0].address!.port });
  const direct = new RemoteVine<number>({ host: '127.0.0.1', port: nodes[0].address!.port }, { route: false });
  try {
    await routed.put('first', 0);
    await sleep(100); // the ring has arrived
    for (const list of coordinated.values()) list.length = 0;
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    await Promise.all(keys.map((key, i) => routed.put(key, i)));
    for (const key of keys) t.equal((await routed.get(key, { r: 1 })).value, keys.indexOf(key), `${key} reads back`);
    let misplaced = 0;
    let count = 0;
    for (const node of nodes) {
      for (const key of coordinated.get(node.id)!) {
        count++;
        if (!node.replicasOf(partitionOf(key)).includes(node.id)) misplaced++;
      }
    }
    t.equal(count, 120, 'every write and read was coordinated once');
    t.equal(misplaced, 0, 'each by a replica of its key');
    t.ok([...coordinated.values()].filter((list) => list.length > 0).length >= 4, 'the work spreads over the nodes');

    for (const list of coordinated.values()) list.length = 0;
    await Promise.all(keys.map((key, i) => direct.put(key, i + 100)));
    t.equal(coordinated.get(nodes[0].id)!.length, 60, 'not routed: the node it was given coordinates every request');
    t.equal((await direct.get('key-7')).value, 107, 'and reads back');

    // A replica that stops: the routed client goes elsewhere (the node it was given, or another replica) and no request fails.
    const key = keys.find((k) => !nodes[0].replicasOf(partitionOf(k)).includes(nodes[0].id))!;
    const owner = nodes.find((n) => n.id === nodes[0].replicasOf(partitionOf(key))[0])!;
    await owner.stop();
    local.fail(owner.id);
    const failures: string[] = [];
    for (let i = 0; i < 12; i++) await routed.put(key, 1000 + i).catch((err) => failures.push(`${i}: ${err.code}`));
    // A request on a connection that drops under it fails (it may or may not have been applied); the client does not guess.
    t.ok(failures.length === 0 || (failures.length === 1 && /ERR_CLOSED/.test(failures[0])), `with one replica of the key stopped, the routed client's writes succeed but for one on the connection that dropped (${failures.join(', ') || 'none failed'})`);
    t.equal((await routed.get(key, { r: 2 })).value, 1011, 'and the last one reads back');
  } finally {
    routed.close();
    direct.close();
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
