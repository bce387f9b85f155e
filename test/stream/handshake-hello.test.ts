// The handshake's hello: a session's opening words, carried in the
// handshake so the peer's first messages can depend on them. Optional,
// bounded, invisible to peers that predate it, and never sent under a
// network key.
import test from 'tape';
import { DEFAULT_LIMITS, type DecodeState, bool, decodeState, encode, string, struct, uint } from '../../lib/codec/index.js';
import type { PeerInfo, Session, SessionOptions } from '../../lib/session/contract.js';
import { FrameType, type Handshake, MAX_HELLO_BYTES, PROTOCOL, PROTOCOL_VERSION, handshakeCodec } from '../../lib/stream/frames.js';
import { NetworkKey } from '../../lib/stream/network-key.js';
import { WireProtocol, type WireProtocolOptions } from '../../lib/stream/wire-protocol.js';
import { codeOf } from '../helpers/error-code.js';

const base: Handshake = {
  protocol: PROTOCOL,
  version: PROTOCOL_VERSION,
  kind: 'test-hello',
  name: 'doc',
  id: 'a',
  cluster: undefined,
  params: '',
  readable: true,
  writable: true,
  live: false,
};

const decodeHandshake = (bytes: Uint8Array) => handshakeCodec.decode(decodeState(bytes));


test('handshake hello: absent, it takes no byte and decodes to no field; present, it round-trips', (t) => {
  const plain = encode(handshakeCodec, base);
  t.deepEqual(decodeHandshake(plain), base, 'a handshake without a hello decodes without one (no hello key at all)');
  const hello = Uint8Array.from({ length: 70 }, (_, i) => i);
  const withHello = encode(handshakeCodec, { ...base, hello });
  t.deepEqual([...decodeHandshake(withHello).hello!], [...hello], 'the hello comes back');
  t.deepEqual(withHello.subarray(0, plain.length), plain, 'the hello only follows the fields every peer of this version reads');
  // A peer that predates the hello reads the prefix and the body, and ignores the rest of the frame.
  const state: DecodeState = decodeState(withHello);
  const before = { ...struct({ protocol: string, version: uint }).decode(state), ...struct({ kind: string, name: string, id: string, cluster: uint, params: string, readable: bool, writable: bool, live: bool }).decode(state) };
  t.equal(before.id, 'a', 'such a peer still reads every field it knows');
  t.equal(state.offset, plain.length, 'and stops where the hello begins');
  t.end();
});

test('handshake hello: longer than MAX_HELLO_BYTES, or cut short, is refused with a coded error', (t) => {
  const exact = encode(handshakeCodec, { ...base, hello: new Uint8Array(MAX_HELLO_BYTES) });
  t.equal(decodeHandshake(exact).hello!.length, MAX_HELLO_BYTES, `${MAX_HELLO_BYTES} bytes are accepted`);
  const over = encode(handshakeCodec, { ...base, hello: new Uint8Array(MAX_HELLO_BYTES + 1) });
  t.equal(codeOf(() => decodeHandshake(over)), 'ERR_LIMIT', `${MAX_HELLO_BYTES + 1} bytes: ERR_LIMIT`);
  const huge = Buffer.concat([encode(handshakeCodec, base), encode(uint, 2 ** 40)]);
  t.equal(codeOf(() => decodeHandshake(huge)), 'ERR_LIMIT', 'a length of 2^40 with nothing behind it: ERR_LIMIT, before any allocation');
  const cut = encode(handshakeCodec, { ...base, hello: new Uint8Array(40) }).subarray(0, -1);
  t.equal(codeOf(() => decodeHandshake(cut)), 'ERR_DECODE', 'a hello cut short: ERR_DECODE');
  t.end();
});

/** A session that says `hello` in its handshake and records what the peer said. */
class HelloSession implements Session<never> {
  readonly codec = { encodingLength: () => 0, encode: () => undefined, decode: () => undefined as never };
  initialSent = true;
  peer: PeerInfo | undefined;
  asked = 0;
  constructor(private readonly hello: Uint8Array | undefined) {}
  handshakeHello(): Uint8Array | undefined {
    this.asked++;
    return this.hello;
  }
  start(peer: PeerInfo): void {
    this.peer = peer;
  }
  receive(): void {}
  pull(): undefined {
    return undefined;
  }
  close(): void {}
}

/** Two protocols exchanging frames until neither has more to say; `rewrite` may change a frame on its way. */
function pair(helloA: Uint8Array | undefined, helloB: Uint8Array | undefined, key?: NetworkKey, rewrite = (_from: number, frame: Buffer) => frame) {
  const options: WireProtocolOptions = { live: false, readable: true, writable: true, cluster: undefined, maxFrameBytes: 1 << 16, limits: DEFAULT_LIMITS, key };
  const sessions = [new HelloSession(helloA), new HelloSession(helloB)];
  const protocols = sessions.map((session, i) => new WireProtocol({ kind: 'test-hello', name: 'doc', id: i === 0 ? 'a' : 'b' }, () => session, options));
  const handshakes: Handshake[] = [];
  for (let moved = true; moved; ) {
    moved = false;
    for (const [i, protocol] of protocols.entries()) {
      for (let frame = protocol.nextFrame(); frame; frame = protocol.nextFrame()) {
        frame = rewrite(i, frame);
        if (frame[0] === FrameType.handshake) handshakes[i] = decodeHandshake(frame.subarray(1));
        protocols[1 - i].receive(frame);
        moved = true;
      }
    }
  }
  return { sessions, handshakes };
}

