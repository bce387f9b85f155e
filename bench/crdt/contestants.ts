// The contestants of the CRDT benchmark, each behind one small interface:
// local adds, a full sync into a fresh replica through a byte stream, and
// live adds over loopback TCP. Elements are `k<i>`; the map-based anchors
// hold them as keys with the value `true`.
import { once } from 'node:events';
import { type AddressInfo, createServer, connect } from 'node:net';
import { PassThrough } from 'node:stream';
import pump from 'pump';
import * as lps from 'length-prefixed-stream';
import * as Y from 'yjs';
import { GSet, Model, ORSet } from '../../lib/index.js';
import { HeapPeak, byteCounter } from '../harness.js';

export interface SyncResult {
  ms: number;
  /** CPU time of the process over the same span (user + system, all threads): steadier than `ms` on a loaded machine. */
  cpuMs: number;
  wireBytes: number;
  heapBytes: number;
  elements: number;
}

export interface Contestant {
  /** Milliseconds for `n` local adds on a replica without peers. */
  localAdds(n: number): number;
  fullSync(n: number): Promise<SyncResult>;
  /** Milliseconds until the other side of a synced TCP link holds all of `n` adds. */
  live(n: number): Promise<number>;
}

async function tcpPair(onServer: (socket: any) => void, onClient: (socket: any) => void): Promise<() => void> {
  const server = createServer(onServer);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  onClient(socket);
  return () => {
    socket.destroy();
    server.close();
  };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setImmediate(poll));
    poll();
  });
}

type Streamable = { createStream(options?: { live?: boolean }): any; readonly size: number };

/** Any tendril replica: the streams and the size are all the benchmark needs. */
function tendril(make: (id: string) => Streamable, add: (r: any, i: number) => void): Contestant {
  return {
    localAdds(n) {
      const a = make('a');
      const start = performance.now();
      for (let i = 0; i < n; i++) add(a, i);
      return performance.now() - start;
    },
    async fullSync(n) {
      const a = make('a');
      for (let i = 0; i < n; i++) add(a, i);
      const heap = new HeapPeak();
      const cpu = process.cpuUsage();
      const start = performance.now();
      const b = make('b');
      const sa = a.createStream({ live: false });
      const sb = b.createStream({ live: false });
      const ab = byteCounter();
      const ba = byteCounter();
      sa.pipe(ab).pipe(sb).pipe(ba).pipe(sa);
      await Promise.all([once(sa, 'synced'), once(sb, 'synced')]);
      const ms = performance.now() - start;
      return { ms, cpuMs: cpuMsSince(cpu), wireBytes: ab.bytes + ba.bytes, heapBytes: heap.stop(), elements: b.size };
    },
    async live(n) {
      const a = make('a');
      const b = make('b');
      let synced!: Promise<unknown>;
      const close = await tcpPair(
        (socket) => {
          socket.setNoDelay(true);
          pump(socket, a.createStream(), socket);
        },
        (socket) => {
          const stream = b.createStream();
          synced = once(stream, 'synced');
          pump(socket, stream, socket);
        },
      );
      await synced;
      const start = performance.now();
      for (let i = 0; i < n; i++) add(a, i);
      await until(() => b.size === n);
      const ms = performance.now() - start;
      close();
      return ms;
    },
  };
}

const yjs: Contestant = {
  localAdds(n) {
    const map = new Y.Doc().getMap('m');
    const start = performance.now();
    // Each set is its own transaction, as an application's single write is.
    for (let i = 0; i < n; i++) map.set(`k${i}`, true);
    return performance.now() - start;
  },
  async fullSync(n) {
    const a = new Y.Doc();
    const map = a.getMap('m');
    for (let i = 0; i < n; i++) map.set(`k${i}`, true);
    const heap = new HeapPeak();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const b = new Y.Doc();
    // Sync steps 1 and 2 of y-protocols: b's state vector goes over, a's missing update comes back.
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
    const ms = performance.now() - start;
    return { ms, cpuMs: cpuMsSince(cpu), wireBytes, heapBytes: heap.stop(), elements: b.getMap('m').size };
  },
  async live(n) {
    const a = new Y.Doc();
    const b = new Y.Doc();
    const mapA = a.getMap('m');
    const mapB = b.getMap('m');
    const close = await tcpPair(
      (socket) => {
        socket.setNoDelay(true);
        const frames = lps.encode();
        frames.pipe(socket);
        a.on('update', (update: Uint8Array) => frames.write(update));
      },
      (socket) => socket.pipe(lps.decode()).on('data', (update: Buffer) => Y.applyUpdate(b, update)),
    );
    const start = performance.now();
    for (let i = 0; i < n; i++) mapA.set(`k${i}`, true);
    await until(() => mapB.size === n);
    const ms = performance.now() - start;
    close();
    return ms;
  },
};

export const contestants: Record<string, Contestant> = {
  orset: tendril((id) => new ORSet({ id }), (r: ORSet, i) => r.add(`k${i}`)),
  gset: tendril((id) => new GSet({ id }), (r: GSet, i) => r.add(`k${i}`)),
  model: tendril((id) => new Model({ id }), (r: Model, i) => r.set(`k${i}`, true)),
  yjs,
};
