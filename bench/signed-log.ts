// What verifying every signed Log entry loaded from disk costs: a persisted
// log of N entries (default 10,000) is opened from an in-memory database
// as an unsigned log, as a signed log verified by the verifier in use
// (Node's OpenSSL after @noble/curves' key checks), and as a signed log
// verified by @noble/curves alone (what a browser runs).
import { MemoryLevel } from 'memory-level';
import { Log, persist, signing } from '../lib/index.js';
import { verifiers } from '../lib/scuttlebutt/signing.js';

export interface SignedLoadRow {
  variant: string;
  entries: number;
  openMs: number;
}

async function stored(entries: number, signed: boolean): Promise<{ db: MemoryLevel<string, Uint8Array>; id: string }> {
  const db = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' });
  const log = signed ? new Log({ secretKey: signing.secretKey(), name: 'bench' }) : new Log({ id: 'author', name: 'bench' });
  const persisted = await persist(log, db);
  for (let i = 0; i < entries; i++) log.append({ i, text: 'an entry of a few dozen bytes' });
  await persisted.close();
  return { db, id: log.id };
}

async function timeOpen(db: MemoryLevel<string, Uint8Array>, id: string, signed: boolean, entries: number): Promise<number> {
  const log = new Log({ id, name: 'bench', signed });
  const started = performance.now();
  const persisted = await persist(log, db);
  const ms = performance.now() - started;
  if (log.length !== entries) throw new Error(`loaded ${log.length} of ${entries}`);
  await persisted.close();
  return ms;
}

export async function runSignedLogBench(entries = 10_000): Promise<SignedLoadRow[]> {
  const plain = await stored(entries, false);
  const signed = await stored(entries, true);
  const rows: SignedLoadRow[] = [];
  rows.push({ variant: 'unsigned', entries, openMs: await timeOpen(plain.db, plain.id, false, entries) });
  rows.push({ variant: 'signed, verified (in use)', entries, openMs: await timeOpen(signed.db, signed.id, true, entries) });
  const fast = verifiers.fast;
  verifiers.fast = verifiers.strict;
  try {
    rows.push({ variant: 'signed, verified by @noble/curves alone', entries, openMs: await timeOpen(signed.db, signed.id, true, entries) });
  } finally {
    verifiers.fast = fast;
  }
  return rows;
}

export function formatSignedLogBench(rows: SignedLoadRow[]): string {
  const base = rows[0].openMs;
  const lines = ['| opening a persisted Log | entries | ms | per entry (µs) | ratio to unsigned |', '|---|---:|---:|---:|---:|'];
  for (const row of rows) {
    lines.push(`| ${row.variant} | ${row.entries} | ${row.openMs.toFixed(0)} | ${((row.openMs * 1000) / row.entries).toFixed(0)} | ${(row.openMs / base).toFixed(1)}x |`);
  }
  return lines.join('\n');
}
