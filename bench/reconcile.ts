// MerkleStore reconciliation side by side: rateless coded symbols, the
// Merkle walk and sending the whole store, for 10 to 10,000 differing keys;
// and what keeping the symbol prefix up to date costs a write.
//
// Run alone: node --expose-gc dist/bench/reconcile.js [keys]
// Default 100,000 keys (BENCH_RECONCILE_KEYS), which runs in about a
// minute on a small machine; the size is 1000000 (a base store of
// about 270 MB built once in about two minutes, then several minutes, most
// of them the whole-store exchange). The base store is built once into the
// OS temp dir and copied per run.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pathToFileURL } from 'node:url';
import pump from 'pump';
import { MemoryLevel } from 'memory-level';
import { MerkleStore } from '../lib/index.js';
import { FrameType, Random } from '../lib/core.js';
import { decodeState, uint } from '../lib/codec/index.js';
import { merkleMessageCodec } from '../lib/merkle/messages.js';
import { EMPTY_RECORD, decodeRecord, encodeRecord, writeRecord } from '../lib/merkle/record.js';
import { encode, json } from '../lib/codec/index.js';
import { pathDb } from '../lib/path-db.js';
import { INITIAL_WINDOW, type RatelessSession } from '../lib/merkle/rateless-session.js';
import { dataKey } from '../lib/merkle/stored-keys.js';
import { MIN_SYMBOL_BYTES } from '../lib/reconcile/index.js';
import { compareReconciliation } from '../lib/sim/reconcile-compare.js';

export interface ReconcileRow {
  keys: number;
  diffs: number;
  method: string;
  bytes: number;
  /** bytes / (the differing entries once + 1.4 symbols per differing item). */
  ratio: number;
  roundTrips: number;
  ms: number;
  note: string;
}

export interface WriteCostRow {
  mode: string;
  writes: number;
  usPerWrite: number;
  ratio: number;
}

export interface ReconcileBenchOptions {
  keys?: number;
  diffs?: number[];
  writes?: number;
  seed?: number;
  /** Which exchanges to run; default all three. */
  methods?: Array<'rateless' | 'merkle' | 'whole'>;
  log?: (line: string) => void;
}

/** Bytes of a symbol on the wire for the floor: 24 fixed and a count of 1 to 3 bytes; 27 is what we measure on average. */
const FLOOR_SYMBOL_BYTES = MIN_SYMBOL_BYTES + 2;

