import test from 'tape';
import { Network } from '../../lib/sim/network.js';
import { SimRandom } from '../../lib/sim/random.js';
import { Scheduler } from '../../lib/sim/scheduler.js';
import { bridge, isolateOne, randomHalves, randomLinks } from '../../lib/sim/partitions.js';
import { percentiles } from '../../lib/sim/stats.js';
import { topology } from '../../lib/sim/topology.js';

test('scheduler: events run in time order, ties in scheduling order, cancel drops one', (t) => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.schedule(10, () => seen.push('b'), 'b');
  s.schedule(5, () => seen.push('a'), 'a');
  s.schedule(10, () => seen.push('c'), 'c');
  const d = s.schedule(7, () => seen.push('d'), 'd');
  s.cancel(d);
  s.schedule(10, () => s.schedule(0, () => seen.push('e'), 'e'), 'spawn');
  s.runUntilIdle();
  t.deepEqual(seen, ['a', 'b', 'c', 'e']);
  t.equal(s.now, 10);
  t.equal(s.executed, 5, 'cancelled events do not count');
  t.end();
});

test('random: same seed, same draws; nearby seeds differ from the first draw', (t) => {
  const a = new SimRandom(42);
  const b = new SimRandom(42);
  const draws = (r: SimRandom) => [r.float(), r.int(0, 100), r.normal(), r.exponential(3), r.fork().float()];
  t.deepEqual(draws(a), draws(b));
  const firsts = [1, 2, 3, 4].map((s) => new SimRandom(s).float());
  t.ok(Math.max(...firsts) - Math.min(...firsts) > 0.05, `first draws of seeds 1..4 spread out: ${firsts.map((x) => x.toFixed(3))}`);
  t.end();
});

function net(seed = 1, link = {}) {
  const scheduler = new Scheduler();
  const network = new Network(scheduler, new SimRandom(seed), link);
  for (const n of ['a', 'b', 'c']) network.addNode(n);
  return { scheduler, network };
}

test('network: datagrams arrive after the latency; loss, duplication and cuts', (t) => {
  const { scheduler, network } = net(1, { latency: 50 });
  const got: [string, unknown, number][] = [];
  network.listen('b', (from, m) => got.push([from, m, scheduler.now]));
  network.send('a', 'b', 'hello');
  scheduler.runUntilIdle();
  t.deepEqual(got, [['a', 'hello', 50]]);

  network.setAllLinks({ loss: 1 });
  network.send('a', 'b', 'lost');
  network.setAllLinks({ loss: 0, duplicate: 1 });
  network.send('a', 'b', 'twice');
  scheduler.runUntilIdle();
  t.deepEqual(got.slice(1).map((g) => g[1]), ['twice', 'twice'], 'lost one dropped, duplicated one twice');

  network.setAllLinks({ duplicate: 0 });
  network.cut('a', 'b');
  network.send('a', 'b', 'cut');
  network.send('c', 'b', 'other');
  scheduler.runUntilIdle();
  t.deepEqual(got.slice(3).map((g) => g[1]), ['other'], 'a cut drops only its own pair');
  network.heal();
  network.crash('b');
  t.equal(network.send('a', 'b', 'down'), false, 'a send to a crashed node fails at once');
  t.end();
});

test('network: jitter reorders datagrams, but stream frames stay in order', (t) => {
  const { scheduler, network } = net(3, { latency: 50, jitter: 40 });
  const datagrams: number[] = [];
  network.listen('b', (_, m) => datagrams.push(m as number));
  for (let i = 0; i < 50; i++) network.send('a', 'b', i);
  const frames: number[] = [];
  network.accept('c', (end) => {
    end.onData = (f) => frames.push(f[0]!);
    return true;
  });
  const end = network.connect('a', 'c')!;
  for (let i = 0; i < 50; i++) end.send(Uint8Array.of(i));
  scheduler.runUntilIdle();
  t.notDeepEqual(datagrams, [...datagrams].sort((x, y) => x - y), 'datagrams overtook each other');
  t.deepEqual(frames, Array.from({ length: 50 }, (_, i) => i), 'frames in order');
  t.end();
});

test('network: a cut or a crash breaks stream links on both ends; bandwidth delays', (t) => {
  const { scheduler, network } = net(1, { latency: 10, bandwidth: 1 });
  let remoteClosed = 0;
  network.accept('b', (end) => {
    end.onClose = () => remoteClosed++;
    return true;
  });
  const end = network.connect('a', 'b')!;
  let closed = 0;
  end.onClose = () => closed++;
  scheduler.runUntil(20);
  t.ok(end.open);
  let arrived = -1;
  network.accept('c', (e) => {
    e.onData = () => (arrived = scheduler.now);
    return true;
  });
  const toC = network.connect('a', 'c')!;
  scheduler.runUntil(40);
  toC.send(new Uint8Array(100));
  network.cut('a', 'b');
  scheduler.runUntil(200);
  t.equal(closed, 1, 'local end closed');
  t.equal(remoteClosed, 1, 'remote end closed');
  t.equal(end.send(Uint8Array.of(1)), false, 'no sending on a broken link');
  t.equal(arrived, 40 + 100 + 10, '100 bytes at 1 byte/ms, then the latency');
  t.end();
});