test('handshake hello: the session says it in its handshake and the peer session finds it in PeerInfo', (t) => {
  const { sessions, handshakes } = pair(Uint8Array.of(1, 2, 3), undefined);
  t.deepEqual([...handshakes[0].hello!], [1, 2, 3], 'a hello in the first handshake');
  t.notOk('hello' in handshakes[1], 'none in the second: its session had nothing to say');
  t.deepEqual([...sessions[1].peer!.hello!], [1, 2, 3], 'the peer session gets it');
  t.equal(sessions[0].peer!.hello, undefined, 'and a session whose peer said nothing gets undefined');
  t.deepEqual(sessions.map((s) => s.asked), [1, 1], 'asked once per connection');
  // In `pair` the first protocol's handshake reaches the second before the second has sent its own.
  t.notOk('answered' in handshakes[1], 'a handshake without a hello does not say it answers');
  t.deepEqual(sessions.map((s) => s.peer!.handshakeFirst), [undefined, undefined], 'so neither session is told who went first');
  const both = pair(Uint8Array.of(1), Uint8Array.of(2));
  t.notOk('answered' in both.handshakes[0], 'with two hellos: the first handshake answers nothing');
  t.equal(both.handshakes[1].answered, true, 'the second says it answers the first');
  t.deepEqual(both.sessions.map((s) => s.peer!.handshakeFirst), ['us', 'peer'], 'and both sessions agree whose went first');
  t.end();
});

test('handshake hello: handshakes that cross answer nothing, and neither session is told who went first', (t) => {
  const options: WireProtocolOptions = { live: false, readable: true, writable: true, cluster: undefined, maxFrameBytes: 1 << 16, limits: DEFAULT_LIMITS };
  const sessions = [new HelloSession(Uint8Array.of(1)), new HelloSession(Uint8Array.of(2))];
  const protocols = sessions.map((session, i) => new WireProtocol({ kind: 'test-hello', name: 'doc', id: i === 0 ? 'a' : 'b' }, () => session, options));
  const frames = protocols.map((p) => p.nextFrame()!);
  t.ok(frames.every((f) => decodeHandshake(f.subarray(1)).answered === undefined), 'neither handshake says it answers');
  protocols[1].receive(frames[0]);
  protocols[0].receive(frames[1]);
  t.deepEqual(sessions.map((s) => s.peer!.handshakeFirst), [undefined, undefined], 'no side went first');
  t.end();
});

test('handshake hello: the answered flag round-trips with or without a hello, and an empty hello is none', (t) => {
  const flagOnly = encode(handshakeCodec, { ...base, answered: true });
  t.deepEqual(decodeHandshake(flagOnly), { ...base, answered: true }, 'answered without a hello: an empty hello, then the flag');
  t.equal(flagOnly.length, encode(handshakeCodec, base).length + 2, 'two bytes');
  const both = decodeHandshake(encode(handshakeCodec, { ...base, hello: Uint8Array.of(5), answered: true }));
  t.deepEqual([both.answered, [...both.hello!]], [true, [5]], 'answered with a hello');
  t.notOk('hello' in decodeHandshake(encode(handshakeCodec, { ...base, hello: new Uint8Array(0) })), 'an empty hello decodes as none');
  t.end();
});

test('handshake hello: under a network key no hello is asked for or sent, and one sent anyway is not passed on', (t) => {
  const key = new NetworkKey('a network key of enough bytes');
  const { sessions, handshakes } = pair(Uint8Array.of(1, 2, 3), Uint8Array.of(4), key);
  t.ok(sessions.every((s) => s.peer !== undefined), 'both sessions started: the key was proven');
  t.deepEqual(sessions.map((s) => s.asked), [0, 0], 'no session was asked for a hello');
  t.ok(handshakes.every((h) => !('hello' in h) && !('answered' in h)), 'no handshake carried one, nor said it answered the other');
  t.ok(sessions.every((s) => s.peer!.handshakeFirst === undefined), 'no session is told who went first');
  t.ok(sessions.every((s) => s.peer!.hello === undefined), 'no session was given one');
  // A keyed peer that sends a hello anyway (another implementation, say) is not heard.
  const forced = pair(undefined, undefined, key, (from, frame) =>
    from === 0 && frame[0] === FrameType.handshake ? Buffer.concat([frame, encode(uint, 1), Uint8Array.of(9)]) : frame,
  );
  t.deepEqual([...forced.handshakes[0].hello!], [9], 'a hello was forced into one handshake');
  t.ok(forced.sessions[1].peer !== undefined, 'the key was still proven (the proof does not cover the hello)');
  t.equal(forced.sessions[1].peer!.hello, undefined, 'and the peer session was not given it');
  t.end();
});
