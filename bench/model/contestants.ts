// The replicas compared by the Model benchmark, each behind the same small
// interface: build a source replica, full-sync it into a fresh one through a
// byte stream, and stream live writes over loopback TCP.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer, connect } from 'node:net';
import { PassThrough, Transform } from 'node:stream';
import pump from 'pump';
import * as lps from 'length-prefixed-stream';
import * as Y from 'yjs';
import * as Automerge from '@automerge/automerge';
import { Model } from '../../lib/index.js';
import { Stopwatch } from '../harness.js';
import { MemoryPeak } from './memory-peak.js';

const require = createRequire(import.meta.url);
const ScuttlebuttModel = require('scuttlebutt/model');

export interface SyncResult {
  ms: number;
  /** CPU time of the process (all its threads) over the same span: steadier than `ms` on a loaded machine. */
  cpuMs: number;
  wireBytes: number;
  heapBytes: number;
  /** Heap and ArrayBuffer memory at its peak (typed arrays live outside the heap). */
  totalBytes: number;
  keys: number;
}

export interface Contestant {
  name: string;
  /** Full sync of `n` keys (k<i> -> v<i>) into a fresh replica. */
  fullSync(n: number): Promise<SyncResult>;
  /** `n` sets on one side after the TCP streams are synced; ms until the other side has them all. */
  live?(n: number): Promise<{ ms: number; cpuMs: number }>;
}

function byteCounter(): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk, _enc, cb) {
      t.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/** Pipes two duplexes through byte counters; resolves with the bytes once `done` resolves. */
async function countedPipe(a: any, b: any, done: Promise<unknown>): Promise<number> {
  const ab = byteCounter();
  const ba = byteCounter();
  a.pipe(ab).pipe(b).pipe(ba).pipe(a);
  await done;
  return ab.bytes + ba.bytes;
}

async function tcpPair(onServer: (socket: any) => void, onClient: (socket: any) => void): Promise<() => void> {
  const server = createServer(onServer);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  onClient(socket);
  return () => {
    socket.destroy();
    server.close();
  };
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setImmediate(poll));
    poll();
  });
}

export const tendril: Contestant = {
  name: 'tendril Model',
  async fullSync(n) {
    const a = new Model({ id: 'a' });
    for (let i = 0; i < n; i++) a.set(`k${i}`, `v${i}`);
    const heap = new MemoryPeak();
    const watch = new Stopwatch();
    const b = new Model({ id: 'b' });
    const sa = a.createStream({ live: false });
    const sb = b.createStream({ live: false });
    const wireBytes = await countedPipe(sa, sb, Promise.all([once(sa, 'synced'), once(sb, 'synced')]));
    const { ms, cpuMs } = watch.stop();
    return { ms, cpuMs, wireBytes, ...heap.stop(), keys: b.size };
  },
  async live(n) {
    const a = new Model({ id: 'a' });
    const b = new Model({ id: 'b' });
    let synced!: Promise<unknown>;
    const close = await tcpPair(
      (socket) => pump(socket, a.createStream(), socket),
      (socket) => {
        const stream = b.createStream();
        synced = once(stream, 'synced');
        pump(socket, stream, socket);
      },
    );
    await synced;
    const watch = new Stopwatch();
    for (let i = 0; i < n; i++) a.set(`k${i}`, `v${i}`);
    await until(() => b.size === n);
    const { ms, cpuMs } = watch.stop();
    close();
    return { ms, cpuMs };
  },
};

