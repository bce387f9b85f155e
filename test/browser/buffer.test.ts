// The browser's Buffer (lib/browser/buffer.ts) beside Node's: the same bytes,
// strings and numbers for every method it has; the browser build calls no
// Buffer method it lacks; and two Seqs replicate through it in Node.
import fc from 'fast-check';
import test from 'tape';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BrowserBuffer } from '../../lib/browser/buffer.js';
import { Seq } from '../../lib/seq/seq.js';
import { ORSet } from '../../lib/crdt/or-set.js';
import { Doc } from '../../lib/mux/doc.js';
import { createFrameProtocol, type FrameProtocol } from '../../lib/stream/frame-protocol.js';
import { PAGES } from '../../bench/bundle.js';
import { checkProperty, propertySeed } from '../helpers/property.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const seed = propertySeed(0xb0ff_e4);
const RUNS = 300;

// Strings with every kind of UTF-16: ASCII, two- and three-byte, pairs, lone surrogates, U+FEFF.
const text = fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\ud800', '\udc00', '\ufeff', 'é', '€', '😀')), { maxLength: 6 }).map((parts) => parts.join(''));
const bytes = fc.uint8Array({ maxLength: 64 });
const encodings = ['utf8', 'utf-8', 'latin1', 'binary', 'hex'] as const;
const encoding = fc.constantFrom(...encodings);

/** What a call gives, or that it threw a RangeError (anything else thrown fails the test). */
function outcome(call: () => number): number | 'RangeError' {
  try {
    return call();
  } catch (err) {
    if (err instanceof RangeError) return 'RangeError';
    throw err;
  }
}
const same = (ours: Uint8Array, node: Uint8Array) => Buffer.from(ours).equals(node);

test('BrowserBuffer: from, byteLength and toString agree with Node', (t) => {
  checkProperty(t, 'from(string, encoding) and byteLength', fc.property(text, encoding, (s, enc) => {
    const input = enc === 'hex' ? Buffer.from(s).toString('hex') + s.slice(0, 3) : s;
    const ours = BrowserBuffer.from(input, enc);
    return ours instanceof BrowserBuffer && same(ours, Buffer.from(input, enc)) && BrowserBuffer.byteLength(input, enc) === Buffer.byteLength(input, enc);
  }), { seed, numRuns: RUNS });
  checkProperty(t, 'toString(encoding, start, end)', fc.property(bytes, encoding, fc.integer({ min: -2, max: 70 }), fc.integer({ min: -2, max: 70 }), (b, enc, start, end) => {
    const ours = BrowserBuffer.from(b);
    return ours.toString(enc, start, end) === Buffer.from(b).toString(enc, start, end) && ours.toString() === Buffer.from(b).toString();
  }), { seed, numRuns: RUNS });
  t.equal(BrowserBuffer.from([0xef, 0xbb, 0xbf, 0x41]).toString(), '\ufeffA', 'a leading BOM is kept, as Node keeps it');
  t.throws(() => BrowserBuffer.from('x', 'base64'), /Unknown encoding: base64/, 'an encoding it lacks is refused, not guessed');
  t.end();
});

test('BrowserBuffer: write agrees with Node, never writing part of a character', (t) => {
  checkProperty(t, 'write(string, offset, length, encoding)', fc.property(text, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 50 }), encoding, (s, size, offset, length, enc) => {
    const ours = BrowserBuffer.alloc(size);
    const node = Buffer.alloc(size);
    return outcome(() => ours.write(s, offset, length, enc)) === outcome(() => node.write(s, offset, length, enc)) && same(ours, node);
  }), { seed, numRuns: RUNS });
  const ours = BrowserBuffer.alloc(8);
  const node = Buffer.alloc(8);
  t.equal(ours.write('héllo', 1, 'utf8'), node.write('héllo', 1, 'utf8'), 'write(string, offset, encoding)');
  t.equal(ours.write('ab', 'latin1'), node.write('ab', 'latin1'), 'write(string, encoding)');
  t.ok(same(ours, node), 'the same bytes');
  t.throws(() => ours.write('x', 9), RangeError, 'an offset past the end is a RangeError');
  t.end();
});

