import { Readable } from 'node:stream';
import * as lps from 'length-prefixed-stream';
import { DEFAULT_LIMITS, bytes, decode, encode, string, struct, uint } from '../codec/index.js';
import { errors } from '../errors.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../session/contract.js';
import type { Scuttlebutt } from './scuttlebutt.js';
import type { Clock } from './messages.js';
import type { Update } from './update.js';

const FORMAT = 'tendril-snapshot';
const FORMAT_VERSION = 1;
const header = struct({ format: string, version: uint, kind: string, name: string });

/**
 * A replica's whole state as a byte stream (write it to a file): a header,
 * then the same messages a peer would receive, each length-prefixed: the
 * digest first, then every retained update, source by source. Produced
 * lazily, as fast as the reader takes it.
 */
export function createSnapshotStream<U extends Update>(replica: Scuttlebutt<U>): Readable {
  const { kind, name } = replica.descriptor;
  const session = replica.openSession({
    live: false,
    readable: true,
    writable: false,
    maxMessageBytes: DEFAULT_MAX_FRAME_BYTES / 2,
    limits: DEFAULT_LIMITS,
  });
  // The reader is a peer that has nothing.
  session.start({ id: '', readable: false, writable: true, live: false });
  session.receive({ type: 'digest', clock: [] });
  // The session's own codec: a structure's session may send message forms of its own (the same bytes).
  const codec = session.codec;
  function* frames(): Generator<Buffer> {
    try {
      yield encode(bytes, encode(header, { format: FORMAT, version: FORMAT_VERSION, kind, name }));
      for (let message = session.pull(); message !== undefined; message = session.pull()) {
        yield encode(bytes, encode(codec, message));
      }
    } finally {
      session.close();
    }
  }
  return Readable.from(frames(), { objectMode: false });
}

/** Loads a snapshot stream into `replica`, merging it with what the replica holds. */
export function loadSnapshot<U extends Update>(replica: Scuttlebutt<U>, input: NodeJS.ReadableStream): Promise<void> {
  const frames = lps.decode({ limit: DEFAULT_MAX_FRAME_BYTES });
  let headerSeen = false;
  let clock: Clock | undefined; // applied last: raising high-water marks first would drop the updates
  const apply = (frame: Buffer) => {
    if (!headerSeen) {
      headerSeen = true;
      return checkHeader(replica, decode(header, frame));
    }
    const message = decode(replica.messageCodec, frame);
    if (message.type === 'digest') clock = new Map(message.clock.map(({ source, ts }) => [source, ts]));
    else for (const update of message.updates) replica.ingest(update);
  };
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      input.unpipe?.(frames);
      frames.destroy();
      reject(/larger than max length/.test(err.message) ? errors.frameTooLarge(DEFAULT_MAX_FRAME_BYTES) : err);
    };
    frames.on('data', (frame: Buffer) => {
      try {
        apply(frame);
      } catch (err) {
        fail(err as Error);
      }
    });
    frames.on('error', fail);
    input.on('error', fail);
    frames.on('end', () => {
      if (!headerSeen) return reject(errors.decode('empty snapshot stream'));
      if (clock) replica.restoreClock(clock);
      resolve();
    });
    input.pipe(frames);
  });
}

function checkHeader(replica: Scuttlebutt<any>, h: { format: string; version: number; kind: string; name: string }): void {
  const own = replica.descriptor;
  if (h.format !== FORMAT || h.version !== FORMAT_VERSION) throw errors.decode(`not a ${FORMAT} v${FORMAT_VERSION} stream`);
  if (h.kind !== own.kind || h.name !== own.name) {
    throw errors.handshake(`snapshot of ${h.kind} ${JSON.stringify(h.name)} cannot load into ${own.kind} ${JSON.stringify(own.name)}`);
  }
}
