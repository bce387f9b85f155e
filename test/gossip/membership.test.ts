import test from 'tape';
import { exchange } from '../../lib/gossip/exchange.js';
import { Membership } from '../../lib/gossip/membership.js';
import { gossipCodec } from '../../lib/gossip/messages.js';
import { parseAddress } from '../../lib/gossip/address.js';
import { Random } from '../../lib/random.js';
import { testRandom } from '../helpers/seed.js';
import { FakeClock, gossipRounds, node } from './helpers.js';

function events(m: Membership) {
  const log: string[] = [];
  for (const name of ['new_peer', 'peer_alive', 'peer_failed', 'peer_removed']) m.on(name, (peer: string) => log.push(`${name} ${peer}`));
  m.on('update', (peer: string, key: string, value: unknown) => log.push(`update ${peer} ${key}=${JSON.stringify(value)}`));
  m.on('expire', (peer: string, key: string) => log.push(`expire ${peer} ${key}`));
  return log;
}

test('two nodes learn each other and each other\'s keys', (t) => {
  const clock = new FakeClock();
  const a = node(clock, 9000);
  const b = node(clock, 9001);
  a.setLocalState('role', 'seed');
  b.setLocalState('load', 0.5);
  const la = events(a);
  exchange(a, b);
  t.deepEqual(a.allPeers(), ['127.0.0.1:9001']);
  t.deepEqual(b.livePeers(), ['127.0.0.1:9000']);
  t.equal(a.peerValue('127.0.0.1:9001', 'load'), 0.5);
  t.deepEqual(b.peerKeys('127.0.0.1:9000'), ['role']);
  t.equal(b.peerAddress(a.id), '127.0.0.1:9000');
  t.deepEqual(la, ['new_peer 127.0.0.1:9001', 'update 127.0.0.1:9001 load=0.5']);
  const second = exchange(a, b);
  t.ok(second.bytes[0] < 80 && second.bytes[1] < 80, `a second exchange sends digests (and aggregate shares) only (${second.bytes})`);
  t.end();
});

test('twenty nodes through one seed: everyone knows everyone', (t) => {
  const random = testRandom('gossip twenty nodes');
  const clock = new FakeClock();
  const nodes = Array.from({ length: 20 }, (_, i) => node(clock, 9000 + i, { seeds: ['127.0.0.1:9000'] }));
  nodes[7].setLocalState('somekey', 'somevalue');
  // Joining: each node knows only the seed, so the first rounds go there.
  for (const n of nodes.slice(1)) exchange(n, nodes[0]);
  gossipRounds(clock, nodes, 10, random);
  for (const n of nodes) {
    t.equal(n.livePeers().length, 19, `${n.id} sees 19 live peers`);
    t.equal(n === nodes[7] ? n.getLocalState('somekey') : n.peerValue(nodes[7].id, 'somekey'), 'somevalue');
  }
  t.end();
});

test('byte budget: deepest first, and nothing lost over many rounds', (t) => {
  const random = testRandom('gossip budget');
  const clock = new FakeClock();
  const limit = { timing: { maxExchangeBytes: 600, minWindowBytes: 600 } };
  const writers = Array.from({ length: 6 }, (_, i) => node(clock, 9100 + i));
  const reader = node(clock, 9200, limit);
  writers.forEach((w, i) => {
    for (let k = 0; k < 10 * (i + 1); k++) w.setLocalState(`k${k}`, `value ${k} of ${w.id}`);
  });
  // Gather every writer's state on writers[0] without budget pressure first.
  const hub = node(clock, 9300);
  for (const w of writers) exchange(w, hub);
  const first = exchange(hub, reader);
  const digestBytes = gossipCodec.encodingLength(hub.digest());
  t.ok(first.bytes[0] - digestBytes <= 600 + 40, `deltas stay within the reader's window (${first.bytes[0] - digestBytes} bytes besides the digest)`);
  const view = reader.view();
  const deepest = view.find((v) => v.id === writers[5].id);
  t.ok(deepest && Object.keys(deepest.entries).length > 0, 'the member with most outstanding goes first');
  let rounds = 1;
  while (JSON.stringify(strip(reader.view(), reader.id)) !== JSON.stringify(strip(hub.view(), reader.id))) {
    exchange(hub, reader);
    if (++rounds > 100) break;
  }
  t.ok(rounds <= 100, `converged in ${rounds} budgeted exchanges, nothing lost`);
  for (const w of writers) t.equal(reader.peerValue(w.id, 'k9'), `value 9 of ${w.id}`);
  void random;
  t.end();
});

/** Views without statuses and our own entry, to compare what two nodes hold of the others. */
function strip(view: ReturnType<Membership['view']>, self: string) {
  return view.filter((v) => v.id !== self).map(({ id, generation, entries }) => ({ id, generation, entries }));
}

