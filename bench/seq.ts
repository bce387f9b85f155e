// Seq against Yjs (Y.Text, with its v1 and v2 update formats), Automerge
// (a text field, its saved document) and dominictarr's crdt Seq on the B1
// shapes of the crdt-benchmarks suite, a human-like editing session, and two
// such sessions typed concurrently, side by side in one run.
// Usage: node --expose-gc dist/bench/seq.js
//   env N (edits per row, default 6000), SEED (default 1),
//   TRACE_EDITS (edits of the human-like session, default 200,000; split between the two concurrent writers, at most 40,000 in all),
//   CRDT_LIMIT_S (seconds crdt may spend on one row before it is stopped, default 30; 0 leaves it out),
//   AUTOMERGE_LIMIT_S (the same for Automerge, default 10; 0 leaves it out)
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as Y from 'yjs';
import * as Automerge from '@automerge/automerge';
import { Seq } from '../lib/index.js';
import { encodeDelta } from '../lib/seq/update-codec.js';
import { editingTrace } from './editing-trace.js';

export interface SeqBenchRow {
  benchmark: string;
  implementation: string;
  /** Time to make all the edits, each producing its update, in ms. */
  timeMs: number;
  /** Mean size of one edit's update, in bytes. */
  avgUpdateBytes: number;
  /** Size of the whole encoded document, in bytes. */
  docBytes: number;
  /** Time to load the encoded document into a fresh replica and read its text, in ms. */
  loadMs: number;
  /** Edits made: fewer than `edits` when the implementation hit the time limit. */
  completed: number;
  edits: number;
  /** For tendril: the whole document in the row form (what full states used before the column form), in bytes. */
  rowDocBytes?: number;
}

/** One edit: insert `text` or delete `length` at `index`. */
type Edit = { index: number; text: string } | { index: number; length: number };

/** Adapts one implementation to the benchmark: make edits, encode, load. */
interface Subject {
  name: string;
  /**
   * Makes the edits on a fresh document; returns the update sizes and the
   * encoded document. Stops early (reporting `completed`) past `limitMs`.
   */
  run(edits: Edit[], limitMs: number): { updateSizes: number[]; doc: Uint8Array | string; text: string; elapsed: number; completed?: number; rowDocBytes?: number };
  /** Loads an encoded document into a fresh replica and returns its text. */
  load(doc: Uint8Array | string): string;
  /**
   * Two writers (one replica each) make their edits concurrently, `every`
   * edits each at a time, then exchange what the other lacks (state vector
   * in, missing updates out). Returns the first replica's whole document,
   * every replica's text, and the bytes the exchanges carried.
   */
  runConcurrent?(writers: Edit[][], every: number): { doc: Uint8Array; texts: string[]; syncBytes: number; elapsed: number; rowDocBytes?: number };
}

/**
 * Applies `edit` to a document of `length` elements, with its index and
 * length clamped to the document: a writer's edits were generated for its
 * own text, and the other writer's text moves them.
 */
function clamped(edit: Edit, length: number, insert: (index: number, text: string) => void, remove: (index: number, count: number) => void): void {
  const index = Math.min(edit.index, length);
  if ('text' in edit) insert(index, edit.text);
  else if (Math.min(edit.length, length - index) > 0) remove(index, Math.min(edit.length, length - index));
}

/** mulberry32: a small seeded generator, so every implementation gets the same edits. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Both Seq and Yjs pick random 32-bit client ids; the benchmark fixes two
 * such ids so that runs repeat exactly and sizes are the realistic ones.
 */
const CLIENT_A = 0x9e3779b9;
const CLIENT_B = 0x7f4a7c15;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz ';

/** One row's edits: one writer's, or several writers' typed concurrently (exchanging every `every` edits). */
type Script = { name: string; edits: Edit[] } | { name: string; writers: Edit[][]; every: number };

