import test from 'tape';
import type { AddressInfo, Server } from 'node:net';
import { connect as netConnect } from 'node:net';
import pump from 'pump';
import { ReplicationError, type ErrorCode } from '../../lib/errors.js';
import { encode, type Codec } from '../../lib/codec/index.js';
import { uint } from '../../lib/codec/primitives.js';
import { FrameType } from '../../lib/stream/frames.js';
import type { StreamOptions } from '../../lib/stream/duplex.js';
import type { Replica } from '../../lib/session/replica.js';
import { listen } from '../../lib/transport/net.js';
import { handshakeFrame } from '../helpers/raw-peer.js';
import { type AttackPlan, type AttackResult, attack, dataFrame, rawDataFrame } from './attacker.js';

/** One structure under attack: how to make it, fill it, and compare two of its replicas byte for byte. */
export interface Subject<R extends Replica = any> {
  name: string;
  /** A fresh, empty (and open) replica with this id. */
  create(id: string): R | Promise<R>;
  /** Some honest state, so that "unchanged" means something. */
  populate(replica: R): void | Promise<void>;
  /** Everything the replica holds, in a form where two replicas are equal exactly when they hold the same bytes. */
  snapshot(replica: R): string | Promise<string>;
  /** The structure's session codec: what the raw peer speaks. */
  codec(replica: R): Codec<any>;
  /** The messages an honest peer opens with, so that the server takes our updates. */
  opening(replica: R): unknown[];
  close?(replica: R): void | Promise<void>;
}

export interface HostileCase<R extends Replica = any> {
  name: string;
  /**
   * What the attacker sends. Frames go after the handshake and the
   * subject's opening (unless `noOpening`, or no handshake is sent).
   */
  plan(server: R): (AttackPlan & { noOpening?: boolean }) | Promise<AttackPlan & { noOpening?: boolean }>;
  /** The code the attacker must be told, or `'accepted'` for input that is valid (then the state may change). */
  expect: ErrorCode | ErrorCode[] | 'accepted';
  /** Server stream options for this case (short timeouts). */
  server?: StreamOptions;
}

/**
 * Frame-level attacks that apply to every structure: framing, handshake
 * and envelope abuse. A structure's own cases come on top.
 */
export function genericCases(): HostileCase[] {
  return [
    { name: 'unknown frame type', expect: 'ERR_DECODE', plan: () => ({ frames: [Buffer.from([0x7f])] }) },
    // Defect 7: peers that never speak, or trickle.
    { name: 'a peer that never sends its handshake', expect: 'ERR_TIMEOUT', server: { handshakeTimeoutMs: 200 }, plan: () => ({ handshake: false }) },
    { name: 'slowloris: half a frame, then silence', expect: 'ERR_TIMEOUT', server: { idleTimeoutMs: 300 }, plan: () => ({ raw: Buffer.from([0x40, 1, 0]) }) },
    { name: 'empty frames only (they are not frames)', expect: 'ERR_TIMEOUT', server: { idleTimeoutMs: 300 }, plan: () => ({ raw: Buffer.alloc(16) }) },
    { name: 'data frame that promises two messages and holds none', expect: 'ERR_DECODE', plan: () => ({ frames: [Buffer.from([FrameType.data, 2])] }) },
    { name: 'data frame with an unknown message tag', expect: 'ERR_DECODE', plan: () => ({ frames: [rawDataFrame(Buffer.from([0x7e, 0, 0, 0]))] }) },
    {
      name: 'data frame count as an overlong varint',
      expect: 'ERR_DECODE',
      plan: () => ({ frames: [Buffer.from([FrameType.data, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])] }),
    },
    { name: 'data frame with a count of 2^53', expect: ['ERR_DECODE', 'ERR_LIMIT'], plan: () => ({ frames: [Buffer.concat([Buffer.from([FrameType.data]), encode(uint, Number.MAX_SAFE_INTEGER)])] }) },
    { name: 'synced marker with trailing bytes', expect: 'ERR_DECODE', plan: () => ({ frames: [Buffer.from([FrameType.synced, 0])] }) },
    { name: 'second handshake', expect: 'ERR_DECODE', plan: (s) => ({ frames: [handshakeBody(s)] }) },
    { name: 'data before the handshake', expect: 'ERR_HANDSHAKE', plan: () => ({ handshake: false, frames: [rawDataFrame()] }) },
    { name: 'handshake with the server\'s own replica id', expect: 'ERR_HANDSHAKE', plan: (s) => ({ handshake: { id: s.descriptor.id } }) },
    { name: 'handshake for another document', expect: 'ERR_HANDSHAKE', plan: () => ({ handshake: { name: 'another document' } }) },
    { name: 'handshake for another structure kind', expect: 'ERR_HANDSHAKE', plan: () => ({ handshake: { kind: 'not-a-kind' } }) },
    { name: 'handshake of another protocol version', expect: 'ERR_PROTOCOL_VERSION', plan: () => ({ handshake: { version: 99 } }) },
    { name: 'handshake with a cluster name the server does not have', expect: 'ERR_HANDSHAKE', plan: () => ({ handshake: { cluster: 'other' } }) },
    { name: 'length prefix of 2 GiB', expect: 'ERR_FRAME_TOO_LARGE', plan: () => ({ raw: Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]) }) },
    { name: 'length prefix of 2^53', expect: 'ERR_FRAME_TOO_LARGE', plan: () => ({ raw: encode(uint, Number.MAX_SAFE_INTEGER) }) },
    { name: 'endless 0x80 varint as a length prefix', expect: ['ERR_FRAME_TOO_LARGE', 'ERR_DECODE'], plan: () => ({ raw: Buffer.alloc(64, 0x80) }) },
    {
      name: 'error frame with an out-of-range code closes quietly',
      expect: 'accepted',
      plan: () => ({ frames: [Buffer.concat([Buffer.from([FrameType.error]), encode(uint, 3), Buffer.from('bad'), encode(uint, 1), Buffer.from('x')])] }),
    },
  ];
}

