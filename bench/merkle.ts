// MerkleStore anti-entropy at 1,000,000 keys: two stores that differ in 100
// (and 10,000) keys, reconciled by the Merkle walk, by sending the whole
// store, and (as a model) by scuttlebutt's "everything since your clock".
//
// Run alone: node --expose-gc dist/bench/merkle.js [keys]
// The base store is built once (batched writes) into the OS temp dir and
// reused; each scenario works on fresh copies of it.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { byteCounter } from './harness.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pump from 'pump';
import { MerkleStore, Model, replicate } from '../lib/index.js';
import { FrameType, MerkleTree, Random } from '../lib/core.js';
import { decodeState, uint } from '../lib/codec/index.js';
import { HASH_BYTES } from '../lib/merkle/hash.js';
import { merkleMessageCodec } from '../lib/merkle/messages.js';
import { decodeRecord } from '../lib/merkle/record.js';
import { dataKey } from '../lib/merkle/stored-keys.js';

export interface MerkleBenchRow {
  keys: number;
  diffs: number;
  method: string;
  /** Bytes on the wire, both directions. */
  bytes: number;
  roundTrips: number;
  ms: number;
  /** Peak resident set size during the exchange, MiB. */
  peakRssMiB: number;
  /** Longest event-loop stall during the exchange, ms. */
  maxStallMs: number;
  /** bytes / (differing entries + hashes of the tree nodes on the paths to them). */
  bytesRatio: number | undefined;
  note: string;
}

export interface MerkleBenchOptions {
  keys?: number;
  depth?: number;
  diffs?: number[];
  seed?: number;
  /** Also time a rebuild of the tree from the data (an open after a crash). Default true. */
  rebuild?: boolean;
  /** Also run the whole-store exchange (slow at 1M keys). Default true. */
  wholeStore?: boolean;
  /** Writes made by the process killed for the "open after a crash" row. Default 30,000 (just under a depth-20 store's checkpoint interval of 32,768 buckets: about the most an open replays). */
  crashWrites?: number;
  log?: (line: string) => void;
}

const BENCH_VERSION = 1;