/** The edit scripts, precomputed so that generating them is not timed. */
function scripts(n: number, seed: number, traceEdits: number): Script[] {
  const random = prng(seed);
  const char = () => ALPHABET[Math.floor(random() * ALPHABET.length)];
  const append: Edit[] = [];
  for (let i = 0; i < n; i++) append.push({ index: i, text: char() });
  const randomInserts: Edit[] = [];
  for (let i = 0; i < n; i++) randomInserts.push({ index: Math.floor(random() * (i + 1)), text: char() });
  // B1.6: N edits; each deletes 1-10 characters at a random position or
  // inserts a 1-10 character string there, half and half.
  const mixed: Edit[] = [];
  let length = 0;
  for (let i = 0; i < n; i++) {
    const index = Math.floor(random() * (length + 1));
    if (length > index && random() < 0.5) {
      const count = Math.min(length - index, 1 + Math.floor(random() * 10));
      mixed.push({ index, length: count });
      length -= count;
    } else {
      let text = '';
      const count = 1 + Math.floor(random() * 10);
      for (let k = 0; k < count; k++) text += char();
      mixed.push({ index, text });
      length += count;
    }
  }
  return [
    { name: `B1.1 append ${n} characters`, edits: append },
    { name: `B1.4 insert ${n} characters at random positions`, edits: randomInserts },
    { name: `B1.6 ${n} random deletes and inserts`, edits: mixed },
    ...(traceEdits > 0 ? [{ name: `human-like editing session, ${traceEdits} edits (seed ${seed})`, edits: editingTrace(traceEdits, seed) }] : []),
    ...(traceEdits > 1 ? [concurrentScript(Math.floor(Math.min(traceEdits, MAX_CONCURRENT_EDITS) / 2), seed)] : []),
  ];
}

/** Edits each concurrent writer makes between two exchanges. */
const CONCURRENT_EVERY = 50;
/**
 * Edits of the concurrent row, both writers together. Each exchange carries
 * every deletion known (as Yjs's does: `encodeState(stateVector)` has no
 * digest of the peer's deletions), so its cost grows with the document; this
 * keeps the row to seconds.
 */
const MAX_CONCURRENT_EDITS = 40_000;

function concurrentScript(each: number, seed: number): Script {
  return {
    name: `two human-like sessions typed concurrently, ${each} edits each, exchanged every ${CONCURRENT_EVERY} (seeds ${seed + 1}, ${seed + 2})`,
    writers: [editingTrace(each, seed + 1), editingTrace(each, seed + 2)],
    every: CONCURRENT_EVERY,
  };
}

/** Drives `writers` over `replicas` in rounds of `every` edits, calling `exchange` after each round. */
function concurrently<R>(replicas: R[], writers: Edit[][], every: number, edit: (replica: R, edit: Edit) => void, exchange: () => void): void {
  const longest = Math.max(...writers.map((w) => w.length));
  for (let from = 0; from < longest; from += every) {
    writers.forEach((edits, w) => {
      for (let i = from; i < Math.min(from + every, edits.length); i++) edit(replicas[w], edits[i]);
    });
    exchange();
  }
}

const tendril: Subject = {
  name: 'tendril Seq',
  run(edits) {
    const seq = new Seq({ clientId: CLIENT_A });
    const updateSizes: number[] = [];
    seq.on('update', (update: Buffer) => updateSizes.push(update.length));
    const started = performance.now();
    for (const edit of edits) {
      if ('text' in edit) seq.insert(edit.index, edit.text);
      else seq.delete(edit.index, edit.length);
    }
    const elapsed = performance.now() - started;
    const rowDocBytes = encodeDelta(seq.document, seq.document.missing(new Map()), 'rows').length;
    return { updateSizes, doc: seq.encodeState(), text: seq.toString(), elapsed, rowDocBytes };
  },
  load(doc) {
    const seq = new Seq({ clientId: CLIENT_B });
    seq.applyUpdate(doc as Uint8Array);
    return seq.toString();
  },
  runConcurrent(writers, every) {
    const replicas = [CLIENT_A, CLIENT_B].map((clientId) => new Seq({ clientId }));
    let syncBytes = 0;
    const started = performance.now();
    concurrently(
      replicas,
      writers,
      every,
      (seq, edit) => clamped(edit, seq.length, (i, text) => seq.insert(i, text), (i, n) => seq.delete(i, n)),
      () => {
        for (const [a, b] of [replicas, [...replicas].reverse()]) {
          const update = a.encodeState(b.stateVector());
          syncBytes += update.length;
          b.applyUpdate(update);
        }
      },
    );
    const elapsed = performance.now() - started;
    const rowDocBytes = encodeDelta(replicas[0].document, replicas[0].document.missing(new Map()), 'rows').length;
    return { doc: replicas[0].encodeState(), texts: replicas.map((r) => r.toString()), syncBytes, elapsed, rowDocBytes };
  },
};

