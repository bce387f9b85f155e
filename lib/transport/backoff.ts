/** Reconnect delays: exponential, capped, with full jitter. */
export interface BackoffOptions {
  /** First delay, in ms. Default 100. */
  initialMs?: number;
  /** Longest delay, in ms. Default 5,000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random source in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
}

/** The delay before reconnect attempt `attempt` (0-based): uniform in [0, min(max, initial * factor^attempt)]. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs = 100, maxMs = 5000, factor = 2, random = Math.random } = options;
  const ceiling = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.round(ceiling * random());
}
