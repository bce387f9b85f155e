import test from 'tape';
import pump from 'pump';
import type { Duplex, Transform } from 'node:stream';
import { ReplicationError } from '../../lib/errors.js';
import { ReplicationStream, type StreamOptions } from '../../lib/stream/duplex.js';
import { type Replication, replicate } from '../../lib/stream/replicate.js';
import type { Replica } from '../../lib/session/replica.js';
import type { Replicable } from '../../lib/session/contract.js';
import { handshakeFrame, wireFrame } from './raw-peer.js';
import { testRandom } from './seed.js';
import { chunker, randomChunker } from './wire.js';

export interface ComplianceSpec<R extends Replica> {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty replica with this id (and document name, default the structure's own). */
  create(id: string, docName?: string): R;
  /** Makes one local change; `i` counts up from 0 so changes can be distinct. */
  mutate(replica: R, i: number): void | Promise<void>;
  /** Plain data to compare replicas by. */
  state(replica: R): unknown;
  /** Releases a replica's resources (databases); optional. */
  close?(replica: R): void | Promise<void>;
  /** Options every stream of the suite gets (a network key, say); optional. */
  streamOptions?: StreamOptions;
  /** The code a garbage frame from a raw peer fails with. Default ERR_DECODE (ERR_AUTH where a key is needed first). */
  garbageCode?: string;
  /**
   * Two connected ends of a transport (an encrypted channel, say) that every
   * pair of streams in the suite runs over, the first end for the first
   * stream; a raw peer writes into the first end. Default: the streams are
   * piped straight into each other.
   */
  link?: () => Promise<[Duplex, Duplex]>;
}

/**
 * The contract every tendril structure keeps, as tape tests: handshake
 * checks, synced, live and non-live, end, destroy, re-chunked wire, frame
 * limits, garbage input, and one replica serving many streams.
 */
export function compliance<R extends Replica>(spec: ComplianceSpec<R>): void {
  const { name } = spec;
  const json = (r: R) => JSON.stringify(spec.state(r));
  let ids = 0;
  const withOptions = (r: R): R => {
    if (!spec.streamOptions) return r;
    const createStream = r.createStream.bind(r);
    r.createStream = (options?: StreamOptions) => createStream({ ...spec.streamOptions, ...options });
    return r;
  };
  const fresh = (docName?: string) => withOptions(spec.create(`${name}-${++ids}`, docName));
  const populate = async (r: R, from: number, count: number) => {
    for (let i = from; i < from + count; i++) await spec.mutate(r, i);
  };
  const cleanup = async (...replicas: R[]) => {
    for (const r of replicas) await spec.close?.(r);
  };
  /** Runs `sa` and `sb` against each other (through `spec.link` if given, re-chunked by `splits` if given); resolves once all have closed. */
  const wire = async (sa: Duplex, sb: Duplex, splits: [Transform, Transform] | [] = []): Promise<Error | undefined> => {
    const [ab, ba] = splits;
    if (!spec.link) return new Promise((resolve) => pump(...([sa, ab, sb, ba, sa].filter(Boolean) as Duplex[]), (err) => resolve(err ?? undefined)));
    const [ea, eb] = await spec.link();
    const one = (...streams: (Duplex | undefined)[]) => new Promise<Error | undefined>((resolve) => pump(...(streams.filter(Boolean) as Duplex[]), (err) => resolve(err ?? undefined)));
    const [errA, errB] = await Promise.all([one(sa, ab, ea, sa), one(sb, ba, eb, sb)]);
    return errA ?? errB;
  };
  /** `replicate(a, b)`, over `spec.link` when the spec has one. */
  const connect = async (a: R, b: R, options: StreamOptions = {}): Promise<Replication> => {
    if (!spec.link) return replicate(a, b, options);
    const [sa, sb] = [a.createStream(options), b.createStream(options)];
    let firstError: Error | undefined;
    for (const s of [sa, sb]) s.on('error', (err) => (firstError ??= err));
    const done = wire(sa, sb).then(() => undefined);
    await Promise.race([Promise.all([sa, sb].map((s) => (s.synced ? undefined : new Promise((r) => s.once('synced', r))))), done]);
    if (!(sa.synced && sb.synced)) throw firstError ?? new Error('streams closed before they synced');
    return {
      streams: [sa, sb],
      done,
      get error() {
        return firstError;
      },
      async close() {
        sa.close();
        sb.close();
        await done;
      },
    };
  };
  /** The end a raw peer writes its bytes into to reach `stream`: the stream itself, or the far end of `spec.link`. */
  const rawEnd = async (stream: Duplex): Promise<Duplex> => {
    if (!spec.link) return stream;
    const [ea, eb] = await spec.link();
    pump(stream, eb, stream);
    ea.on('error', () => {});
    return ea;
  };

  test(`${name} compliance: two replicas sync, then replicate live`, async (t) => {
    const [a, b] = [fresh(), fresh()];
    await populate(a, 0, 20);
    await populate(b, 100, 20);
    const replication = await connect(a, b);
    t.equal(json(a), json(b), 'identical once synced');
    await populate(a, 200, 5);
    await populate(b, 300, 5);
    await until(() => json(a) === json(b));
    t.pass('live changes arrive both ways');
    await replication.close();
    await cleanup(a, b);
  });

  test(`${name} compliance: live: false ends both streams once synced`, async (t) => {
    const [a, b] = [fresh(), fresh()];
    await populate(a, 0, 10);
    await populate(b, 50, 10);
    const replication = await connect(a, b, { live: false });
    const ended = replication.streams.map(endOf);
    await replication.done;
    t.equal(json(a), json(b), 'identical');
    t.deepEqual(await Promise.all(ended), [true, true], 'both streams ended');
    await cleanup(a, b);
  });

  test(`${name} compliance: end() closes both sides and leaves no listeners`, async (t) => {
    const [a, b] = [fresh(), fresh()];
    const before = [listeners(a), listeners(b)];
    const replication = await connect(a, b);
    await populate(a, 0, 3);
    await replication.close();
    t.deepEqual([listeners(a), listeners(b)], before, 'listener counts restored');
    t.equal(replication.error, undefined, 'no error');
    t.ok(replication.streams.every((s) => s.destroyed || (s as any)._readableState.endEmitted), 'both streams closed');
    await cleanup(a, b);
  });

  for (const field of ['kind', 'name'] as const) {
    test(`${name} compliance: a ${field} mismatch fails both sides with ERR_HANDSHAKE`, async (t) => {
      const [a, b] = [fresh(), fresh()];
      await populate(a, 0, 5);
      await populate(b, 50, 5);
      const [stateA, stateB] = [json(a), json(b)];
      const other: Replicable = {
        descriptor: { ...b.descriptor, [field]: `${b.descriptor[field]}-other` },
        openSession: (o) => b.openSession(o),
      };
      const sa = a.createStream();
      const sb = new ReplicationStream(other, spec.streamOptions);
      const errors = await Promise.all([errorOf(sa), errorOf(sb), wire(sa, sb)]);
      t.equal(errors[0]?.code, 'ERR_HANDSHAKE', `a: ${errors[0]?.message}`);
      t.equal(errors[1]?.code, 'ERR_HANDSHAKE', `b: ${errors[1]?.message}`);
      t.equal(json(a), stateA, 'a untouched');
      t.equal(json(b), stateB, 'b untouched');
      await cleanup(a, b);
    });
  }

  test(`${name} compliance: a version mismatch fails with ERR_PROTOCOL_VERSION`, async (t) => {
    const a = fresh();
    await populate(a, 0, 5);
    const state = json(a);
    const sa = a.createStream();
    const error = errorOf(sa);
    const peer = await rawEnd(sa);
    peer.resume();
    peer.end(handshakeFrame(a.descriptor, { version: 99 })); // a peer that hangs up at once
    t.equal((await error)?.code, 'ERR_PROTOCOL_VERSION');
    t.equal(json(a), state, 'untouched');
    await cleanup(a);
  });

  test(`${name} compliance: the wire re-chunked at every byte and at random points`, async (t) => {
    const random = testRandom(`${name} chunking`);
    for (const split of [() => chunker(1), () => randomChunker(random, 17)]) {
      const [a, b] = [fresh(), fresh()];
      await populate(a, 0, 10);
      await populate(b, 100, 10);
      const sa = a.createStream({ live: false });
      const sb = b.createStream({ live: false });
      const err = await wire(sa, sb, [split(), split()]);
      t.error(err, 'the wire closed without error');
      t.equal(json(a), json(b), 'identical');
      await cleanup(a, b);
    }
  });

  test(`${name} compliance: destroy mid-sync leaves both replicas usable`, async (t) => {
    const [a, b] = [fresh(), fresh()];
    await populate(a, 0, 300);
    const sa = a.createStream({ maxFrameBytes: 1024 });
    const sb = b.createStream({ maxFrameBytes: 1024 });
    const closed = wire(sa, sb);
    sb.once('data', () => sa.destroy());
    await closed;
    t.ok(sa.destroyed, 'destroyed');
    const replication = await connect(a, b);
    t.equal(json(a), json(b), 'a later sync completes');
    await replication.close();
    await cleanup(a, b);
  });

  test(`${name} compliance: an oversized frame fails with ERR_FRAME_TOO_LARGE`, async (t) => {
    const a = fresh();
    await populate(a, 0, 5);
    const state = json(a);
    const sa = a.createStream({ maxFrameBytes: 4096 });
    const error = errorOf(sa);
    const peer = await rawEnd(sa);
    peer.resume();
    peer.write(handshakeFrame(a.descriptor));
    peer.end(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08])); // a length prefix of 2 GiB
    t.equal((await error)?.code, 'ERR_FRAME_TOO_LARGE');
    t.equal(json(a), state, 'untouched');
    await cleanup(a);
  });

  test(`${name} compliance: a garbage frame fails that stream only`, async (t) => {
    const [a, c] = [fresh(), fresh()];
    const healthy = await connect(a, c);
    await populate(a, 0, 5);
    await until(() => json(a) === json(c));
    const state = json(a);
    const bad = a.createStream();
    const error = errorOf(bad);
    const peer = await rawEnd(bad);
    peer.resume();
    peer.write(handshakeFrame(a.descriptor));
    peer.write(wireFrame(Buffer.from([1, 3, 0xff, 0xfe, 0xfd, 0x00])));
    peer.end();
    t.equal((await error)?.code, spec.garbageCode ?? 'ERR_DECODE');
    t.equal(json(a), state, 'replica untouched');
    await populate(c, 100, 3);
    await until(() => json(a) === json(c));
    t.pass('the other stream carries on');
    await healthy.close();
    await cleanup(a, c);
  });

  test(`${name} compliance: one replica serves many streams`, async (t) => {
    const [hub, x, y, z] = [fresh(), fresh(), fresh(), fresh()];
    const links = [await connect(hub, x), await connect(hub, y), await connect(hub, z)];
    await populate(x, 0, 3);
    await populate(y, 100, 3);
    await populate(z, 200, 3);
    await until(() => [x, y, z].every((r) => json(r) === json(hub)));
    t.pass('a star converges through its hub');
    for (const link of links) await link.close();
    await cleanup(hub, x, y, z);
  });
}

function listeners(r: Replica): number {
  return r.eventNames().reduce((n, event) => n + r.listenerCount(event), 0);
}

/** True once the stream's readable side ends, false if it closes without ending. */
function endOf(stream: NodeJS.EventEmitter): Promise<boolean> {
  if ((stream as any)._readableState?.endEmitted) return Promise.resolve(true);
  return new Promise((resolve) => {
    stream.once('end', () => resolve(true));
    stream.once('close', () => resolve(false));
  });
}

/** The ReplicationError the stream fails with; undefined if it closes without one. */
export function errorOf(stream: NodeJS.EventEmitter): Promise<ReplicationError | undefined> {
  return new Promise((resolve) => {
    stream.once('error', (err) => resolve(err instanceof ReplicationError ? err : undefined));
    stream.once('close', () => setImmediate(() => resolve(undefined)));
  });
}

/** Resolves once `check()` holds, polling every `intervalMs`; fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