export const scuttlebutt: Contestant = {
  name: 'scuttlebutt 5.6 Model',
  async fullSync(n) {
    const a = new ScuttlebuttModel();
    for (let i = 0; i < n; i++) a.set(`k${i}`, `v${i}`);
    const heap = new MemoryPeak();
    const watch = new Stopwatch();
    const b = new ScuttlebuttModel();
    const sa = a.createStream();
    const sb = b.createStream();
    const wireBytes = await countedPipe(sa, sb, Promise.all([once(sa, 'synced'), once(sb, 'synced')]));
    const { ms, cpuMs } = watch.stop();
    return { ms, cpuMs, wireBytes, ...heap.stop(), keys: Object.keys(b.toJSON()).length };
  },
  async live(n) {
    const a = new ScuttlebuttModel();
    const b = new ScuttlebuttModel();
    let received = 0;
    b.on('update', () => received++);
    let synced!: Promise<unknown>;
    const close = await tcpPair(
      (socket) => socket.pipe(a.createStream()).pipe(socket),
      (socket) => {
        const stream = b.createStream();
        synced = once(stream, 'synced');
        socket.pipe(stream).pipe(socket);
      },
    );
    await synced;
    received = 0;
    const watch = new Stopwatch();
    for (let i = 0; i < n; i++) a.set(`k${i}`, `v${i}`);
    await until(() => received >= n);
    const { ms, cpuMs } = watch.stop();
    close();
    return { ms, cpuMs };
  },
};

export const yjs: Contestant = {
  name: 'yjs Y.Map',
  async fullSync(n) {
    const a = new Y.Doc();
    const map = a.getMap('m');
    a.transact(() => {
      for (let i = 0; i < n; i++) map.set(`k${i}`, `v${i}`);
    });
    const heap = new MemoryPeak();
    const watch = new Stopwatch();
    const b = new Y.Doc();
    // Sync step 1 and 2 of y-protocols: b's state vector goes over, a's missing update comes back.
    const toA = new PassThrough();
    const toB = new PassThrough();
    let wireBytes = 0;
    const applied = new Promise<void>((resolve) => {
      toA.on('data', (sv: Buffer) => {
        const update = Y.encodeStateAsUpdate(a, sv);
        wireBytes += update.length;
        toB.write(update);
      });
      toB.on('data', (update: Buffer) => {
        Y.applyUpdate(b, update);
        resolve();
      });
    });
    const sv = Y.encodeStateVector(b);
    wireBytes += sv.length;
    toA.write(sv);
    await applied;
    const { ms, cpuMs } = watch.stop();
    return { ms, cpuMs, wireBytes, ...heap.stop(), keys: b.getMap('m').size };
  },
  async live(n) {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const mapA = a.getMap('m');
    const mapB = b.getMap('m');
    const close = await tcpPair(
      (socket) => {
        const frames = lps.encode();
        frames.pipe(socket);
        a.on('update', (update: Uint8Array) => frames.write(update));
      },
      (socket) => socket.pipe(lps.decode()).on('data', (update: Buffer) => Y.applyUpdate(b, update)),
    );
    const watch = new Stopwatch();
    for (let i = 0; i < n; i++) mapA.set(`k${i}`, `v${i}`);
    await until(() => mapB.size === n);
    const { ms, cpuMs } = watch.stop();
    close();
    return { ms, cpuMs };
  },
};

export const automerge: Contestant = {
  name: 'automerge 3',
  async fullSync(n) {
    let a = Automerge.init<Record<string, string>>();
    a = Automerge.change(a, (doc) => {
      for (let i = 0; i < n; i++) doc[`k${i}`] = `v${i}`;
    });
    const heap = new MemoryPeak();
    const watch = new Stopwatch();
    let b = Automerge.init<Record<string, string>>();
    let stateA = Automerge.initSyncState();
    let stateB = Automerge.initSyncState();
    let wireBytes = 0;
    // The sync protocol, message by message, until neither side has anything to say.
    for (let quiet = false; !quiet; ) {
      quiet = true;
      let message: Uint8Array | null;
      [stateA, message] = Automerge.generateSyncMessage(a, stateA);
      if (message) {
        quiet = false;
        wireBytes += message.length;
        [b, stateB] = Automerge.receiveSyncMessage(b, stateB, message);
      }
      [stateB, message] = Automerge.generateSyncMessage(b, stateB);
      if (message) {
        quiet = false;
        wireBytes += message.length;
        [a, stateA] = Automerge.receiveSyncMessage(a, stateA, message);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { ms, cpuMs } = watch.stop();
    return { ms, cpuMs, wireBytes, ...heap.stop(), keys: Object.keys(b).length };
  },
};

export const contestants: Record<string, Contestant> = { tendril, scuttlebutt, yjs, automerge };