test('the receive window (flow control) caps what a peer sends', (t) => {
  const clock = new FakeClock();
  const a = node(clock, 9000);
  const b = node(clock, 9001, { timing: { maxExchangeBytes: 64 * 1024, minWindowBytes: 1024 } });
  for (let k = 0; k < 500; k++) a.setLocalState(`key-${k}`, 'x'.repeat(100));
  // b runs late four rounds in a row: its window halves each time.
  b.tick();
  for (let i = 0; i < 4; i++) {
    clock.advance(1900);
    b.tick();
  }
  t.equal(b.window.bytes, 4096);
  const result = exchange(a, b);
  t.ok(result.bytes[0] < 4096 + 400, `a sent ${result.bytes[0]} bytes into a 4 KiB window`);
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    b.tick();
  }
  t.equal(b.window.bytes, 64 * 1024, 'the window grows back while b keeps up');
  t.end();
});

test('failure detection: a silent peer is convicted, comes back alive, is removed, and stale gossip does not revive it', (t) => {
  const random = new Random(7);
  const clock = new FakeClock();
  const opts = { timing: { removeAfterMs: 30_000, tombstoneMs: 120_000 } };
  const [a, b, c] = [node(clock, 9000, opts), node(clock, 9001, opts), node(clock, 9002, opts)];
  gossipRounds(clock, [a, b, c], 10, random);
  const la = events(a);
  // c goes silent; a and b keep gossiping.
  let failedAt = 0;
  for (let s = 1; s <= 20 && failedAt === 0; s++) {
    gossipRounds(clock, [a, b], 1, random);
    if (la.includes(`peer_failed ${c.id}`)) failedAt = s;
  }
  t.ok(failedAt > 3 && failedAt <= 12, `c convicted after ${failedAt} s of silence (1 s heartbeat, 3 s acceptable pause)`);
  t.ok((a.phi(c.id) ?? 0) >= 8);
  t.deepEqual(a.deadPeers(), [c.id]);
  // c speaks again: alive.
  gossipRounds(clock, [a, b, c], 1, random);
  exchange(c, a);
  t.ok(la.includes(`peer_alive ${c.id}`), 'peer_alive when it returns');
  // c goes for good; a and b remove it after removeAfterMs.
  const staleHolder = node(clock, 9003, opts);
  exchange(c, staleHolder); // staleHolder keeps c's last state and never hears otherwise
  gossipRounds(clock, [a, b], 45, random);
  t.ok(la.includes(`peer_removed ${c.id}`), 'removed after staying dead');
  t.deepEqual(a.allPeers().sort(), [b.id, staleHolder.id].filter((id) => id !== staleHolder.id || a.allPeers().includes(id)).sort());
  // staleHolder still thinks c alive (it never ticked) and gossips c's old state to a.
  exchange(staleHolder, a);
  t.notOk(a.allPeers().includes(c.id), 'stale gossip does not bring c back');
  t.notOk(la.filter((e) => e === `new_peer ${c.id}`).length > 0, 'no new_peer for c');
  t.end();
});

test('a restart is a new life: fresh state wins over the old one', (t) => {
  const random = new Random(3);
  const clock = new FakeClock();
  const a = node(clock, 9000);
  let b = node(clock, 9001);
  b.setLocalState('color', 'red');
  for (let i = 0; i < 50; i++) b.setLocalState('counter', i);
  gossipRounds(clock, [a, b], 3, random);
  t.equal(a.peerValue(b.id, 'counter'), 49);
  const la = events(a);
  clock.advance(500);
  b = node(clock, 9001); // same address, same id, later generation, version starts again at 0
  b.setLocalState('color', 'blue');
  exchange(b, a);
  t.equal(a.peerValue(b.id, 'color'), 'blue', 'the new life\'s value');
  t.equal(a.peerValue(b.id, 'counter'), undefined, 'nothing of the old life remains');
  t.equal(a.peerGeneration(b.id), b.generation);
  t.ok(la.includes(`peer_alive ${b.id}`), 'peer_alive for the new life');
  t.end();
});

test('refutation: a node told of a newer life of its own id moves past it', (t) => {
  const clock = new FakeClock();
  const a = node(clock, 9000);
  const old = node(clock, 9001, { generation: 5000 });
  for (let i = 0; i < 10; i++) old.setLocalState('x', i);
  exchange(old, a);
  // A restart that reuses an older generation (a clock stepped back, a copied config).
  const b = node(clock, 9001, { generation: 4000 });
  b.setLocalState('x', 'fresh');
  let refuted = 0;
  b.on('refute', (generation: number) => (refuted = generation));
  exchange(b, a);
  t.ok(refuted > 5000, `b took generation ${refuted}, above the 5000 a knew`);
  exchange(b, a);
  t.equal(a.peerValue(b.id, 'x'), 'fresh', 'b\'s fresh state now wins everywhere');
  t.end();
});

