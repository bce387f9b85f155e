import test from 'tape';
import { setImmediate as turn } from 'node:timers/promises';
import type { ReplicationStream, StreamOptions } from '../../lib/stream/duplex.js';
import type { Replica } from '../../lib/session/replica.js';
import { until } from './compliance.js';

export interface StalledReaderSpec<R extends Replica> {
  name: string;
  create(id: string): R;
  /** One local write; `i` counts up from 0. */
  mutate(replica: R, i: number): void;
  /** Plain data to compare replicas by. */
  state(replica: R): unknown;
  /** A cheap summary of the state (a size, a length), polled until equal before `state` is compared. Default `state`. */
  progress?(replica: R): unknown;
  /** The bound the writer's live queue must keep. */
  bound: number;
  /** Writes made while the reader is stalled. Default 400,000. */
  writes?: number;
}

/** What the tests read of a session: its live queue's length. */
type Queued = { queued: number };

/**
 * A reader that stops reading must not grow the writer's memory: with the
 * reader stalled and many writes behind it, the writer's live queue for
 * that peer never passes its bound; once the reader reads again it
 * converges (through the fresh catch-up that replaced the dropped queue).
 */
export function stalledReader<R extends Replica>(spec: StalledReaderSpec<R>, options: StreamOptions = {}): void {
  test(`${spec.name}: a stalled reader keeps the writer's live queue bounded, then converges`, async (t) => {
    const writes = spec.writes ?? 400_000;
    const writer = spec.create('writer');
    const reader = spec.create('reader');
    // The reader stops reading on purpose, for longer than the idle timeout on a busy machine: no idle timeout here.
    const out: ReplicationStream = writer.createStream({ idleTimeoutMs: 0, ...options });
    const back: ReplicationStream = reader.createStream({ idleTimeoutMs: 0, ...options });
    out.pipe(back).pipe(out);
    await until(() => out.synced && back.synced);

    out.unpipe(back); // the reader stops taking what the writer sends
    const session = out.protocol.session as unknown as Queued;
    let most = 0;
    for (let i = 0; i < writes; i++) {
      spec.mutate(writer, i);
      // Sampled: a session that follows its replica's table (the Model's) counts its backlog by walking it.
      if (i % 500 === 0 || i === writes - 1) most = Math.max(most, session.queued);
      if (i % 5_000 === 4_999) await turn(); // the stream gets its turns: only the reader is stalled
    }
    t.ok(most > 0, `the live queue was used (most ${most} items)`);
    t.ok(most <= spec.bound, `the live queue stayed within its bound: most ${most} <= ${spec.bound}`);

    out.pipe(back); // reading again
    const progress = (r: R) => JSON.stringify((spec.progress ?? spec.state)(r));
    await until(() => progress(writer) === progress(reader), 120_000, 100);
    const json = (r: R) => JSON.stringify(spec.state(r));
    await until(() => json(writer) === json(reader), 30_000, 500);
    t.pass(`the reader converged after ${writes} writes`);
    out.unpipe(back);
    back.unpipe(out);
    out.destroy();
    back.destroy();
  });
}
