import fc from 'fast-check';
import type { Test } from 'tape';

/**
 * The seed of this test file's property runs: `SEED` from the environment
 * when set, else a fixed default so that CI runs are reproducible. Printed
 * once, so a failure can be replayed with `SEED=<n>`.
 */
export function propertySeed(defaultSeed: number): number {
  const seed = process.env.SEED ? Number(process.env.SEED) : defaultSeed;
  if (!Number.isSafeInteger(seed)) throw new Error(`SEED must be an integer, got ${process.env.SEED}`);
  console.log(`# fast-check seed ${seed} (replay with SEED=${seed})`);
  return seed;
}

/**
 * Runs a fast-check property as one tape assertion. A failure reports the
 * shrunk counterexample together with fast-check's seed and path.
 */
export function checkProperty<Ts extends [unknown, ...unknown[]]>(
  t: Test,
  name: string,
  property: fc.IProperty<Ts>,
  options: { seed: number; numRuns: number },
): void {
  const details = fc.check(property, { seed: options.seed, numRuns: options.numRuns });
  if (details.failed) t.fail(`${name}\n${fc.defaultReportMessage(details)}`);
  else t.pass(`${name} (${details.numRuns} runs)`);
}