export async function runReconcileBench(options: ReconcileBenchOptions = {}): Promise<{ rows: ReconcileRow[]; writes: WriteCostRow[] }> {
  const keys = options.keys ?? 100_000;
  const depth = Math.max(8, Math.ceil(Math.log2(keys)));
  const log = options.log ?? ((line: string) => console.error(line));
  const root = join(tmpdir(), 'tendril-bench-reconcile-v3');
  const base = join(root, `base-${keys}-d${depth}`);
  await buildBase(base, keys, depth, log);
  const rows: ReconcileRow[] = [];
  let wholeDone = false;
  for (const diffs of options.diffs ?? [10, 100, 1000, 10_000]) {
    const random = new Random((options.seed ?? 1) + diffs);
    const changed = new Set<number>();
    while (changed.size < diffs) changed.add(random.int(0, keys - 1));
    const differing = [...changed].map((i) => `key-${i}`);
    const methods = (options.methods ?? ['rateless', 'merkle', 'whole']).filter((m) => m !== 'whole' || !wholeDone);
    for (const method of methods) {
      const dirs = [join(root, 'work-a'), join(root, 'work-b')];
      for (const dir of dirs) {
        rmSync(dir, { recursive: true, force: true });
        cpSync(base, dir, { recursive: true });
      }
      const reconcile = method === 'rateless' ? 'rateless' : 'merkle';
      const [a, b] = dirs.map((dir, i) => new MerkleStore<unknown>({ path: join(dir, 'db'), depth, id: i === 0 ? 'A' : 'B', reconcile }));
      const loadStarted = performance.now();
      await Promise.all([a.open(), b.open()]);
      if (method === 'rateless') await Promise.all([a.symbols(), b.symbols()]);
      if (method === 'rateless' && rows.every((r) => r.method !== 'open, symbols saved')) {
        rows.push({ keys, diffs: NaN, method: 'open, symbols saved', bytes: NaN, ratio: NaN, roundTrips: NaN, ms: (performance.now() - loadStarted) / 2, note: 'per store: the tree and the symbols saved at the last clean close' });
      }
      // Half the differing keys change on each side: each is two differing items (an old and a new version).
      await Promise.all(differing.map((key, i) => (i % 2 === 0 ? a : b).put(key, { changed: true, by: i % 2 === 0 ? 'A' : 'B', payload: 'y'.repeat(24) })));
      let entryBytes = 0;
      for (const [i, key] of differing.entries()) {
        const stored = await (i % 2 === 0 ? a : b).db.sublevel<Uint8Array, Uint8Array>('d', { keyEncoding: 'view', valueEncoding: 'view' }).get(dataKey(key));
        entryBytes += merkleMessageCodec.encodingLength({ type: 'entry', key, record: stored! });
      }
      const floor = entryBytes + 1.4 * 2 * diffs * FLOOR_SYMBOL_BYTES;
      const started = performance.now();
      const measured = method === 'whole' ? await wholeStoreExchange(a, b) : await tappedSync(a, b);
      const ms = performance.now() - started;
      if (a.rootHash !== b.rootHash) throw new Error(`${method} did not converge`);
      const note =
        method === 'rateless'
          ? `${measured.symbols} symbols sent (${(measured.symbols / (2 * diffs)).toFixed(2)} per differing item), ${measured.decodedAt} needed, ${measured.windows - 1} progress${measured.fellBack ? ', fell back to the walk' : ''}`
          : method === 'merkle'
            ? `depth ${depth}`
            : 'each side streams every entry; any number of differences';
      rows.push({ keys, diffs: method === 'whole' ? NaN : diffs, method: method === 'whole' ? 'whole store' : method === 'merkle' ? 'merkle walk' : 'rateless', bytes: measured.bytes, ratio: measured.bytes / floor, roundTrips: measured.roundTrips, ms, note });
      log(`${diffs} differing, ${method}: ${measured.bytes} B, ${ms.toFixed(0)} ms`);
      if (method === 'whole') wholeDone = true;
      if (method === 'merkle' && rows.every((r) => r.method !== 'symbols by a scan')) {
        const started = performance.now();
        await a.symbols(); // after its sync: a walking store asked for its symbols scans, as a rateless store does after a crash
        rows.push({ keys, diffs: NaN, method: 'symbols by a scan', bytes: NaN, ratio: NaN, roundTrips: NaN, ms: performance.now() - started, note: 'per store, after a crash: read and hash every record' });
      }
      await Promise.all([a.close(), b.close()]);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }
  return { rows, writes: await writeCost(options.writes ?? 20_000, options.seed ?? 1) };
}

interface Measured {
  bytes: number;
  roundTrips: number;
  symbols: number;
  windows: number;
  fellBack: boolean;
  /** Symbols the decoder needed (the rest were on their way when it said `decoded`). */
  decodedAt: number;
}

/**
 * Pipes the stores' streams through taps that count bytes and decode the
 * frames. Round trips are the flights on the longest chain of messages
 * that each wait for one of the other side, halved (a flight is one way):
 * the handshake; for the walk each tree level, the entries with `covered`,
 * the answers with `end`; for rateless the symbols (the first
 * `INITIAL_WINDOW` need nothing from the peer; the rest wait for its
 * sketch, which crosses them, so a decoding that needed more than the
 * initial window is one flight longer), two per `progress` (the sender ran
 * out and waited), `decoded` with the decoder's entries, the sender's
 * entries with `end`. How many symbols the decoder needed comes from the
 * session itself; everything else from the wire.
 */
async function tappedSync(a: MerkleStore<unknown>, b: MerkleStore<unknown>): Promise<Measured> {
  const sessions: RatelessSession[] = [];
  const restore = [a, b].map((store) => {
    const original = store.openSession.bind(store);
    store.openSession = (o) => {
      const session = original(o);
      if ('stats' in session) sessions.push(session);
      return session;
    };
    return () => (store.openSession = original);
  });
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  restore.forEach((undo) => undo());
  let bytes = 0;
  let deepestLevel = -1;
  let covered = false;
  let ended = false;
  let symbols = 0;
  let progress = 0;
  let fellBack = false;
  const tap = () => {
    let pending: Buffer = Buffer.alloc(0);
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        while (pending.length > 0) {
          const state = decodeState(pending);
          let length: number;
          try {
            length = uint.decode(state);
          } catch {
            break;
          }
          if (state.offset + length > pending.length) break;
          const frame = pending.subarray(state.offset, state.offset + length);
          pending = pending.subarray(state.offset + length);
          if (frame[0] !== FrameType.data) continue;
          const body = decodeState(frame.subarray(1), { maxBytes: 1 << 24, maxItems: 1 << 24 });
          for (let count = uint.decode(body); count > 0; count--) {
            const message = merkleMessageCodec.decode(body);
            if (message.type === 'hashes') deepestLevel = Math.max(deepestLevel, message.level);
            else if (message.type === 'covered') covered = true;
            else if (message.type === 'end') ended = true;
            else if (message.type === 'symbols') symbols += message.batch.symbols.length;
            else if (message.type === 'progress') progress++;
            else if (message.type === 'fallback') fellBack = true;
          }
        }
        callback(null, chunk);
      },
    });
  };
  await new Promise<void>((resolve, reject) => pump(sa, tap(), sb, tap(), sa, (err) => (err ? reject(err) : resolve())));
  await Promise.all([a.flushed(), b.flushed()]);
  const decodedAt = Math.max(0, ...sessions.map((s) => s.stats.decodedAt));
  const windows = symbols > 0 ? progress + 1 : 0;
  const walkFlights = deepestLevel >= 0 ? deepestLevel + 1 + (covered ? 1 : 0) + (ended ? 1 : 0) : 0;
  const symbolFlights = windows > 0 ? (decodedAt > INITIAL_WINDOW || fellBack ? 2 : 1) + 2 * progress : 0;
  const followUps = sessions.some((s) => s.stats.followUps > 0) ? 1 : 0;
  const ratelessFlights = windows > 0 ? symbolFlights + (fellBack ? 1 : 1 + (ended ? 1 : 0) + followUps) : 0;
  return { bytes, roundTrips: (1 + ratelessFlights + walkFlights) / 2, symbols, windows, fellBack, decodedAt };
}

