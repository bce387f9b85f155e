// Rateless reconciliation of MerkleStores: the difference by coded symbols,
// fallback to the walk, mixed peers, and the maintained symbols.
import test from 'tape';
import { MemoryLevel } from 'memory-level';
import { MerkleStore } from '../../lib/index.js';
import { CodedSymbols, Encoder, SymbolPrefix } from '../../lib/reconcile/index.js';
import type { RatelessSession } from '../../lib/merkle/rateless-session.js';
import { replicate } from '../../lib/stream/replicate.js';
import { testRandom } from '../helpers/seed.js';
import pump from 'pump';
import { PassThrough } from 'node:stream';
import * as lps from 'length-prefixed-stream';
import { decodeState, uint } from '../../lib/codec/index.js';
import { FrameType, type Handshake, handshakeCodec } from '../../lib/stream/frames.js';
import { merkleMessageCodec } from '../../lib/merkle/messages.js';
import type { StreamOptions } from '../../lib/stream/duplex.js';

type Mode = 'merkle' | 'rateless';
const store = (id: string, reconcile: Mode, symbolPrefix = 512) => new MerkleStore<any>({ db: new MemoryLevel(), id, depth: 10, reconcile, symbolPrefix });

/** Fills a and b with `shared` common keys, then `diff` differing writes split between them (some to the same keys). */
async function fill(a: MerkleStore<any>, b: MerkleStore<any>, shared: number, diff: number, seed: number) {
  for (let i = 0; i < shared; i++) {
    await a.put(`s${i}`, i);
  }
  await replicate(a, b, { live: false }).then((r) => r.done);
  for (let i = 0; i < diff; i++) {
    const target = i % 2 ? a : b;
    const key = i % 3 === 0 ? `s${(i * 7 + seed) % shared}` : `d${seed}-${i}`;
    await target.put(key, { i, by: target.id });
  }
}

/** Syncs once (not live) and says how each side reconciled. */
async function syncOnce(a: MerkleStore<any>, b: MerkleStore<any>) {
  const methods: Array<string | undefined> = [];
  const open = [a, b].map((s) => {
    const original = s.openSession.bind(s);
    s.openSession = (o) => {
      const session = original(o);
      methods.push(undefined);
      const at = methods.length - 1;
      const close = session.close.bind(session);
      session.close = () => {
        methods[at] = (session as RatelessSession).method ?? 'walk';
        close();
      };
      return session;
    };
    return () => (s.openSession = original);
  });
  const replication = await replicate(a, b, { live: false });
  await replication.done;
  open.forEach((restore) => restore());
  return methods;
}

test('rateless: two stores decode their difference and converge', async (t) => {
  const random = testRandom('rateless convergence');
  for (const diff of [0, 1, 10, 80]) {
    const [a, b] = [store(`a${diff}`, 'rateless'), store(`b${diff}`, 'rateless')];
    await fill(a, b, 300, diff, random.int(0, 1000));
    const methods = await syncOnce(a, b);
    t.equal(a.rootHash, b.rootHash, `difference ${diff}: same root`);
    t.deepEqual(methods, ['rateless', 'rateless'], `difference ${diff}: reconciled by symbols`);
    t.ok(await a.verifyTree() && await b.verifyTree(), 'trees match the data');
    await a.close();
    await b.close();
  }
});

test('rateless: a difference beyond the symbol budget falls back to the walk', async (t) => {
  const random = testRandom('rateless fallback');
  const [a, b] = [store('a', 'rateless', 16), store('b', 'rateless', 64)];
  await fill(a, b, 100, 120, random.int(0, 1000));
  const methods = await syncOnce(a, b);
  t.equal(a.rootHash, b.rootHash, 'same root');
  t.deepEqual(methods, ['walk', 'walk'], 'both walked');
  await a.close();
  await b.close();
});

