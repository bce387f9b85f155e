import { type KeyRecord, EMPTY_RECORD, encodeRecord, mergeRecords } from '../merkle/record.js';

export interface RepairPlan {
  /** Every answer merged: what the read returns. */
  merged: KeyRecord;
  /** Replicas whose answer differs from the merge: they are sent it. */
  stale: string[];
}

/**
 * Read repair: merge what the replicas answered (dotted version vectors
 * merge the same in any order) and list those that lack part of it. A
 * replica that answered with everything, byte for byte, is left alone, so
 * a read of a healthy key writes nothing.
 */
export function planRepair(answers: ReadonlyMap<string, KeyRecord>): RepairPlan {
  // One answer (an R = 1 read) is the merge: nothing to compare, nothing to encode.
  if (answers.size === 1) for (const record of answers.values()) return { merged: record, stale: [] };
  let merged: KeyRecord = EMPTY_RECORD;
  for (const record of answers.values()) merged = mergeRecords(merged, record);
  const bytes = encodeRecord(merged);
  const stale: string[] = [];
  for (const [node, record] of answers) if (!bytes.equals(encodeRecord(record))) stale.push(node);
  return { merged, stale };
}