function handshakeBody(server: Replica): Buffer {
  // The raw peer's helper frames it with its length prefix; strip that to send it again as a body.
  const framed = handshakeFrameFor(server);
  const prefix = uint.decode({ buffer: framed, offset: 0, end: framed.length, depth: 0, limits: { maxBytes: 1 << 20, maxItems: 1 << 20, maxDepth: 64 } });
  return framed.subarray(framed.length - prefix);
}

function handshakeFrameFor(server: Replica): Buffer {
  return handshakeFrame(server.descriptor, { id: 'attacker' });
}

const PROTOTYPES: object[] = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype, Map.prototype, Set.prototype];
function prototypeNames(): string {
  return PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort().join(',')).join('|');
}

/**
 * Runs `cases` (and the generic ones) against one TCP server of `subject`.
 * After each case: the server still serves, the attacker was told a coded
 * error and disconnected, the server's state is what it was, no prototype
 * changed, and a fresh replica synced from the server equals it byte for byte.
 */
export function hostileSuite<R extends Replica>(subject: Subject<R>, cases: HostileCase<R>[], options: { generic?: boolean } = {}): void {
  const all = [...(options.generic === false ? [] : (genericCases() as HostileCase<R>[])), ...cases];
  let server: R;
  let fresh = 0;
  const prototypes = prototypeNames();

  test(`${subject.name} hostile: set up a populated server`, async (t) => {
    server = await subject.create(`${subject.name}-server`);
    await subject.populate(server);
    t.pass('populated');
  });

  for (const hostile of all) {
    test(`${subject.name} hostile: ${hostile.name}`, async (t) => {
      const tcp = await listen(server, 0, '127.0.0.1', { failGraceMs: 200, ...hostile.server });
      const serverErrors: unknown[] = [];
      tcp.on('peerError', (err) => serverErrors.push(err));
      try {
        const before = await subject.snapshot(server);
        const plan = await hostile.plan(server);
        const frames = [...(plan.frames ?? [])];
        if (plan.handshake !== false && !plan.noOpening) frames.unshift(dataFrame(subject.codec(server), subject.opening(server)));
        const accepted = hostile.expect === 'accepted';
        let result: AttackResult;
        try {
          result = await attack(portOf(tcp), server.descriptor, { ...plan, frames, end: plan.end ?? accepted });
        } catch (err) {
          t.fail((err as Error).message);
          return;
        }
        if (accepted) {
          t.equal(result.code, undefined, 'valid input is not refused');
        } else {
          const expected = Array.isArray(hostile.expect) ? hostile.expect : [hostile.expect];
          t.ok(result.code !== undefined && (expected as string[]).includes(result.code), `attacker told ${result.code}, expected ${expected.join(' or ')}`);
          t.ok(serverErrors.every((e) => e instanceof ReplicationError), 'the server side failed with coded errors only');
          t.equal(await subject.snapshot(server), before, 'server state unchanged');
        }
        t.equal(prototypeNames(), prototypes, 'no prototype changed');
        t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype not polluted');
        const replica = await subject.create(`${subject.name}-fresh-${++fresh}`);
        const synced = await syncFrom(portOf(tcp), replica);
        t.equal(synced, undefined, `a fresh replica syncs from the server${synced ? `: ${synced}` : ''}`);
        t.equal(await subject.snapshot(replica), await subject.snapshot(server), 'the fresh replica equals the server byte for byte');
        await subject.close?.(replica);
      } finally {
        await new Promise((resolve) => tcp.close(resolve));
      }
    });
  }

  test(`${subject.name} hostile: tear down`, async (t) => {
    await subject.close?.(server);
    t.pass('closed');
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Syncs `replica` from the server once (live: false); resolves with the error message, if any. */
function syncFrom(port: number, replica: Replica): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    const stream = replica.createStream({ live: false });
    let failure: string | undefined;
    stream.on('error', (err) => (failure ??= `${(err as ReplicationError).code}: ${err.message}`));
    pump(socket, stream, socket, () => resolve(failure));
  });
}