test('rateless: a rateless store and a walking store sync by the walk, whichever starts', async (t) => {
  const random = testRandom('rateless mixed');
  for (const [ra, rb] of [['rateless', 'merkle'], ['merkle', 'rateless']] as Array<[Mode, Mode]>) {
    const [a, b] = [store('a', ra), store('b', rb)];
    await fill(a, b, 50, 20, random.int(0, 1000));
    await syncOnce(a, b);
    t.equal(a.rootHash, b.rootHash, `${ra} (initiator) with ${rb}: same root`);
    await a.put('after', 1);
    const live = await replicate(a, b);
    await until(async () => (await b.get('after')).value === 1);
    t.pass('live writes flow after');
    await live.close();
    await a.close();
    await b.close();
  }
});

test('rateless: a key written on both sides keeps both versions; a key written on one side crosses once', async (t) => {
  for (const [first, second] of [['a', 'b'], ['b', 'a']]) {
    const [a, b] = [store(`${first}1`, 'rateless'), store(`${second}1`, 'rateless')];
    for (let i = 0; i < 40; i++) await a.put(`k${i}`, i);
    await syncOnce(a, b);
    // Concurrent: the same key on both sides, b's version sum the larger (it wrote twice).
    await a.put('k1', 'a');
    await b.put('k1', 'b1');
    await b.put('k1', 'b2', { context: (await b.get('k1')).context });
    // One side only, each way.
    await a.put('k2', 'a only');
    await b.put('k3', 'b only');
    const methods = await syncOnce(a, b);
    t.deepEqual(methods, ['rateless', 'rateless'], 'reconciled by symbols');
    t.equal(a.rootHash, b.rootHash, 'same root');
    t.deepEqual((await a.get('k1')).values.sort(), ['a', 'b2'], 'both concurrent versions kept');
    t.equal((await b.get('k2')).value, 'a only', 'a one-sided write crossed');
    t.equal((await a.get('k3')).value, 'b only', 'and the other way');
    await a.close();
    await b.close();
  }
});

test('rateless: live writes during and after the exchange arrive', async (t) => {
  const [a, b] = [store('a', 'rateless'), store('b', 'rateless')];
  await fill(a, b, 100, 30, 1);
  const replication = await replicate(a, b);
  for (let i = 0; i < 20; i++) await (i % 2 ? a : b).put(`live${i}`, i);
  await until(async () => a.rootHash === b.rootHash && (await b.get('live18')).value === 18 && (await a.get('live19')).value === 19);
  t.pass('converged with live writes');
  await replication.close();
  await a.close();
  await b.close();
});

test('rateless: the maintained symbols equal a fresh encoding after random writes and merges', async (t) => {
  const random = testRandom('rateless maintained symbols');
  const [a, b] = [store('a', 'rateless', 200), store('b', 'merkle')];
  await a.open();
  for (let i = 0; i < 150; i++) await a.put(`k${random.int(0, 60)}`, random.int(0, 9));
  for (let i = 0; i < 40; i++) random.chance(0.5) ? await b.put(`k${random.int(0, 80)}`, i) : await a.del(`k${random.int(0, 60)}`);
  await syncOnce(a, b);
  for (let i = 0; i < 30; i++) await a.put(`k${random.int(0, 80)}`, i);
  const prefix = await a.symbols();
  const encoder = new Encoder();
  for await (const batch of a.readBuckets(0, 2 ** a.depth - 1)) for (const [key, record] of batch) encoder.add(MerkleStore.itemOf(key, record));
  const fresh = new CodedSymbols(200);
  for (let i = 0; i < 200; i++) encoder.next(fresh);
  t.ok(prefix.symbols.equals(fresh, 200), 'the 200 maintained symbols equal a fresh encoding of the store');
  const freshSketch = new SymbolPrefix(1);
  for await (const batch of a.readBuckets(0, 2 ** a.depth - 1)) for (const [key, record] of batch) freshSketch.add(MerkleStore.itemOf(key, record));
  t.deepEqual([...prefix.sketch.counts, prefix.sketch.items], [...freshSketch.sketch.counts, freshSketch.sketch.items], 'the maintained difference sketch equals a fresh one');
  // A store that asks for its symbols late (while writing) gets the same.
  const late = store('late', 'merkle');
  const writes = Array.from({ length: 50 }, (_, i) => late.put(`x${i}`, i));
  const symbols = late.symbols();
  await Promise.all(writes);
  const lateEncoder = new Encoder();
  for await (const batch of late.readBuckets(0, 2 ** late.depth - 1)) for (const [key, record] of batch) lateEncoder.add(MerkleStore.itemOf(key, record));
  const lateFresh = new CodedSymbols(512);
  for (let i = 0; i < 512; i++) lateEncoder.next(lateFresh);
  t.ok((await symbols).symbols.equals(lateFresh, 512), 'symbols started during writes equal a fresh encoding');
  await a.close();
  await b.close();
  await late.close();
});