export async function runMerkleBench(options: MerkleBenchOptions = {}): Promise<MerkleBenchRow[]> {
  const keys = options.keys ?? 1_000_000;
  const depth = options.depth ?? 20;
  const log = options.log ?? ((line: string) => console.error(line));
  const root = join(tmpdir(), `tendril-bench-merkle-v${BENCH_VERSION}`);
  const base = join(root, `base-${keys}-d${depth}`);
  await buildBase(base, keys, depth, log);
  const rows: MerkleBenchRow[] = await openRows(root, base, keys, depth, options, log);
  for (const diffs of options.diffs ?? [100, 10_000]) {
    if (diffs > keys) throw new Error(`${diffs} differing keys need a store of at least as many keys, not ${keys}`);
    const random = new Random((options.seed ?? 1) + diffs);
    const dirA = join(root, 'work-a');
    const dirB = join(root, 'work-b');
    for (const dir of [dirA, dirB]) {
      rmSync(dir, { recursive: true, force: true });
      cpSync(base, dir, { recursive: true });
    }
    const a = new MerkleStore<unknown>({ path: join(dirA, 'db'), depth, id: 'A' });
    const b = new MerkleStore<unknown>({ path: join(dirB, 'db'), depth, id: 'B' });
    await Promise.all([a.open(), b.open()]);
    log(`opened 2 stores of ${keys} keys`);

    // Half the differing keys change on each side.
    const changed = new Set<number>();
    while (changed.size < diffs) changed.add(random.int(0, keys - 1));
    const differing = [...changed].map((i) => `key-${i}`);
    await Promise.all(differing.map((key, i) => (i % 2 === 0 ? a : b).put(key, { changed: true, by: i % 2 === 0 ? 'A' : 'B', payload: 'y'.repeat(24) })));
    log(`${diffs} keys changed (${diffs / 2} on each side)`);

    // What any protocol must move: each differing entry once, and the hashes of the tree nodes on the paths to them.
    let entryBytes = 0;
    const pathNodes = new Set<string>();
    const dataOf = [a, b].map((s) => s.db.sublevel<Uint8Array, Uint8Array>('d', { keyEncoding: 'view', valueEncoding: 'view' }));
    for (const [index, key] of differing.entries()) {
      const stored = await dataOf[index % 2].get(dataKey(key));
      entryBytes += merkleMessageCodec.encodingLength({ type: 'entry', key, record: stored! });
      const storedKey = dataKey(key);
      let bucket = a.tree!.bucketOf(storedKey.readUInt32BE(0));
      for (let level = depth; level >= 0; level--, bucket = Math.floor(bucket / 2)) pathNodes.add(`${level}/${bucket}`);
    }
    const floor = entryBytes + pathNodes.size * HASH_BYTES;

    const merkle = await measure(() => merkleSync(a, b));
    if (a.rootHash !== b.rootHash) throw new Error('merkle sync did not converge');
    rows.push({ keys, diffs, method: 'merkle walk', ...merkle, bytesRatio: merkle.bytes / floor, note: `depth ${depth}; floor ${floor} B = ${entryBytes} B of entries + ${pathNodes.size} path hashes` });

    const [modelA, modelB] = await modelPair(keys, differing);
    const model = await measure(() => modelSync(modelA, modelB, differing[0]));
    rows.push({
      keys,
      diffs,
      method: 'since your clock (tendril Model)',
      ...model,
      bytesRatio: model.bytes / floor,
      note: 'the same keys and values in two scuttlebutt Models that share their history; digests, then the updates each lacks',
    });

    if (options.wholeStore ?? true) {
      const whole = await measure(() => wholeStoreExchange(a, b));
      rows.push({ keys, diffs, method: 'whole store', ...whole, bytesRatio: whole.bytes / floor, note: 'each side streams every entry to the other' });
    }
    await Promise.all([a.close(), b.close()]);
    for (const dir of [dirA, dirB]) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/**
 * The open rows: a clean close's saved tree loaded back; an open after a
 * real crash (a child process writes, then is killed with SIGKILL), which
 * loads the stored tree and replays the journal; and, for comparison, a
 * rebuild of the tree from every record (what an open after a crash did
 * before the journal, and still does without a usable stored tree).
 */
async function openRows(root: string, base: string, keys: number, depth: number, options: MerkleBenchOptions, log: (line: string) => void): Promise<MerkleBenchRow[]> {
  const rows: MerkleBenchRow[] = [];
  const dir = join(root, 'work-open');
  rmSync(dir, { recursive: true, force: true });
  cpSync(base, dir, { recursive: true });
  const path = join(dir, 'db');
  const clean = new MerkleStore<unknown>({ path, depth });
  const opened = await measure(async () => {
    await clean.open();
    return { bytes: NaN, roundTrips: NaN };
  });
  if (clean.openedFrom !== 'snapshot') throw new Error('expected to load the saved tree');
  rows.push({ keys, diffs: NaN, method: 'open: load the saved tree', ...opened, bytesRatio: undefined, note: `${(MerkleTree.byteLength(depth) / 2 ** 20).toFixed(0)} MiB of tree read back after a clean close` });
  if (options.rebuild ?? true) {
    const rebuilt = await measure(async () => {
      await clean.buildTree();
      return { bytes: NaN, roundTrips: NaN };
    });
    rows.push({ keys, diffs: NaN, method: 'open: rebuild the tree', ...rebuilt, bytesRatio: undefined, note: 'scan every record, hash it, recompute the inner nodes: what an open after a crash did before the journal' });
  }
  await clean.close();

  const writes = options.crashWrites ?? 30_000;
  log(`a child process writes ${writes} keys, then is killed with SIGKILL...`);
  await writeAndKill(path, depth, keys, writes);
  const crashed = new MerkleStore<unknown>({ path, depth });
  const recovered = await measure(async () => {
    await crashed.open();
    return { bytes: NaN, roundTrips: NaN };
  });
  if (crashed.openedFrom !== 'journal') throw new Error(`expected to replay the journal, got ${crashed.openedFrom}`);
  rows.push({
    keys,
    diffs: NaN,
    method: 'open after a crash',
    ...recovered,
    bytesRatio: undefined,
    note: `SIGKILL after ${writes} acknowledged writes: the stored tree loaded, ${crashed.replayedBatches} write batches replayed from the journal`,
  });
  await crashed.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

/** Runs bench/merkle-crash-writer.js on the store at `path` and kills it with SIGKILL once it has acknowledged every write. */
function writeAndKill(path: string, depth: number, keys: number, writes: number): Promise<void> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'merkle-crash-writer.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, String(depth), String(keys), String(writes)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('written')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error('the crash writer exited on its own'))));
  });
}

interface Measured {
  bytes: number;
  roundTrips: number;
  ms: number;
  peakRssMiB: number;
  maxStallMs: number;
}

// Two Models holding the same `keys` entries (one shared history, as after
// an earlier full sync), built once per run and copied per scenario.
let modelBase: Model | undefined;

async function modelPair(keys: number, differing: string[]): Promise<[Model, Model]> {
  if (!modelBase || modelBase.size !== keys) {
    modelBase = new Model({ id: 'base' });
    for (let i = 0; i < keys; i++) modelBase.set(`key-${i}`, { i, payload: 'x'.repeat(24) });
  }
  const copy = async (id: string) => {
    const model = new Model({ id });
    await (await replicate(modelBase!, model, { live: false })).done;
    return model;
  };
  const [a, b] = [await copy('A'), await copy('B')];
  differing.forEach((key, i) => (i % 2 === 0 ? a : b).set(key, { changed: true, by: i % 2 === 0 ? 'A' : 'B', payload: 'y'.repeat(24) }));
  return [a, b];
}

async function modelSync(a: Model, b: Model, probe: string): Promise<{ bytes: number; roundTrips: number }> {
  const ab = byteCounter();
  const ba = byteCounter();
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  await new Promise((resolve) => pump(sa, ab, sb, ba, sa, resolve));
  const bytes = ab.bytes + ba.bytes;
  if (JSON.stringify(a.meta(probe)) !== JSON.stringify(b.meta(probe)) || a.size !== b.size) throw new Error('model sync did not converge');
  // Both digests cross at once, then each side's missing updates: one round trip.
  return { bytes, roundTrips: 1 };
}