test('expiry: a key with expiresAt propagates, then disappears on every node', (t) => {
  const random = new Random(11);
  const clock = new FakeClock();
  const nodes = [node(clock, 9000), node(clock, 9001), node(clock, 9002)];
  const [a] = nodes;
  a.setLocalState('lease', 'held', clock.time + 10_000);
  a.setLocalState('forever', 1);
  gossipRounds(clock, nodes, 4, random);
  for (const n of nodes.slice(1)) t.equal(n.peerValue(a.id, 'lease'), 'held', 'propagated');
  const logs = nodes.map(events);
  gossipRounds(clock, nodes, 8, random);
  t.equal(a.getLocalState('lease'), undefined, 'gone at its owner');
  for (const n of nodes.slice(1)) {
    t.equal(n.peerValue(a.id, 'lease'), undefined, 'gone at a peer');
    t.equal(n.peerValue(a.id, 'forever'), 1, 'other keys stay');
  }
  t.ok(logs.every((log) => log.includes(`expire ${a.id} lease`)), 'every node emits expire');
  // An already-expired entry arriving late is dropped on arrival.
  const late = node(clock, 9003);
  late.setLocalState('old', 1, clock.time + 5);
  clock.advance(10);
  exchange(late, nodes[1]);
  t.equal(nodes[1].peerValue(late.id, 'old'), undefined);
  t.end();
});

test('a local pause convicts nobody on waking', (t) => {
  const random = new Random(5);
  const clock = new FakeClock();
  const nodes = [node(clock, 9000), node(clock, 9001), node(clock, 9002)];
  gossipRounds(clock, nodes, 20, random);
  const [sleeper, ...others] = nodes;
  const log = events(sleeper);
  for (const pause of [2000, 5000, 8000]) {
    // The others carry on; the sleeper is frozen (no ticks, no exchanges).
    for (let s = 0; s < pause / 1000; s++) gossipRounds(clock, others, 1, random);
    sleeper.tick(); // wakes: the first tick sees the gap
    t.deepEqual(sleeper.deadPeers(), [], `after a ${pause} ms pause nobody is convicted`);
    gossipRounds(clock, nodes, 5, random);
    t.deepEqual(sleeper.deadPeers(), [], 'nor soon after');
  }
  t.notOk(log.some((e) => e.startsWith('peer_failed')), 'no peer_failed at all');
  t.end();
});

test('judging between rounds: judge() alone convicts a crash, and after a local pause convicts nobody', (t) => {
  const random = new Random(6);
  const clock = new FakeClock();
  const nodes = [node(clock, 9000), node(clock, 9001), node(clock, 9002)];
  gossipRounds(clock, nodes, 20, random);
  const [watcher, crashed] = nodes;
  // crashed goes silent; watcher only judges, every 250 ms, and never ticks.
  let convictedAt: number | undefined;
  for (let ms = 250; ms <= 20_000 && convictedAt === undefined; ms += 250) {
    clock.advance(250);
    watcher.judge();
    if (watcher.deadPeers().includes(crashed.id)) convictedAt = ms;
  }
  t.ok(convictedAt !== undefined, `judge() convicted the silent node after ${convictedAt} ms`);
  // A pause: the first thing to run on waking is judge(), not tick().
  const pair = [node(clock, 9010), node(clock, 9011)];
  gossipRounds(clock, pair, 20, random);
  pair[0].judge();
  clock.advance(8000);
  pair[1].tick();
  pair[0].judge();
  t.deepEqual(pair[0].deadPeers(), [], 'after an 8 s pause, judge() first: nobody convicted');
  t.end();
});

test('aggregates: push-pull averaging estimates size, sum and average', (t) => {
  const random = testRandom('gossip aggregates');
  const clock = new FakeClock(1_700_000_000_000 - (1_700_000_000_000 % 20_000));
  const nodes = Array.from({ length: 12 }, (_, i) => node(clock, 9000 + i));
  nodes.forEach((n, i) => i < 8 && n.setLocalState('load', i + 1)); // 8 publishers: sum 36, average 4.5
  gossipRounds(clock, nodes, 10, random); // membership settles, first epoch running
  gossipRounds(clock, nodes, 40, random); // two full epochs
  for (const n of nodes) {
    const e = n.aggregate('load');
    t.ok(e.settled && Math.abs(e.size - 12) < 0.01 && Math.abs(e.sum - 36) < 0.05 && Math.abs(e.average - 4.5) < 0.01, `${n.id}: size ${e.size.toFixed(3)}, sum ${e.sum.toFixed(3)}, average ${e.average.toFixed(3)}`);
  }
  t.end();
});

test('addresses: host:port, IPv6 in brackets, malformed ones refused', (t) => {
  t.deepEqual(parseAddress('127.0.0.1:9000'), { host: '127.0.0.1', port: 9000 });
  t.deepEqual(parseAddress('[::1]:9000'), { host: '::1', port: 9000 });
  t.deepEqual(parseAddress('node-1.local:80'), { host: 'node-1.local', port: 80 });
  for (const bad of ['', '127.0.0.1', '::1:9000', '[::1]9000', '[zz::1]:9000', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1', '127.0.0.1:9x', `${'a'.repeat(300)}:1`]) {
    t.throws(() => parseAddress(bad), /malformed address/, `refused: ${JSON.stringify(bad)}`);
  }
  const clock = new FakeClock();
  const v6 = new Membership({ address: '[::1]:9000', now: clock.now });
  t.equal(v6.id, '[::1]:9000');
  const other = node(clock, 9001);
  exchange(v6, other);
  t.equal(other.peerAddress('[::1]:9000'), '[::1]:9000', 'an IPv6 address travels in brackets');
  t.end();
});
