import { type Socket, connect as netConnect } from 'node:net';
import * as lps from 'length-prefixed-stream';
import { decode, encode, readCount, type Codec } from '../../lib/codec/index.js';
import { uint } from '../../lib/codec/primitives.js';
import { FrameType, type Handshake, errorCodec } from '../../lib/stream/frames.js';
import type { Descriptor } from '../../lib/session/contract.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';

/** The body of a data frame carrying `messages`, encoded with the structure's own session codec. */
export function dataFrame<M>(codec: Codec<M>, messages: M[]): Buffer {
  const parts = messages.map((m) => encode(codec, m));
  return Buffer.concat([Buffer.from([FrameType.data]), encode(uint, messages.length), ...parts]);
}

/** The body of a data frame around messages already in bytes (hand-made ones). */
export function rawDataFrame(...messages: Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.from([FrameType.data]), encode(uint, messages.length), ...messages]);
}

export interface AttackPlan {
  /** The handshake to send (fields overridden), or `false` to send none. Default a valid one. */
  handshake?: Partial<Handshake> | false;
  /** Frame bodies to send after the handshake, each length-prefixed. */
  frames?: Uint8Array[];
  /** Bytes to send as they are after the frames (a bad length prefix, half a frame). */
  raw?: Uint8Array;
  /** End our side once everything is sent (a peer whose frames are valid is then done). Default false. */
  end?: boolean;
}

export interface AttackResult {
  /** The code of the error frame the server sent, if any. */
  code: string | undefined;
  /** The frames the server sent us, in order (the handshake first). */
  received: Buffer[];
}

/** Longest a server may take to drop an attacker before the case fails: a bound, not a timing assertion. */
const DISCONNECT_BOUND_MS = 15_000;

/**
 * A raw TCP peer: it completes the handshake of the structure at `port`
 * (or deliberately does not), sends hand-made frames, and reports what the
 * server answered once the server has hung up. Rejects if the server keeps
 * the connection open past a generous bound.
 */
export function attack(port: number, descriptor: Descriptor, plan: AttackPlan): Promise<AttackResult> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const decoder = lps.decode({ limit: 64 << 20 });
    socket.pipe(decoder);
    decoder.on('data', (frame: Buffer) => received.push(frame));
    decoder.on('error', () => {});
    socket.on('error', () => {}); // a reset is one way to be disconnected
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not disconnect the attacker within ${DISCONNECT_BOUND_MS} ms`));
    }, DISCONNECT_BOUND_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      // Let the decoder hand over what it still holds.
      setImmediate(() => resolve({ code: errorCode(received), received }));
    });
    socket.once('connect', () => {
      socket.setNoDelay(true);
      const out: Uint8Array[] = [];
      if (plan.handshake !== false) out.push(handshakeFrame(descriptor, { id: 'attacker', ...(plan.handshake ?? {}) }));
      for (const frame of plan.frames ?? []) out.push(wireFrame(frame));
      if (plan.raw) out.push(plan.raw);
      if (out.length > 0) socket.write(Buffer.concat(out));
      if (plan.end) socket.end();
    });
  });
}

function errorCode(frames: Buffer[]): string | undefined {
  for (const frame of frames) {
    if (frame[0] !== FrameType.error) continue;
    try {
      return decode(errorCodec, frame.subarray(1)).code;
    } catch {
      return 'undecodable error frame';
    }
  }
  return undefined;
}

/** The data frames the server sent, decoded with `codec` (to learn what the server holds, as a peer would). */
export function receivedMessages<M>(codec: Codec<M>, frames: Buffer[]): M[] {
  const messages: M[] = [];
  for (const frame of frames) {
    if (frame[0] !== FrameType.data) continue;
    const state = { buffer: frame, offset: 1, end: frame.length, depth: 0, limits: { maxBytes: 1 << 20, maxItems: 1 << 20, maxDepth: 64 } };
    const count = readCount(state);
    for (let i = 0; i < count; i++) messages.push(codec.decode(state));
  }
  return messages;
}