test('partitions, topologies and percentiles', (t) => {
  const nodes = ['n0', 'n1', 'n2', 'n3', 'n4'];
  const r = new SimRandom(9);
  const halves = randomHalves(nodes, r).groups;
  t.deepEqual(halves.map((g) => g.length), [2, 3], 'halves');
  t.deepEqual(isolateOne(nodes, r).groups.map((g) => g.length), [1, 4], 'one node alone');
  const b = bridge(nodes, r).groups;
  t.deepEqual(b.map((g) => g.length), [3, 3], 'bridge: two sides of two, and the bridge in both');
  const shared = b[0]!.filter((n) => b[1]!.includes(n));
  t.equal(shared.length, 1, 'one bridge node');
  const network = new Network(new Scheduler(), new SimRandom(1));
  for (const n of nodes) network.addNode(n);
  network.partition(b);
  const [left, right] = [b[0]!.find((n) => n !== shared[0])!, b[1]!.find((n) => n !== shared[0])!];
  t.ok(network.isCut(left, right) && !network.isCut(left, shared[0]!) && !network.isCut(shared[0]!, right), 'the sides talk only through the bridge');
  network.unpartition();
  t.notOk(network.isCut(left, right), 'whole again');
  const links = randomLinks(nodes, 4, r);
  t.equal(new Set(links.map((p) => p.join())).size, 4, 'four distinct links to clog');
  t.equal(randomLinks(nodes, 99, r).length, 10, 'at most every pair');
  t.equal(topology('full', nodes).length, 10);
  t.equal(topology('star', nodes).length, 4);
  t.equal(topology('ring', nodes).length, 5);
  t.equal(topology('tree', nodes, 2).length, 4);
  t.equal(topology('grid', nodes).length, 5);
  t.deepEqual(percentiles([5, 1, 4, 2, 3]), { count: 5, median: 3, p95: 5, p99: 5, max: 5 });
  t.end();
});

test('nemesis: partitions and crashes on a schedule; stop heals and restarts everything', async (t) => {
  const { Nemesis } = await import('../../lib/sim/nemesis.js');
  const scheduler = new Scheduler();
  const network = new Network(scheduler, new SimRandom(1));
  for (const n of ['a', 'b', 'c', 'd', 'e']) network.addNode(n);
  const events: string[] = [];
  const nemesis = new Nemesis(network, new SimRandom(2), { partitionEvery: 500, partitionFor: 2000, crashEvery: 700, downFor: 5000 }, {
    crash: (n) => (events.push(`crash ${n}`), network.crash(n)),
    restart: (n, keep) => (events.push(`restart ${n} ${keep}`), network.restart(n)),
  });
  nemesis.start();
  let sawCut = false;
  for (let time = 100; time <= 10_000; time += 100) {
    scheduler.runUntil(time);
    sawCut ||= network.split;
  }
  nemesis.stop();
  t.ok(sawCut, 'partitions happened');
  t.ok(events.some((e) => e.startsWith('crash')), `crashes: ${events.filter((e) => e.startsWith('crash')).length}`);
  t.ok(new Set(network.faults.map((f) => f.kind)).size >= 3, `kinds: ${[...new Set(network.faults.map((f) => f.kind))].join(', ')}`);
  t.notOk(network.split, 'healed at stop');
  t.ok(['a', 'b', 'c', 'd', 'e'].every((n) => network.isUp(n)), 'every node up at stop');
  scheduler.runUntil(60_000);
  t.notOk(network.split, 'and nothing cuts the network afterwards');
  t.ok(network.faults.every((f) => f.end !== undefined), 'every fault window closed');
  t.end();
});

test('network: idle links cost nothing; busy and custom links keep their state', (t) => {
  const scheduler = new Scheduler();
  const network = new Network(scheduler, new SimRandom(3), { latency: 5 });
  const names = Array.from({ length: 300 }, (_, i) => `n${i}`);
  for (const n of names) network.addNode(n);
  let delivered = 0;
  for (const n of names) network.listen(n, () => delivered++);
  for (const a of names) for (let j = 0; j < 30; j++) network.send(a, names[(names.indexOf(a) + 1 + j) % 300]!, 'x');
  scheduler.runUntilIdle();
  t.equal(delivered, 9000, 'every datagram arrived');
  t.equal(network.linkRecords, 0, 'datagrams over default links leave no record behind');
  network.setLink('n0', 'n1', { latency: 50 });
  t.equal(network.profile('n1', 'n0').latency, 50, 'a custom profile is kept');
  network.setAllLinks({ bandwidth: 1 });
  for (let round = 0; round < 20; round++) {
    for (const a of names) network.send(a, names[(names.indexOf(a) + 1 + round) % 300]!, 'y', 10);
    scheduler.runUntilIdle();
  }
  t.ok(network.linkRecords < 4096 + 2, `bandwidth state is swept once idle: ${network.linkRecords} records after 6,000 links were busy`);
  t.equal(network.profile('n0', 'n1').latency, 50, 'the custom link survived the sweeps');
  t.equal(network.profile('n0', 'n1').bandwidth, 1, 'and took the new default bandwidth');
  t.end();
});

test('network: a crash loses what the node had in flight only when asked to', (t) => {
  for (const loseInFlight of [false, true]) {
    const { scheduler, network } = net(4, { latency: 10 });
    const got: string[] = [];
    network.listen('b', (_from, m) => got.push(m as string));
    network.send('a', 'b', 'sent before the crash');
    scheduler.schedule(5, () => network.crash('a', { loseInFlight }));
    scheduler.schedule(6, () => network.restart('a'));
    scheduler.schedule(7, () => network.send('a', 'b', 'sent after the restart'));
    scheduler.runUntilIdle();
    t.deepEqual(got, loseInFlight ? ['sent after the restart'] : ['sent before the crash', 'sent after the restart'], `loseInFlight ${loseInFlight}`);
  }
  t.end();
});
