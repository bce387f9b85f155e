// Seeded frame-mutation fuzzing against every structure's decoders: an
// honest peer's frames, recorded once, are replayed into a fresh server with
// one frame mutated (bits flipped, bytes set, inserted, deleted, truncated).
// Invariants: the server fails only with a coded ReplicationError or takes
// the input; no prototype changes; and a fresh replica synced from the
// server afterwards equals it byte for byte, so whatever was accepted can be
// relayed unchanged.
import test from 'tape';
import fc from 'fast-check';
import pump from 'pump';
import { PassThrough } from 'node:stream';
import * as lps from 'length-prefixed-stream';
import { ReplicationError } from '../../lib/errors.js';
import type { Replica } from '../../lib/session/replica.js';
import { replicate } from '../../lib/stream/replicate.js';
import { wireFrame } from '../helpers/raw-peer.js';
import { propertySeed } from '../helpers/property.js';
import { SUBJECTS } from './subjects.js';
import type { Subject } from './suite.js';

const seed = propertySeed(0x7e57);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x2d) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(frame: Buffer, mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(frame);
  for (const m of mutations) {
    // Byte 0 is the frame type: mutate the body, which is what reaches the structure's decoders.
    const at = 1 + (m.at % Math.max(1, bytes.length - 1));
    switch (m.op) {
      case 'flip':
        if (at < bytes.length) bytes[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (at < bytes.length) bytes[at] = m.byte;
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
    }
  }
  return bytes;
}

/** The frames an honest peer sends the server during one sync: its handshake, then everything else. */
async function record(subject: Subject, server: Replica, peer: Replica): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  const tap = new PassThrough();
  const decoder = lps.decode();
  tap.pipe(decoder);
  decoder.on('data', (frame: Buffer) => frames.push(Buffer.from(frame)));
  const sp = peer.createStream({ live: false });
  const ss = server.createStream({ live: false });
  await new Promise((resolve) => pump(sp, tap, ss, sp, resolve));
  await subject.snapshot(server);
  return frames;
}

/** Feeds `frames` into a stream of `server` and waits until it closes; resolves with its error, if any. */
function feed(server: Replica, frames: Buffer[]): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const stream = server.createStream({ failGraceMs: 20 });
    let failure: Error | undefined;
    stream.on('error', (err) => (failure ??= err));
    stream.resume();
    // A valid input ends quietly (the stream ends); an invalid one closes it with an error.
    const done = () => setImmediate(() => resolve(failure));
    stream.once('close', done);
    stream.once('end', done);
    for (const frame of frames) stream.write(wireFrame(frame));
    stream.end();
  });
}

const prototypes = () => [Object.prototype, Array.prototype, Function.prototype].map((p) => Reflect.ownKeys(p).map(String).sort().join(',')).join('|');

for (const subject of Object.values(SUBJECTS) as Subject[]) {
  test(`${subject.name} fuzz: mutated honest frames never crash, pollute or leave a state that cannot be relayed`, async (t) => {
    // The peer holds what the server lacks, so its frames carry real updates.
    const recorder = await subject.create('fuzz-server');
    await subject.populate(recorder);
    const peer = await subject.create('fuzz-peer');
    await subject.populate(peer);
    const frames = await record(subject, recorder, peer);
    await subject.close?.(recorder);
    await subject.close?.(peer);
    t.ok(frames.length >= 2, `recorded ${frames.length} frames from an honest peer`);
    const before = prototypes();
    const codes = new Map<string, number>();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: frames.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (index, mutations) => {
        runs++;
        const server = await subject.create('fuzz-server');
        await subject.populate(server);
        const input = frames.map((frame, i) => (i === index ? mutate(frame, mutations) : frame));
        const error = await feed(server, input);
        const code = error === undefined ? 'accepted' : error instanceof ReplicationError ? error.code : `uncoded: ${error.message}`;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code.startsWith('uncoded')) throw new Error(`frame ${index} mutated by ${JSON.stringify(mutations)}: ${code}`);
        if (prototypes() !== before || ({} as Record<string, unknown>).polluted !== undefined) throw new Error('a prototype changed');
        const fresh = await subject.create('fuzz-fresh');
        const replication = await replicate(server, fresh, { live: false });
        await replication.done;
        if (replication.error) throw new Error(`a fresh replica could not sync: ${replication.error.message}`);
        const [a, b] = [await subject.snapshot(server), await subject.snapshot(fresh)];
        await subject.close?.(fresh);
        await subject.close?.(server);
        if (a !== b) throw new Error(`frame ${index} mutated by ${JSON.stringify(mutations)}: the server holds what it cannot relay\nserver ${a}\nfresh  ${b}`);
      }),
      { seed, numRuns: RUNS },
    ).then(
      () => t.pass(`${runs} runs; outcomes ${JSON.stringify([...codes])}`),
      (err: Error) => t.fail(err.message),
    );
  });
}