test('BrowserBuffer: concat, copy, slice, numbers, toJSON', (t) => {
  checkProperty(t, 'concat(list, totalLength)', fc.property(fc.array(bytes, { maxLength: 5 }), fc.option(fc.integer({ min: 0, max: 100 })), (list, total) => {
    const ours = BrowserBuffer.concat(list, total ?? undefined);
    return ours instanceof BrowserBuffer && same(ours, Buffer.concat(list, total ?? undefined));
  }), { seed, numRuns: RUNS });
  checkProperty(t, 'copy(target, targetStart, sourceStart, sourceEnd)', fc.property(bytes, fc.integer({ min: 0, max: 70 }), fc.nat(70), fc.nat(70), fc.nat(70), (b, size, targetStart, sourceStart, sourceEnd) => {
    [targetStart, sourceStart, sourceEnd] = [Math.min(targetStart, size), Math.min(sourceStart, b.length), Math.max(Math.min(sourceEnd, b.length), Math.min(sourceStart, b.length))];
    const ours = new Uint8Array(size);
    const node = new Uint8Array(size);
    return BrowserBuffer.from(b).copy(ours, targetStart, sourceStart, sourceEnd) === Buffer.from(b).copy(node, targetStart, sourceStart, sourceEnd) && same(ours, node);
  }), { seed, numRuns: RUNS });
  checkProperty(t, 'fixed-width numbers', fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.double(), fc.nat(8), (u32, f64, offset) => {
    const ours = BrowserBuffer.alloc(20);
    const node = Buffer.alloc(20);
    const ends = [ours.writeUInt32LE(u32, offset) === node.writeUInt32LE(u32, offset), ours.writeDoubleLE(f64, offset + 4) === node.writeDoubleLE(f64, offset + 4)];
    return ends.every(Boolean) && same(ours, node) && ours.readUInt32LE(offset) === u32 && Object.is(ours.readDoubleLE(offset + 4), node.readDoubleLE(offset + 4));
  }), { seed, numRuns: RUNS });
  const b = BrowserBuffer.from([1, 2, 3, 4]);
  const view = b.slice(1, 3);
  view[0] = 9;
  t.equal(b[1], 9, 'slice is a view, as in Node');
  t.ok(view instanceof BrowserBuffer && b.subarray(1) instanceof BrowserBuffer, 'slice and subarray keep the methods');
  t.deepEqual(b.toJSON(), Buffer.from(b).toJSON(), 'toJSON');
  t.throws(() => b.readUInt32LE(1), RangeError, 'a read past the end is a RangeError');
  t.throws(() => b.writeUInt32LE(-1), RangeError, 'a value out of range is a RangeError');
  const shared = new ArrayBuffer(4);
  t.equal(BrowserBuffer.from(shared, 1, 2).buffer, shared, 'from(ArrayBuffer, offset, length) is a view');
  t.ok(BrowserBuffer.isBuffer(b) && !BrowserBuffer.isBuffer(new Uint8Array(1)), 'isBuffer');
  t.end();
});