/** Yjs with its default (v1) update format, or with the column-compressed v2 format. */
function yjsSubject(v2: boolean): Subject {
  return {
    name: v2 ? 'yjs Y.Text (update v2)' : 'yjs Y.Text',
    run(edits) {
      const doc = new Y.Doc();
      doc.clientID = CLIENT_A;
      const text = doc.getText('text');
      const updateSizes: number[] = [];
      doc.on(v2 ? 'updateV2' : 'update', (update: Uint8Array) => updateSizes.push(update.length));
      const started = performance.now();
      for (const edit of edits) {
        if ('text' in edit) text.insert(edit.index, edit.text);
        else text.delete(edit.index, edit.length);
      }
      const elapsed = performance.now() - started;
      return { updateSizes, doc: v2 ? Y.encodeStateAsUpdateV2(doc) : Y.encodeStateAsUpdate(doc), text: text.toString(), elapsed };
    },
    load(encoded) {
      const doc = new Y.Doc();
      if (v2) Y.applyUpdateV2(doc, encoded as Uint8Array);
      else Y.applyUpdate(doc, encoded as Uint8Array);
      return doc.getText('text').toString();
    },
    runConcurrent(writers, every) {
      const docs = [CLIENT_A, CLIENT_B].map((clientId) => {
        const doc = new Y.Doc();
        doc.clientID = clientId;
        return doc;
      });
      let syncBytes = 0;
      const started = performance.now();
      concurrently(
        docs,
        writers,
        every,
        (doc, edit) => {
          const text = doc.getText('text');
          clamped(edit, text.length, (i, s) => text.insert(i, s), (i, n) => text.delete(i, n));
        },
        () => {
          for (const [a, b] of [docs, [...docs].reverse()]) {
            const vector = Y.encodeStateVector(b);
            const update = v2 ? Y.encodeStateAsUpdateV2(a, vector) : Y.encodeStateAsUpdate(a, vector);
            syncBytes += update.length;
            if (v2) Y.applyUpdateV2(b, update);
            else Y.applyUpdate(b, update);
          }
        },
      );
      const elapsed = performance.now() - started;
      const doc = v2 ? Y.encodeStateAsUpdateV2(docs[0]) : Y.encodeStateAsUpdate(docs[0]);
      return { doc, texts: docs.map((d) => d.getText('text').toString()), syncBytes, elapsed };
    },
  };
}

/**
 * Automerge 3: a document with one text field, one change per edit (as an
 * editor commits each keystroke); its document is `Automerge.save`, which
 * keeps the whole history (deleted characters included) and compresses it.
 * It is much slower per edit, so, like crdt, it is stopped at a time limit.
 */
const automerge: Subject = {
  name: 'automerge text',
  run(edits, limitMs) {
    let doc = Automerge.from<{ text: string }>({ text: '' }, { actor: CLIENT_A.toString(16).padStart(8, '0') });
    const updateSizes: number[] = [];
    let completed = 0;
    const started = performance.now();
    for (const edit of edits) {
      if (completed % 50 === 0 && performance.now() - started > limitMs) break;
      completed++;
      const before = doc;
      doc = Automerge.change(doc, (d) => {
        if ('text' in edit) Automerge.splice(d, ['text'], edit.index, 0, edit.text);
        else Automerge.splice(d, ['text'], edit.index, edit.length);
      });
      // Sizes of the first edits only: each costs a call into its engine.
      if (completed <= 1000) for (const change of Automerge.getChanges(before, doc)) updateSizes.push(change.length);
    }
    const elapsed = performance.now() - started;
    return { updateSizes, doc: Automerge.save(doc), text: doc.text, elapsed, completed };
  },
  load(encoded) {
    return Automerge.load<{ text: string }>(encoded as Uint8Array).text;
  },
};

const yjs = yjsSubject(false);
const yjsV2 = yjsSubject(true);

/**
 * dominictarr's crdt (scuttlebutt): a Seq is a set of rows ordered by a
 * fractional `_sort` key; one row per character. Updates are scuttlebutt
 * updates, measured as JSON (the stream's line format); the document is the
 * JSON of its history.
 */
