import { ReplicationError } from '../../lib/errors.js';

/** The code of the ReplicationError `fn` throws; undefined if it throws nothing, a description if it throws something uncoded. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ReplicationError ? err.code : `not coded: ${String(err)}`;
  }
  return undefined;
}
