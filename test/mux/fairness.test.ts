import test from 'tape';
import pump from 'pump';
import { Model } from '../../lib/index.js';
import { Doc, type ChannelEvent, type MuxProtocol } from '../../lib/mux/index.js';

const BIG_KEYS = 100_000;
/**
 * Frames the receiver may see before the small channel is synced: the
 * connection's handshake, opens and marker, the small channel's handshake,
 * messages and marker, and one big frame per round in between. A mux that
 * sent each channel's backlog in turn would need the whole big sync first.
 */
const FRAME_BOUND = 16;

test(`mux fairness: a ${BIG_KEYS.toLocaleString('en')}-key sync does not hold back a small channel`, async (t) => {
  const a = new Doc();
  const big = a.get('big', Model);
  for (let i = 0; i < BIG_KEYS; i++) big.set(`key-${i}`, i);
  a.get('small', Model).set('hello', 'world');
  const b = new Doc();
  b.get('big', Model);
  b.get('small', Model);

  const sa = a.createStream();
  const sb = b.createStream();
  // Count the frames b receives, in the order they arrive.
  const mux = sb.protocol as unknown as MuxProtocol;
  const receive = mux.receive.bind(mux);
  let frames = 0;
  mux.receive = (frame) => {
    frames++;
    receive(frame);
  };
  const syncedAt = new Map<string, number>();
  sb.on('channel', (e: ChannelEvent) => e.type === 'synced' && syncedAt.set(e.name, frames));
  const synced = new Promise((resolve) => sb.once('synced', resolve));
  pump(sa, sb, sa);
  await synced;

  const small = syncedAt.get('small')!;
  const all = syncedAt.get('big')!;
  console.log(`# small synced after ${small} frames, big after ${all} frames`);
  t.equal(b.get('small', Model).get('hello'), 'world', 'small arrived');
  t.equal(b.get('big', Model).get(`key-${BIG_KEYS - 1}`), BIG_KEYS - 1, 'big arrived');
  t.ok(small <= FRAME_BOUND, `small synced within ${FRAME_BOUND} frames (${small})`);
  t.ok(all > 2 * FRAME_BOUND, `the big sync takes many more frames (${all}), so the bound means something`);
  sa.end();
});