function crdtSubject(): Subject | undefined {
  let crdt: any;
  try {
    crdt = createRequire(import.meta.url)('crdt');
  } catch {
    return undefined;
  }
  const textOf = (seq: any) =>
    seq
      .toJSON()
      .map((row: any) => row.c)
      .join('');
  return {
    name: 'crdt Seq',
    run(edits, limitMs) {
      const doc = new crdt.Doc({ id: 'a' });
      const seq = doc.createSeq('s', 'x');
      const updateSizes: number[] = [];
      doc.on('_update', (update: unknown) => updateSizes.push(Buffer.byteLength(JSON.stringify(update))));
      let id = 0;
      let completed = 0;
      const started = performance.now();
      for (const edit of edits) {
        // Its Seq slows down quadratically; stop at the time limit.
        if (completed % 50 === 0 && performance.now() - started > limitMs) break;
        completed++;
        if ('text' in edit) {
          // One row per character, placed between its neighbours.
          let before = edit.index > 0 ? seq.at(edit.index - 1) : undefined;
          for (const c of edit.text) {
            const after = before ? seq.next(before) : seq.first();
            const row = seq.insert({ id: `r${id++}`, s: 'x', c }, before, after);
            before = row;
          }
        } else {
          const rows = [];
          for (let k = 0; k < edit.length; k++) rows.push(seq.at(edit.index + k));
          for (const row of rows) doc.rm(row.id);
        }
      }
      const elapsed = performance.now() - started;
      return { updateSizes, doc: JSON.stringify(doc.history()), text: textOf(seq), elapsed, completed };
    },
    load(encoded) {
      const doc = new crdt.Doc({ id: 'b' });
      const seq = doc.createSeq('s', 'x');
      for (const update of JSON.parse(encoded as string)) doc.applyUpdate(update);
      return textOf(seq);
    },
  };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Runs every benchmark row for every implementation; `n` edits per row. */
export function runSeqBench(
  options: { n?: number; seed?: number; includeCrdt?: boolean; crdtLimitMs?: number; automergeLimitMs?: number; traceEdits?: number } = {},
): SeqBenchRow[] {
  const n = options.n ?? 6000;
  const traceEdits = options.traceEdits ?? 0;
  const seed = options.seed ?? 1;
  const subjects = [tendril, yjs, yjsV2];
  const limitMs = options.crdtLimitMs ?? 30_000;
  const automergeLimitMs = options.automergeLimitMs ?? 10_000;
  if (automergeLimitMs > 0) subjects.push(automerge);
  const classic = options.includeCrdt === false || limitMs <= 0 ? undefined : crdtSubject();
  if (classic) subjects.push(classic);
  const rows: SeqBenchRow[] = [];
  for (const script of scripts(n, seed, traceEdits)) {
    const name = script.name;
    if ('writers' in script) {
      rows.push(...runConcurrentRow(script, subjects));
      continue;
    }
    const edits = script.edits;
    let expected: string | undefined;
    for (const subject of subjects) {
      // The median of a few repetitions (one for crdt and Automerge, which
      // are slow), to damp the noise of a shared machine.
      const slow = subject === classic || subject === automerge;
      const repeats = slow ? 1 : 3;
      let result: ReturnType<Subject['run']> | undefined;
      const times: number[] = [];
      for (let r = 0; r < repeats; r++) {
        gc();
        result = subject.run(edits, subject === automerge ? automergeLimitMs : limitMs);
        times.push(result.elapsed);
      }
      result = result!;
      const completed = result.completed ?? edits.length;
      const loads: number[] = [];
      let loaded = '';
      for (let r = 0; r < repeats + 2; r++) {
        gc();
        const started = performance.now();
        loaded = subject.load(result.doc);
        loads.push(performance.now() - started);
      }
      const loadMs = median(loads);
      expected ??= result.text;
      if (loaded !== result.text || (completed === edits.length && result.text !== expected)) throw new Error(`${subject.name} disagrees on ${name}`);
      rows.push({
        benchmark: name,
        implementation: subject.name,
        timeMs: median(times),
        avgUpdateBytes: mean(result.updateSizes),
        docBytes: typeof result.doc === 'string' ? Buffer.byteLength(result.doc) : result.doc.byteLength,
        loadMs,
        completed,
        edits: edits.length,
        rowDocBytes: result.rowDocBytes,
      });
    }
  }
  return rows;
}

/**
 * The concurrent row: each implementation's two replicas must converge, and
 * its whole document must load into that text. Texts are compared within
 * one implementation only (their lengths must agree across): Yjs's Y.Text
 * puts a local insert after the tombstones at its index, Seq before them,
 * so once a concurrent edit lands beside a tombstone the texts differ, both
 * valid. The update column is the bytes exchanged per edit.
 */
function runConcurrentRow(script: { name: string; writers: Edit[][]; every: number }, subjects: Subject[]): SeqBenchRow[] {
  const rows: SeqBenchRow[] = [];
  const edits = script.writers.reduce((sum, w) => sum + w.length, 0);
  let length: number | undefined;
  for (const subject of subjects) {
    if (!subject.runConcurrent) continue;
    gc();
    const result = subject.runConcurrent(script.writers, script.every);
    if (result.texts.some((text) => text !== result.texts[0])) throw new Error(`${subject.name} did not converge on ${script.name}`);
    length ??= result.texts[0].length;
    if (result.texts[0].length !== length) throw new Error(`${subject.name} disagrees on the length on ${script.name}`);
    const loads: number[] = [];
    for (let r = 0; r < 3; r++) {
      gc();
      const started = performance.now();
      const loaded = subject.load(result.doc);
      loads.push(performance.now() - started);
      if (loaded !== result.texts[0]) throw new Error(`${subject.name} loads another text on ${script.name}`);
    }
    rows.push({
      benchmark: script.name,
      implementation: subject.name,
      timeMs: result.elapsed,
      avgUpdateBytes: result.syncBytes / edits,
      docBytes: result.doc.byteLength,
      loadMs: median(loads),
      completed: edits,
      edits,
      rowDocBytes: result.rowDocBytes,
    });
  }
  return rows;
}

/** The rows as a Markdown table, with ratios ours / yjs (v1 and v2 formats) and ours / automerge under each benchmark, and the full-sync goal. */
export function formatSeqBench(rows: SeqBenchRow[]): string {
  const lines = ['| benchmark | implementation | time (ms) | avg update (B) | doc size (B) | load (ms) |', '|---|---|---:|---:|---:|---:|'];
  const benchmarks = [...new Set(rows.map((r) => r.benchmark))];
  const goal: string[] = [];
  let worst = 0;
  for (const benchmark of benchmarks) {
    const group = rows.filter((r) => r.benchmark === benchmark);
    for (const r of group) {
      const partial = r.completed < r.edits ? ` (stopped after ${r.completed} of ${r.edits} edits)` : '';
      lines.push(`| ${benchmark} | ${r.implementation}${partial} | ${r.timeMs.toFixed(1)} | ${r.avgUpdateBytes.toFixed(1)} | ${r.docBytes} | ${r.loadMs.toFixed(2)} |`);
      if (r.rowDocBytes !== undefined) lines.push(`| ${benchmark} | ${r.implementation}: the same document in the row form | | | ${r.rowDocBytes} | |`);
    }
    const ours = group.find((r) => r.implementation === tendril.name);
    for (const anchor of [yjs, yjsV2, automerge]) {
      const theirs = group.find((r) => r.implementation === anchor.name);
      // A run stopped at its time limit made a smaller document: no ratio.
      if (!ours || !theirs || theirs.completed < theirs.edits) continue;
      const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
      lines.push(
        `| ${benchmark} | ratio tendril / ${anchor.name} | ${ratio(ours.timeMs, theirs.timeMs)} | ${ratio(ours.avgUpdateBytes, theirs.avgUpdateBytes)} | ${ratio(ours.docBytes, theirs.docBytes)} | ${ratio(ours.loadMs, theirs.loadMs)} |`,
      );
      if (anchor === yjsV2) {
        const r = ours.docBytes / theirs.docBytes;
        worst = Math.max(worst, r);
        if (r > 1) goal.push(`${benchmark} (${r.toFixed(2)}x)`);
      }
    }
  }
  lines.push(
    '',
    goal.length === 0
      ? `Goal, full-sync bytes at most Yjs's v2 update on every trace: met (worst ratio ${worst.toFixed(3)}x).`
      : `Goal, full-sync bytes at most Yjs's v2 update on every trace: missed on ${goal.join(', ')}.`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.env.N ?? 6000);
  const seed = Number(process.env.SEED ?? 1);
  if (!(globalThis as { gc?: unknown }).gc) console.error('note: run with --expose-gc for steadier numbers');
  const crdtLimitMs = Number(process.env.CRDT_LIMIT_S ?? 30) * 1000;
  const automergeLimitMs = Number(process.env.AUTOMERGE_LIMIT_S ?? 10) * 1000;
  // One untimed warm-up pass so that every implementation runs JIT-compiled.
  runSeqBench({ n: Math.min(n, 1000), seed: seed + 1, crdtLimitMs: Math.min(crdtLimitMs, 2000), automergeLimitMs: Math.min(automergeLimitMs, 2000) });
  console.log(`Seq benchmark, N=${n}, seed ${seed}, node ${process.version}\n`);
  console.log(formatSeqBench(runSeqBench({ n, seed, crdtLimitMs, automergeLimitMs, traceEdits: Number(process.env.TRACE_EDITS ?? 200_000) })));
  if (!crdtSubject()) console.log('\n(crdt is not installed: its Seq was left out)');
}