async function measure(run: () => Promise<{ bytes: number; roundTrips: number }>): Promise<Measured> {
  (globalThis as { gc?: () => void }).gc?.();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  delay.enable();
  const started = performance.now();
  const { bytes, roundTrips } = await run();
  const ms = performance.now() - started;
  delay.disable();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { bytes, roundTrips, ms, peakRssMiB: peak / 2 ** 20, maxStallMs: delay.max / 1e6 };
}

/**
 * Pipes the two stores' streams through taps that count bytes and decode
 * the frames. Round trips come from what the frames carry: each message
 * that can only be sent after the peer's previous one (the handshake, the
 * root, each tree level, the entries with `covered`, the answers with
 * `end`) is one flight; round trips are flights / 2, rounded up.
 */
async function merkleSync(a: MerkleStore<unknown>, b: MerkleStore<unknown>): Promise<{ bytes: number; roundTrips: number }> {
  const sa = a.createStream({ live: false });
  const sb = b.createStream({ live: false });
  let bytes = 0;
  let deepestLevel = -1;
  let covered = false;
  let ended = false;
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
            break; // a length prefix cut in two
          }
          if (state.offset + length > pending.length) break;
          const frame = pending.subarray(state.offset, state.offset + length);
          pending = pending.subarray(state.offset + length);
          if (frame[0] !== FrameType.data) continue;
          const body = decodeState(frame.subarray(1));
          const skip = (n: number) => (body.offset += n);
          for (let count = uint.decode(body); count > 0; count--) {
            // Read just the type and level, skipping the rest: the tap must cost little next to what it measures.
            const tag = uint.decode(body);
            if (tag === 0) {
              deepestLevel = Math.max(deepestLevel, uint.decode(body));
              for (let parents = uint.decode(body); parents > 0; parents--) uint.decode(body);
              skip(uint.decode(body) + 1); // hashes, last
            } else if (tag === 1) {
              skip(uint.decode(body)); // key
              skip(uint.decode(body)); // record
            } else if (tag === 2) {
              covered = true;
              for (let buckets = uint.decode(body); buckets > 0; buckets--) uint.decode(body);
              body.offset += 1;
            } else if (tag === 3) ended = true;
          }
        }
        callback(null, chunk);
      },
    });
  };
  await new Promise<void>((resolve, reject) => pump(sa, tap(), sb, tap(), sa, (err) => (err ? reject(err) : resolve())));
  await Promise.all([a.flushed(), b.flushed()]);
  const flights = 1 + (deepestLevel + 1) + (covered ? 1 : 0) + (ended ? 1 : 0);
  return { bytes, roundTrips: Math.ceil(flights / 2) };
}

/** The naive exchange: each side sends every entry it holds, the other merges them all. */
async function wholeStoreExchange(a: MerkleStore<unknown>, b: MerkleStore<unknown>): Promise<{ bytes: number; roundTrips: number }> {
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
  return { bytes, roundTrips: 1 };
}

/** Builds the shared base store once, with batched writes, and marks it complete. */
async function buildBase(dir: string, keys: number, depth: number, log: (line: string) => void): Promise<void> {
  const marker = join(dir, 'BENCH-READY');
  if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).keys === keys) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`building a base store of ${keys} keys in ${dir} (once)...`);
  const started = performance.now();
  const store = new MerkleStore<unknown>({ path: join(dir, 'db'), depth, id: 'base' });
  const window = 8192;
  for (let i = 0; i < keys; i += window) {
    const puts: Promise<string>[] = [];
    for (let j = i; j < Math.min(keys, i + window); j++) puts.push(store.put(`key-${j}`, { i: j, payload: 'x'.repeat(24) }));
    await Promise.all(puts);
  }
  await store.close();
  writeFileSync(marker, JSON.stringify({ keys, depth }));
  log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export function formatMerkleRows(rows: MerkleBenchRow[]): string {
  const head = '| keys | differing | method | bytes on the wire | ratio to floor | round trips | time (ms) | peak RSS (MiB) | longest stall (ms) |';
  const rule = '|---|---|---|---|---|---|---|---|---|';
  const n = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
  const lines = rows.map((r) => `| ${n(r.keys)} | ${n(r.diffs)} | ${r.method} | ${n(r.bytes)} | ${r.bytesRatio === undefined ? 'n/a' : n(r.bytesRatio, 2)} | ${n(r.roundTrips)} | ${n(r.ms)} | ${n(r.peakRssMiB)} | ${n(r.maxStallMs, 1)} |`);
  return [head, rule, ...lines].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const keys = process.argv[2] ? Number(process.argv[2]) : undefined;
  const rows = await runMerkleBench({ keys });
  console.log(formatMerkleRows(rows));
  console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} cores (stalls include time the OS ran other processes)`);
  for (const r of rows) console.log(`${r.method}${Number.isFinite(r.diffs) ? ` (${r.diffs} differing)` : ''}: ${r.note}`);
}
