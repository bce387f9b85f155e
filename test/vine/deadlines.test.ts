import test from 'tape';
import { Deadlines, type TimerHost } from '../../lib/vine/deadlines.js';
import { testRandom } from '../helpers/seed.js';

/** A clock that moves only when told, with timers that fire as it passes them. */
class FakeTime implements TimerHost {
  t = 0;
  private timers = new Map<number, { at: number; fire: () => void }>();
  private nextId = 1;
  now = () => this.t;
  setTimer = (fire: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fire });
    return id;
  };
  clearTimer = (handle: unknown) => void this.timers.delete(handle as number);
  get armed(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let first: [number, { at: number; fire: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = first[1].at;
      first[1].fire();
    }
    this.t = end;
  }
}

test('deadlines: fire in order after their timeout, one timer for all', (t) => {
  const time = new FakeTime();
  const deadlines = new Deadlines(time);
  const fired: string[] = [];
  deadlines.add(100, () => fired.push('a'));
  time.advance(10);
  deadlines.add(100, () => fired.push('b'));
  t.equal(time.armed, 1, 'one timer for two deadlines');
  time.advance(89);
  t.deepEqual(fired, [], 'nothing before its time');
  time.advance(1);
  t.deepEqual(fired, ['a'], 'the first at 100 ms');
  time.advance(10);
  t.deepEqual(fired, ['a', 'b'], 'the second 100 ms after it was made');
  t.equal(time.armed, 0, 'no timer left when nothing is pending');
  t.equal(deadlines.pending, 0);
  t.end();
});

test('deadlines: a cancelled one never fires; all cancelled clears the timer', (t) => {
  const time = new FakeTime();
  const deadlines = new Deadlines(time);
  const fired: string[] = [];
  const a = deadlines.add(100, () => fired.push('a'));
  const b = deadlines.add(100, () => fired.push('b'));
  a.cancel();
  a.cancel();
  t.equal(deadlines.pending, 1, 'cancelling twice counts once');
  time.advance(100);
  t.deepEqual(fired, ['b']);
  b.cancel();
  t.equal(deadlines.pending, 0, 'cancelling a fired one changes nothing');
  const c = deadlines.add(50, () => fired.push('c'));
  c.cancel();
  t.equal(time.armed, 0, 'an idle node holds no timer');
  time.advance(100);
  t.deepEqual(fired, ['b']);
  t.end();
});

test('deadlines: different timeouts interleave by deadline, a shorter later one first', (t) => {
  const time = new FakeTime();
  const deadlines = new Deadlines(time);
  const fired: string[] = [];
  deadlines.add(1000, () => fired.push('long'));
  time.advance(5);
  deadlines.add(250, () => fired.push('short'));
  time.advance(300);
  t.deepEqual(fired, ['short'], 'the later, shorter deadline fired first');
  time.advance(694);
  t.deepEqual(fired, ['short'], 'the long one not yet');
  time.advance(1);
  t.deepEqual(fired, ['short', 'long']);
  t.end();
});

test('deadlines: a callback may add and cancel deadlines', (t) => {
  const time = new FakeTime();
  const deadlines = new Deadlines(time);
  const fired: number[] = [];
  const later = deadlines.add(20, () => fired.push(2));
  deadlines.add(10, () => {
    fired.push(1);
    later.cancel();
    deadlines.add(10, () => fired.push(3));
  });
  time.advance(100);
  t.deepEqual(fired, [1, 3]);
  t.equal(deadlines.pending, 0);
  t.end();
});

test('deadlines: random adds, cancels and clock steps match a plain list (seeded)', (t) => {
  const random = testRandom('deadlines');
  const time = new FakeTime();
  const deadlines = new Deadlines(time);
  const timeouts = [5, 20, 100, 37];
  const model: Array<{ id: number; at: number; cancelled: boolean; fired: boolean }> = [];
  const handles: Array<{ cancel(): void }> = [];
  let ok = true;
  for (let step = 0; step < 3000; step++) {
    const roll = random.float();
    if (roll < 0.5) {
      const id = model.length;
      const timeout = timeouts[Math.floor(random.float() * timeouts.length)];
      const entry = { id, at: time.t + timeout, cancelled: false, fired: false };
      model.push(entry);
      handles.push(
        deadlines.add(timeout, () => {
          // Fires once, never cancelled, never early.
          if (entry.fired || entry.cancelled || time.t < entry.at) ok = false;
          entry.fired = true;
        }),
      );
    } else if (roll < 0.7 && model.length > 0) {
      const i = Math.floor(random.float() * model.length);
      if (!model[i].fired) model[i].cancelled = true;
      handles[i].cancel();
    } else time.advance(Math.floor(random.float() * 8));
    // Every deadline past its time and not cancelled has fired.
    for (const entry of model) if (!entry.cancelled && entry.at <= time.t && !entry.fired) ok = false;
  }
  t.ok(ok, 'each deadline fired once, on time, unless cancelled first');
  t.equal(deadlines.pending, model.filter((e) => !e.cancelled && !e.fired).length, 'pending count matches');
  t.end();
});