/** The naive exchange: each side sends every entry it holds, the other merges them all. */
async function wholeStoreExchange(a: MerkleStore<unknown>, b: MerkleStore<unknown>): Promise<Measured> {
  let bytes = 0;
  const send = async (from: MerkleStore<unknown>, to: MerkleStore<unknown>) => {
    for await (const batch of from.readBuckets(0, from.tree!.buckets - 1)) {
      const merges: Promise<string>[] = [];
      for (const [storedKey, record] of batch) {
        const key = Buffer.from(storedKey.subarray(4)).toString('utf8');
        bytes += merkleMessageCodec.encodingLength({ type: 'entry', key, record });
        merges.push(to.merge(key, decodeRecord(record), undefined));
      }
      await Promise.all(merges);
    }
  };
  await Promise.all([send(a, b), send(b, a)]);
  await Promise.all([a.flushed(), b.flushed()]);
  return { bytes, roundTrips: 1, symbols: 0, windows: 0, fellBack: false, decodedAt: 0 };
}

/**
 * The cost of a write with the symbol prefix kept up to date against one
 * without: the same puts into two in-memory stores (so the database does
 * not drown the difference), one of them in rateless mode.
 */
async function writeCost(writes: number, seed: number): Promise<WriteCostRow[]> {
  const run = async (reconcile: 'merkle' | 'rateless') => {
    const store = new MerkleStore<unknown>({ db: new MemoryLevel(), id: 'w', depth: 16, reconcile });
    await store.open();
    if (reconcile === 'rateless') await store.symbols();
    const random = new Random(seed);
    const started = performance.now();
    for (let i = 0; i < writes; i += 256) {
      const batch: Promise<string>[] = [];
      for (let j = i; j < Math.min(writes, i + 256); j++) batch.push(store.put(`key-${random.int(0, writes)}`, { j, payload: 'x'.repeat(24) }));
      await Promise.all(batch);
    }
    const us = ((performance.now() - started) * 1000) / writes;
    await store.close();
    return us;
  };
  // Alternate and keep the best of three, so JIT warm-up and the machine's load weigh on neither side.
  const best = { merkle: Infinity, rateless: Infinity };
  for (let round = 0; round < 3; round++) {
    best.merkle = Math.min(best.merkle, await run('merkle'));
    best.rateless = Math.min(best.rateless, await run('rateless'));
  }
  return [
    { mode: 'walk only (no symbols)', writes, usPerWrite: best.merkle, ratio: 1 },
    { mode: 'rateless (32,768 symbols maintained)', writes, usPerWrite: best.rateless, ratio: best.rateless / best.merkle },
  ];
}

/**
 * Builds the base store once: the records go straight into the database in
 * batches of 10,000 (what `put` would write: one version by replica
 * 'base'), then the store opens, rebuilds its tree and its symbols from
 * them in one scan each, and saves both at close. A million keys take about
 * a minute this way, where a million `put`s take many.
 */