async function until(check: () => Promise<boolean> | boolean, ms = 20000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('rateless: the symbols are saved at a clean close and loaded at open; after a crash they are rebuilt', async (t) => {
  const random = testRandom('rateless saved symbols');
  const db = new MemoryLevel();
  const first = new MerkleStore<any>({ db, id: 'a', depth: 8, reconcile: 'rateless', symbolPrefix: 128 });
  for (let i = 0; i < 200; i++) await first.put(`k${random.int(0, 120)}`, i);
  await first.symbols();
  await first.close();
  const fresh = async (store: MerkleStore<any>) => {
    const encoder = new Encoder();
    for await (const batch of store.readBuckets(0, 2 ** store.depth - 1)) for (const [key, record] of batch) encoder.add(MerkleStore.itemOf(key, record));
    const out = new CodedSymbols(128);
    for (let i = 0; i < 128; i++) encoder.next(out);
    return out;
  };
  const second = new MerkleStore<any>({ db, id: 'a', depth: 8, reconcile: 'rateless', symbolPrefix: 128 });
  await second.open();
  t.equal((second as any).storeSymbols.source, 'saved', 'loaded from the clean close');
  for (let i = 0; i < 50; i++) await second.put(`k${random.int(0, 150)}`, -i);
  t.ok((await second.symbols()).symbols.equals(await fresh(second), 128), 'saved symbols, then writes: equal to a fresh encoding');
  // A crash: the store is abandoned without close; the next open finds no snapshot header.
  const third = new MerkleStore<any>({ db, id: 'a', depth: 8, reconcile: 'rateless', symbolPrefix: 128 });
  await third.open();
  t.equal((third as any).storeSymbols.source, 'scan', 'rebuilt after a crash');
  t.ok((await third.symbols()).symbols.equals(await fresh(third), 128), 'rebuilt symbols equal a fresh encoding');
  await third.close();
  const other = new MerkleStore<any>({ db, id: 'a', depth: 8, reconcile: 'rateless', symbolPrefix: 64 });
  await other.open();
  t.equal((other as any).storeSymbols.source, 'scan', 'a different prefix size is not loaded');
  await other.close();
});

/** What one side put on the wire: its handshake, and the types of its Merkle messages in order. */
interface Said {
  handshake: Handshake | undefined;
  messages: string[];
}

/**
 * Syncs once (not live) through taps that read every frame; `old` names a
 * store whose sessions behave like a peer from before the handshake hello
 * (they have none to give).
 */
async function syncTapped(a: MerkleStore<any>, b: MerkleStore<any>, options: StreamOptions = {}, old?: MerkleStore<any>): Promise<[Said, Said]> {
  const restore = old && (() => {
    const original = old.openSession.bind(old);
    old.openSession = (o) => {
      const session = original(o) as RatelessSession;
      (session as { handshakeHello?: unknown }).handshakeHello = undefined;
      return session;
    };
    return () => (old.openSession = original);
  })();
  const sa = a.createStream({ ...options, live: false });
  const sb = b.createStream({ ...options, live: false });
  restore?.();
  const said: [Said, Said] = [{ handshake: undefined, messages: [] }, { handshake: undefined, messages: [] }];
  const tap = (into: Said) => {
    const through = new PassThrough();
    const frames = lps.decode();
    through.pipe(frames);
    frames.on('data', (frame: Buffer) => {
      if (frame[0] === FrameType.handshake) into.handshake = handshakeCodec.decode(decodeState(frame.subarray(1)));
      if (frame[0] !== FrameType.data) return;
      const body = decodeState(frame.subarray(1));
      for (let count = uint.decode(body); count > 0; count--) into.messages.push(merkleMessageCodec.decode(body).type);
    });
    return through;
  };
  await new Promise<void>((resolve, reject) => pump(sa, tap(said[0]), sb, tap(said[1]), sa, (err) => (err ? reject(err) : resolve())));
  await Promise.all([a.flushed(), b.flushed()]);
  return said;
}

// Which side sent the symbols, read off the wire: the smaller id, unless one handshake answered the other.
const sender = (said: [Said, Said]) => (said[0].messages.includes('symbols') ? said[0] : said[1]);
const decoder = (said: [Said, Said]) => (said[0].messages.includes('symbols') ? said[1] : said[0]);

test('rateless: the sketch rides in the handshake, so the window goes out with the first symbols and no sketch message crosses', async (t) => {
  const random = testRandom('rateless hello');
  for (const diff of [4, 60]) {
    const [a, b] = [store(`a${diff}`, 'rateless'), store(`b${diff}`, 'rateless')];
    await fill(a, b, 200, diff, random.int(0, 1000));
    await Promise.all([a.symbols(), b.symbols()]);
    const said = await syncTapped(a, b);
    t.equal(a.rootHash, b.rootHash, `difference ${diff}: same root`);
    const hellos = said.map((s) => s.handshake?.hello && merkleMessageCodec.decode(decodeState(s.handshake.hello)));
    t.ok(hellos.every((h) => h?.type === 'sketch' && h.counts.length === 64), `difference ${diff}: both handshakes carry a sketch of 64 counters`);
    t.ok(said.every((s) => s.handshake!.hello!.length <= 70), `difference ${diff}: of at most 70 bytes`);
    const out = sender(said).messages;
    t.ok(out.indexOf('window') >= 0 && out.indexOf('window') < out.indexOf('symbols'), `difference ${diff}: the sender announces its window before its first symbols`);
    t.notOk(said.some((s) => s.messages.includes('sketch')), `difference ${diff}: no sketch message`);
    t.ok(decoder(said).messages.includes('decoded'), `difference ${diff}: decoded by symbols`);
    await a.close();
    await b.close();
  }
});

test('rateless: with a peer that gives no hello (an older one), the decoder sends its sketch as a message, either way round', async (t) => {
  const random = testRandom('rateless no hello');
  for (const oldIs of ['sender', 'decoder']) {
    const [a, b] = [store('a', 'rateless'), store('b', 'rateless')];
    await fill(a, b, 200, 40, random.int(0, 1000));
    await Promise.all([a.symbols(), b.symbols()]);
    const said = await syncTapped(a, b, {}, oldIs === 'sender' ? a : b);
    t.equal(a.rootHash, b.rootHash, `older ${oldIs}: same root`);
    t.equal(said.filter((s) => s.handshake?.hello !== undefined).length, 1, `older ${oldIs}: one hello`);
    t.ok(decoder(said).messages.includes('sketch'), `older ${oldIs}: the decoder sent its sketch as a message`);
    t.ok(decoder(said).messages.includes('decoded'), `older ${oldIs}: decoded by symbols`);
    await a.close();
    await b.close();
  }
});

test('rateless: under a network key no hello is sent, the sketch crosses as a message, and the stores converge', async (t) => {
  const random = testRandom('rateless keyed');
  const [a, b] = [store('a', 'rateless'), store('b', 'rateless')];
  await fill(a, b, 200, 30, random.int(0, 1000));
  await Promise.all([a.symbols(), b.symbols()]);
  const said = await syncTapped(a, b, { key: 'a network key of enough bytes' });
  t.equal(a.rootHash, b.rootHash, 'same root');
  t.ok(said.every((s) => s.handshake !== undefined && !('hello' in s.handshake)), 'neither handshake carries a hello');
  t.ok(decoder(said).messages.includes('sketch'), 'the sketch crossed after the proof, as a message');
  await a.close();
  await b.close();
});

test('rateless: a store whose symbols are not loaded when the handshake leaves sends no hello, and still syncs by symbols', async (t) => {
  const random = testRandom('rateless unloaded');
  const db = new MemoryLevel();
  const first = new MerkleStore<any>({ db, id: 'a', depth: 10, reconcile: 'rateless', symbolPrefix: 512 });
  const b = store('b', 'rateless');
  await fill(first, b, 100, 20, random.int(0, 1000));
  await first.close();
  const a = new MerkleStore<any>({ db, id: 'a', depth: 10, reconcile: 'rateless', symbolPrefix: 512 }); // not open yet
  await b.symbols();
  const said = await syncTapped(a, b);
  t.equal(a.rootHash, b.rootHash, 'same root');
  t.equal(said[0].handshake?.hello, undefined, 'no hello from the store that was still opening');
  t.ok(said[1].handshake?.hello !== undefined, 'a hello from the other');
  t.ok(said[1].messages.includes('sketch'), 'so the decoder sent its sketch as a message');
  await a.close();
  await b.close();
});

test('rateless: the side whose handshake answers the other\'s streams the symbols with it, whatever the ids', async (t) => {
  const random = testRandom('rateless answering sender');
  // b has the larger id, so by ids it would decode; it answers a's handshake, as the accepting end of a connection does.
  const [a, b] = [store('a', 'rateless'), store('b', 'rateless')];
  await fill(a, b, 200, 60, random.int(0, 1000));
  await Promise.all([a.symbols(), b.symbols()]);
  const sa = a.createStream({ live: false });
  const first = await new Promise<Buffer>((resolve) =>
    sa.once('data', (chunk: Buffer) => {
      sa.pause();
      resolve(chunk);
    }),
  );
  const sb = b.createStream({ live: false });
  sb.write(first); // a's handshake reaches b before b has sent anything
  const said: [string[][], string[][]] = [[], []];
  const tap = (into: string[][]) => {
    const through = new PassThrough();
    const frames = lps.decode();
    through.pipe(frames);
    frames.on('data', (frame: Buffer) => {
      const types: string[] = [];
      if (frame[0] === FrameType.handshake) types.push(handshakeCodec.decode(decodeState(frame.subarray(1))).answered ? 'handshake, answering' : 'handshake');
      if (frame[0] === FrameType.data) {
        const body = decodeState(frame.subarray(1));
        for (let count = uint.decode(body); count > 0; count--) types.push(merkleMessageCodec.decode(body).type);
      }
      into.push(types);
    });
    return through;
  };
  const toB = tap(said[0]);
  toB.write(first);
  await new Promise<void>((resolve, reject) => pump(sa, toB, sb, tap(said[1]), sa, (err) => (err ? reject(err) : resolve())));
  await Promise.all([a.flushed(), b.flushed()]);
  t.equal(a.rootHash, b.rootHash, 'same root');
  t.deepEqual(said[1][0], ['handshake, answering'], "b's handshake says it answers a's");
  const fromB = said[1].flat();
  t.ok(fromB.indexOf('window') >= 0 && fromB.indexOf('window') < fromB.indexOf('symbols'), 'b, the larger id, announces its window and streams the symbols');
  t.notOk(said[0].flat().includes('symbols'), 'a sends none');
  t.ok(said[0].flat().includes('decoded'), 'a decodes');
  await a.close();
  await b.close();
});
