// Would rateless reconciliation pay for GSet and ORSet? A reconnect after a
// long absence, measured with the delta sync the sets use now, beside what
// the rateless exchange would cost, computed from the coder.
//
// Run alone: node dist/bench/reconcile-sets.js [elements]
import { byteCounter } from './harness.js';
import { pathToFileURL } from 'node:url';
import pump from 'pump';
import { GSet, ORSet } from '../lib/index.js';
import { Random } from '../lib/core.js';
import { CodedSymbols, Decoder, Encoder } from '../lib/reconcile/index.js';
import { replicate } from '../lib/stream/replicate.js';

export interface SetReconcileRow {
  kind: 'gset' | 'orset';
  elements: number;
  differing: number;
  /** Bytes on the wire of the delta sync (handshake, summaries, the missing elements and dots). */
  deltaBytes: number;
  /** Bytes of the same reconnect with nothing missing: the handshake and the two summaries. */
  idleBytes: number;
  /** Flights of the delta sync, handshake included: handshake, summaries (both at once), catch-up. */
  deltaFlights: number;
  /** Symbols the rateless coder needed for this many differing items (measured on the coder). */
  symbols: number;
  /** What rateless would cost at least: the delta sync's element bytes, plus the symbols and the sketches (the rest of the handshakes granted free). */
  ratelessBytes: number;
  ratelessFlights: number;
}

/**
 * Bytes of a symbol (24 fixed, a count of 1 to 3 bytes) and of the two
 * difference sketches that ride in the handshakes (64 counters, 68 bytes
 * each with their length), as measured on the Merkle store.
 */
const SYMBOL_BYTES = 27;
const SKETCH_BYTES = 2 * 68;

/** A reconnect of two sets, counting the bytes both ways. */
async function tappedReconnect(a: GSet | ORSet, b: GSet | ORSet): Promise<number> {
  const ab = byteCounter();
  const ba = byteCounter();
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  await new Promise<void>((resolve, reject) => pump(sa, ab, sb, ba, sa, (err) => (err ? reject(err) : resolve())));
  return ab.bytes + ba.bytes;
}

/** Symbols the coder needs to decode `count` differing items (half on each side); the items both hold cancel exactly, so they do not change this. */
function symbolsNeeded(count: number, random: Random): number {
  const item = () => {
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = random.int(0, 255);
    return out;
  };
  const mine = new Encoder();
  const theirs = new Encoder();
  for (let i = 0; i < count; i++) (i % 2 === 0 ? mine : theirs).add(item());
  const decoder = new Decoder(theirs, 1 << 24);
  const out = new CodedSymbols();
  while (!decoder.done) decoder.receive(out, mine.next(out));
  return decoder.received;
}

export async function runSetReconcileBench(elements = 100_000, differing = [10, 100, 1000, 10_000], seed = 1): Promise<SetReconcileRow[]> {
  const rows: SetReconcileRow[] = [];
  const random = new Random(seed);
  for (const kind of ['gset', 'orset'] as const) {
    const make = (id: string) => (kind === 'gset' ? new GSet({ id }) : new ORSet({ id }));
    const a = make('A');
    const b = make('B');
    for (let i = 0; i < elements; i++) a.add(`element-${i}`);
    await (await replicate(a, b, { live: false })).done;
    const idleBytes = await tappedReconnect(a, b);
    let next = elements;
    for (const count of differing) {
      // While apart: each side adds half the differing elements; in an ORSet, b removes
      // a quarter of shared elements instead of adding as many (a removal differs too).
      for (let i = 0; i < count; i++) {
        if (kind === 'orset' && i % 4 === 1) b.remove(`element-${random.int(0, elements - 1)}`);
        else (i % 2 === 0 ? a : b).add(`element-${next++}`);
      }
      const deltaBytes = await tappedReconnect(a, b);
      if (JSON.stringify(a.values()) !== JSON.stringify(b.values())) throw new Error(`${kind}: the reconnect did not converge`);
      const symbols = symbolsNeeded(count, random);
      rows.push({
        kind,
        elements,
        differing: count,
        deltaBytes,
        idleBytes,
        deltaFlights: 3,
        symbols,
        // The summaries go (and, to favour rateless, the handshake too), the sketches and the
        // symbols come; the elements and dots cross either way.
        ratelessBytes: deltaBytes - idleBytes + symbols * SYMBOL_BYTES + SKETCH_BYTES,
        // Handshake (with the sketches), symbols, decoded with the decoder's elements, the sender's elements.
        ratelessFlights: 4,
      });
    }
  }
  return rows;
}

export function formatSetReconcile(rows: SetReconcileRow[]): string {
  const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return [
    '| set | elements | differing | delta sync: bytes | delta sync: round trips | an idle reconnect (handshake, summaries) | rateless: symbols needed | rateless: bytes, at least | rateless: round trips | rateless / delta bytes |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.kind} | ${n(r.elements)} | ${n(r.differing)} | ${n(r.deltaBytes)} | ${n(r.deltaFlights / 2, 1)} | ${n(r.idleBytes)} | ${n(r.symbols)} | ${n(r.ratelessBytes)} | ${n(r.ratelessFlights / 2, 1)} | ${n(r.ratelessBytes / r.deltaBytes, 2)} |`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatSetReconcile(await runSetReconcileBench(process.argv[2] ? Number(process.argv[2]) : undefined)));
}
