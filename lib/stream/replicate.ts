import pump from 'pump';
import type { Duplex } from 'node:stream';
import type { StreamOptions } from './duplex.js';

/** Anything with `createStream()`: every tendril structure. */
export interface Streamable {
  createStream(options?: StreamOptions): Duplex & { synced?: boolean };
}

export interface Replication {
  /** The two streams: `a`'s and `b`'s. */
  readonly streams: [Duplex, Duplex];
  /** Resolves when both streams have closed (after `close()`, a non-live sync, or an error). */
  readonly done: Promise<void>;
  /** The first error either stream failed with, if any. */
  readonly error: Error | undefined;
  /** Ends both streams and waits until they have closed. */
  close(): Promise<void>;
}

/**
 * Pipes `a.createStream()` and `b.createStream()` into each other with
 * `pump`, and resolves once both sides are synced. Rejects with the stream's
 * coded error if replication fails first.
 */
export function replicate(a: Streamable, b: Streamable, options: StreamOptions = {}, optionsB: StreamOptions = options): Promise<Replication> {
  const sa = a.createStream(options);
  const sb = b.createStream(optionsB);
  let firstError: Error | undefined;
  const onError = (err: Error) => (firstError ??= err);
  sa.on('error', onError);
  sb.on('error', onError);
  const done = new Promise<void>((resolve) => pump(sa, sb, sa, () => resolve()));
  const synced = Promise.all([whenSynced(sa), whenSynced(sb)]);
  const replication: Replication = {
    streams: [sa, sb],
    done,
    get error() {
      return firstError;
    },
    async close() {
      // A graceful end where the stream has one: writes made before the close are delivered.
      for (const stream of [sa, sb] as (Duplex & { close?: () => void })[]) {
        if (typeof stream.close === 'function') stream.close();
        else stream.end();
      }
      await done;
    },
  };
  return Promise.race([
    synced.then(() => replication),
    done.then(() => {
      // Both streams closed: fine if they had synced (a non-live sync), an error otherwise.
      if (sa.synced && sb.synced) return replication;
      throw firstError ?? new Error('streams closed before they synced');
    }),
  ]);
}

function whenSynced(stream: Duplex & { synced?: boolean }): Promise<void> {
  return stream.synced ? Promise.resolve() : new Promise((resolve) => stream.once('synced', () => resolve()));
}
