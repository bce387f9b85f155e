import { Seq } from '../../lib/index.js';
import type { DeltaOp } from '../../lib/seq/index.js';

/** Applies a change event's delta to a plain array of elements, as a listener would. */
export function applyOps(elements: unknown[], ops: DeltaOp[]): unknown[] {
  const out: unknown[] = [];
  let at = 0;
  for (const op of ops) {
    if ('retain' in op) {
      out.push(...elements.slice(at, at + op.retain));
      at += op.retain;
    } else if ('delete' in op) {
      at += op.delete;
    } else {
      const inserted = op.insert;
      if (typeof inserted === 'string') for (let i = 0; i < inserted.length; i++) out.push(inserted[i]);
      else out.push(...inserted);
    }
  }
  out.push(...elements.slice(at));
  return out;
}

/** Test runs per property: 200, times NIGHTLY (default 10 when set) for the nightly run. */
export function propertyRuns(base = 200): number {
  const nightly = process.env.NIGHTLY;
  if (!nightly) return base;
  const factor = Number(nightly);
  return base * (Number.isFinite(factor) && factor > 1 ? factor : 10);
}

/** How a receiver describes remote changes (`SeqDocument.describeWith`). */
export type Describer = Seq['document']['describeWith'];

/** Fresh receivers, one per way of describing remote changes, each keeping its deltas and a mirror built from them. */
export function describingReceivers<H extends Describer>(hows: readonly H[]): Array<{ how: H; seq: Seq; deltas: string[]; mirror: () => unknown[] }> {
  return hows.map((how) => {
    const seq = new Seq({ clientId: 9 });
    seq.document.describeWith = how;
    const deltas: string[] = [];
    let mirror: unknown[] = [];
    seq.on('change', (change) => {
      deltas.push(JSON.stringify(change.delta));
      mirror = applyOps(mirror, change.delta);
    });
    return { how, seq, deltas, mirror: () => mirror };
  });
}
