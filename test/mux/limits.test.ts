import test from 'tape';
import { ORSet, ReplicationError } from '../../lib/index.js';
import { encode, uint } from '../../lib/codec/index.js';
import { Doc } from '../../lib/mux/index.js';
import { type ControlMessage, controlCodec } from '../../lib/mux/control.js';
import { FrameType } from '../../lib/stream/frames.js';
import { handshakeFrame, wireFrame } from '../helpers/raw-peer.js';

/** A control data frame carrying `messages`, as a raw peer sends it. */
function controlFrame(...messages: ControlMessage[]): Buffer {
  return wireFrame(Buffer.concat([Buffer.from([FrameType.data]), encode(uint, messages.length), ...messages.map((m) => encode(controlCodec, m))]));
}

/** A channel frame of `channel` with `body` inside. */
function channelFrame(channel: number, body: Buffer): Buffer {
  return wireFrame(Buffer.concat([Buffer.from([FrameType.channel]), encode(uint, channel), body]));
}

/** Plays a raw peer against `doc`: resolves with the stream's error code, or 'none' if it closed without one. */
function raw(doc: Doc, ...frames: Buffer[]): Promise<string> {
  const stream = doc.createStream({ failGraceMs: 50 });
  stream.resume();
  return new Promise((resolve) => {
    stream.once('error', (err) => resolve(err instanceof ReplicationError ? err.code : `uncoded: ${err.message}`));
    const quiet = () => setImmediate(() => resolve('none'));
    stream.once('close', quiet);
    stream.once('end', quiet);
    stream.write(handshakeFrame(doc.descriptor));
    for (const frame of frames) stream.write(frame);
    stream.end();
  });
}

test('mux limits: more open channels than maxChannels is ERR_LIMIT', async (t) => {
  const doc = new Doc({ maxChannels: 2 });
  const opens = [1, 2, 3].map((channel) => ({ type: 'open' as const, channel, name: `s${channel}` }));
  t.equal(await raw(doc, controlFrame(...opens)), 'ERR_LIMIT');
  t.equal(await raw(new Doc({ maxChannels: 3 }), controlFrame(...opens)), 'none', 'at the limit is fine');
});

test('mux limits: a channel name over 256 bytes is ERR_DECODE', async (t) => {
  t.equal(await raw(new Doc(), controlFrame({ type: 'open', channel: 1, name: 'n'.repeat(257) })), 'ERR_DECODE');
  t.equal(await raw(new Doc(), controlFrame({ type: 'open', channel: 1, name: 'n'.repeat(256) })), 'none');
});

test('mux limits: an unanswered channel holds one small frame only', async (t) => {
  const open = controlFrame({ type: 'open', channel: 1, name: 'unknown' });
  const handshake = Buffer.from([FrameType.handshake, 1, 2, 3]);
  t.equal(await raw(new Doc(), open, channelFrame(1, Buffer.alloc(4097, 0))), 'ERR_LIMIT', 'over 4 KiB');
  t.equal(await raw(new Doc(), open, channelFrame(1, handshake), channelFrame(1, handshake)), 'ERR_DECODE', 'a second frame');
  t.equal(await raw(new Doc(), open, channelFrame(1, handshake)), 'none', 'one frame waits');
});

test('mux limits: protocol violations on the control channel fail the connection', async (t) => {
  const open = { type: 'open' as const, channel: 1, name: 's' };
  t.equal(await raw(new Doc(), channelFrame(1, Buffer.from([0]))), 'ERR_DECODE', 'a frame on a channel never opened');
  t.equal(await raw(new Doc(), controlFrame(open, open)), 'ERR_DECODE', 'a channel opened twice');
  t.equal(await raw(new Doc(), controlFrame({ ...open, channel: 0 })), 'ERR_DECODE', 'channel 0 opened');
  t.equal(await raw(new Doc(), controlFrame({ type: 'close', channel: 5 })), 'ERR_DECODE', 'a channel closed that was never opened');
  t.equal(await raw(new Doc(), channelFrame(0, Buffer.from([0]))), 'ERR_DECODE', 'a channel frame on channel 0');
});

test('mux limits: garbage in a channel frame fails that channel only', async (t) => {
  const doc = new Doc();
  const set = doc.get('s', ORSet);
  set.add('kept');
  const closes: string[] = [];
  doc.on('channel', (e) => e.type === 'close' && closes.push(e.error?.code ?? 'none'));
  const peerHandshake = handshakeFrame(set.descriptor).subarray(1); // the bare frame, without its length prefix
  const code = await raw(
    doc,
    controlFrame({ type: 'open', channel: 1, name: 's' }),
    channelFrame(1, peerHandshake),
    channelFrame(1, Buffer.from([FrameType.data, 3, 0xff, 0xfe, 0xfd])),
  );
  t.equal(code, 'none', 'the connection ends without an error');
  t.deepEqual(closes, ['ERR_DECODE'], 'the channel failed with ERR_DECODE');
  t.deepEqual(set.values(), ['kept'], 'the structure is untouched');
});