/** The library's own files in the browser build of every page, as compiled. */
async function browserLibSources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const [, source] of Object.entries(PAGES).filter(([page]) => page.startsWith('tendril'))) {
    const result = await build({ stdin: { contents: source, resolveDir: root, loader: 'js' }, bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    for (const input of Object.keys(result.metafile.inputs)) {
      // Every file of the library but BrowserBuffer's own.
      if (/(^|\/)dist\/lib\//.test(input) && !input.endsWith('browser/buffer.js') && !sources.has(input)) sources.set(input, readFileSync(join(root, input), 'utf8'));
    }
  }
  return sources;
}

test('the browser build calls only the Buffer methods and encodings BrowserBuffer has', async (t) => {
  const sources = await browserLibSources();
  const statics = new Set<string>();
  const methods = new Set<string>();
  // Node's Buffer methods that a Uint8Array lacks: a call to any of them in the browser build needs BrowserBuffer to have it.
  const nodeOnly = Object.getOwnPropertyNames(Buffer.prototype).filter((name) => !(name in Uint8Array.prototype) && typeof (Buffer.prototype as any)[name] === 'function');
  for (const [file, code] of sources) {
    for (const match of code.matchAll(/\bBuffer\.(\w+)\(/g)) statics.add(match[1]!);
    for (const name of nodeOnly) if (new RegExp(`\\.${name}\\(`).test(code.replace(/\bBuffer\.\w+\(/g, ''))) methods.add(name);
    for (const match of code.matchAll(/['"](base64|base64url|ascii|ucs2|ucs-2|utf16le|utf-16le)['"]/gi)) t.fail(`${file} uses the ${match[1]} encoding, which BrowserBuffer lacks`);
  }
  t.ok(sources.size > 30 && statics.has('from') && methods.has('write'), `${sources.size} files of the library checked`);
  for (const name of statics) t.equal(typeof (BrowserBuffer as any)[name], 'function', `Buffer.${name} is there`);
  for (const name of methods) t.equal(typeof (BrowserBuffer.prototype as any)[name], 'function', `buffer.${name} is there`);
});

/** Pumps frames both ways until neither side has one; false if it does not settle. */
function pump(a: FrameProtocol, b: FrameProtocol, sent: Uint8Array[]): boolean {
  for (let round = 0; round < 1000; round++) {
    let moved = false;
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (let frame = from.nextFrame(); frame !== undefined; frame = from.nextFrame()) {
        sent.push(frame);
        to.receive(frame);
        moved = true;
      }
    }
    if (!moved) return true;
  }
  return false;
}

test('two Seqs replicate, with a network key, when the global Buffer is BrowserBuffer', (t) => {
  const nodeBuffer = globalThis.Buffer;
  let settled = false;
  const frames: Uint8Array[] = [];
  const a = new Seq({ name: 'text' });
  const b = new Seq({ name: 'text' });
  try {
    (globalThis as any).Buffer = BrowserBuffer;
    a.insert(0, 'héllo wörld, 😀 and \ufeff');
    b.insert(0, ['x', { y: 1 }]);
    const options = { key: 'a network key of sixteen bytes or more' };
    settled = pump(createFrameProtocol(a, options), createFrameProtocol(b, options), frames);
  } finally {
    globalThis.Buffer = nodeBuffer;
  }
  t.ok(settled, 'the exchange settles');
  t.ok(frames.length > 4 && frames.every((frame) => frame instanceof BrowserBuffer), `all ${frames.length} frames were BrowserBuffers`);
  t.deepEqual(a.toArray(), b.toArray(), 'both hold the same');
  t.equal(a.toArray().length, 'héllo wörld, 😀 and \ufeff'.length + 2, 'all of it');
  t.ok(a.encodeState().equals(b.encodeState()), 'the same state, byte for byte');
  t.end();
});

test('two Docs (a Seq and an ORSet on one connection) replicate when the global Buffer is BrowserBuffer', (t) => {
  const nodeBuffer = globalThis.Buffer;
  let settled = false;
  const frames: Uint8Array[] = [];
  const [a, b] = [new Doc({ name: 'demo' }), new Doc({ name: 'demo' })];
  try {
    (globalThis as any).Buffer = BrowserBuffer;
    a.get('text', Seq).insert(0, 'grüße');
    a.get('list', ORSet).add('milk');
    b.get('list', ORSet).add('brød');
    b.get('list', ORSet).remove('brød');
    b.get('text', Seq);
    settled = pump(createFrameProtocol(a), createFrameProtocol(b), frames);
  } finally {
    globalThis.Buffer = nodeBuffer;
  }
  t.ok(settled, 'the exchange settles');
  t.ok(frames.length > 4 && frames.every((frame) => frame instanceof BrowserBuffer), `all ${frames.length} frames were BrowserBuffers`);
  t.equal(b.get('text', Seq).toString(), 'grüße', 'the text arrived');
  t.deepEqual([a.get('list', ORSet).values(), b.get('list', ORSet).values()], [['milk'], ['milk']], 'the list converged, the removal kept');
  t.end();
});
