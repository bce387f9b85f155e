// The spread of the rateless exchange over several seeds, at the small differences where one
// draw says little: the window is sized from an estimate, and the decoding itself takes 1.3 to
// 2.2 symbols per item there, so the bytes ratio and the `progress` round trips vary by draw.
// Run at a smaller key count than the single row (the set's size does not enter the symbols or
// the estimate, only the time to copy the stores).
import { runReconcileBench } from './reconcile.js';

export interface SpreadRow {
  keys: number;
  diffs: number;
  seeds: number;
  medianRatio: number;
  worstRatio: number;
  overGoal: number;
  /** Syncs that needed more than one round trip to learn the difference (a `progress`). */
  extraRoundTrips: number;
}

export async function runReconcileSpread(options: { keys?: number; diffs?: number[]; seeds?: number } = {}): Promise<SpreadRow[]> {
  const keys = options.keys ?? 20_000;
  const seeds = options.seeds ?? 20;
  const rows: SpreadRow[] = [];
  for (const diffs of options.diffs ?? [10, 100]) {
    const ratios: number[] = [];
    let extraRoundTrips = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const { rows: measured } = await runReconcileBench({ keys, diffs: [diffs], seed: seed * 101, methods: ['rateless'], writes: 1, log: () => {} });
      const row = measured.find((r) => r.method === 'rateless')!;
      ratios.push(row.ratio);
      if (row.learnRoundTrips > 1) extraRoundTrips++;
    }
    ratios.sort((x, y) => x - y);
    rows.push({ keys, diffs, seeds, medianRatio: ratios[Math.floor((seeds - 1) / 2)], worstRatio: ratios[seeds - 1], overGoal: ratios.filter((r) => r > 1.5).length, extraRoundTrips });
  }
  return rows;
}

export function formatReconcileSpread(rows: SpreadRow[]): string {
  return [
    '| keys | differing keys | seeds | median bytes / floor | worst | above 1.5 | syncs with a `progress` (a round trip more) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.keys.toLocaleString('en-US')} | ${r.diffs} | ${r.seeds} | ${r.medianRatio.toFixed(2)} | ${r.worstRatio.toFixed(2)} | ${r.overGoal} | ${r.extraRoundTrips} |`),
  ].join('\n');
}