async function buildBase(dir: string, keys: number, depth: number, log: (line: string) => void): Promise<void> {
  const marker = join(dir, 'BENCH-READY');
  if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).keys === keys) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`building a base store of ${keys} keys (once)...`);
  const started = performance.now();
  const db = await pathDb(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const data = db.sublevel<Uint8Array, Uint8Array>('d', { keyEncoding: 'view', valueEncoding: 'view' });
  for (let i = 0; i < keys; i += 10_000) {
    const batch: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }> = [];
    for (let j = i; j < Math.min(keys, i + 10_000); j++) {
      const value = encode(json, { i: j, payload: 'x'.repeat(24) });
      batch.push({ type: 'put', key: dataKey(`key-${j}`), value: encodeRecord(writeRecord(EMPTY_RECORD, 'base', [], value, 1_700_000_000_000 + j)) });
    }
    await data.batch(batch);
  }
  await db.close();
  const store = new MerkleStore<unknown>({ path: join(dir, 'db'), depth, id: 'base', reconcile: 'rateless' });
  await store.open(); // no saved tree: rebuilt from the records
  await store.symbols(); // likewise; both saved at close
  await store.close();
  writeFileSync(marker, JSON.stringify({ keys, depth }));
  log(`built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

export function formatReconcile({ rows, writes }: { rows: ReconcileRow[]; writes: WriteCostRow[] }): string {
  const n = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
  const table = [
    '| keys | differing keys | method | bytes on the wire | ratio to floor | round trips | time (ms) | note |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${n(r.keys)} | ${n(r.diffs)} | ${r.method} | ${n(r.bytes)} | ${n(r.ratio, 2)} | ${n(r.roundTrips, 1)} | ${n(r.ms)} | ${r.note} |`),
  ];
  const cost = ['', '| writes | mode | µs per write | ratio |', '|---|---|---|---|', ...writes.map((w) => `| ${n(w.writes)} | ${w.mode} | ${n(w.usPerWrite, 1)} | ${n(w.ratio, 2)} |`)];
  return [...table, ...cost, '', 'floor: the differing entries once, plus 1.4 symbols of 27 bytes per differing item (two items per changed key)'].join('\n');
}

export interface SimRow {
  diffs: number;
  loss: number;
  method: string;
  convergeMs: number;
  bytes: number;
  broken: number;
  /** Runs that converged within 120 virtual seconds of the heal. */
  converged: number;
  runs: number;
}

/**
 * The simulator's comparison (lib/sim/reconcile-compare.ts): 4 stores of
 * 1,000 keys on 100 ms links, split in halves that write `diffs` keys, then
 * healed; virtual time and bytes until every root agrees (or 120 s pass),
 * the mean of `seeds` seeds. A lost frame breaks its connection, which
 * redials with backoff and starts its exchange over.
 */
export async function runReconcileSimBench(seeds = 2): Promise<SimRow[]> {
  const rows: SimRow[] = [];
  for (const loss of [0, 0.05, 0.2]) {
    for (const diffs of [10, 100, 1000]) {
      const sums = new Map<string, SimRow>();
      for (let seed = 1; seed <= seeds; seed++) {
        for (const r of await compareReconciliation({ diffs, loss, seed, keys: 1000, latency: 100 })) {
          const row = sums.get(r.method) ?? { diffs, loss, method: r.method, convergeMs: 0, bytes: 0, broken: 0, converged: 0, runs: seeds };
          row.converged += r.converged ? 1 : 0;
          row.convergeMs += r.convergeMs / seeds;
          row.bytes += r.bytes / seeds;
          row.broken += r.broken / seeds;
          sums.set(r.method, row);
        }
      }
      rows.push(...sums.values());
    }
  }
  return rows;
}

export function formatReconcileSim(rows: SimRow[]): string {
  const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return [
    '| keys written in the partition | loss per frame | method | ms from heal to one root (virtual) | bytes | connections broken | converged |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${n(r.diffs)} | ${r.loss} | ${r.method} | ${r.converged < r.runs ? '> ' : ''}${n(r.convergeMs)} | ${n(r.bytes)} | ${n(r.broken, 1)} | ${r.converged} of ${r.runs} |`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const keys = process.argv[2] ? Number(process.argv[2]) : process.env.BENCH_RECONCILE_KEYS ? Number(process.env.BENCH_RECONCILE_KEYS) : undefined;
  console.log(formatReconcile(await runReconcileBench({ keys })));
  console.log('');
  console.log(formatReconcileSim(await runReconcileSimBench()));
  console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} cores`);
}
