/**
 * A small command-line parser: positional words, `--name value`,
 * `--name=value` and bare `--flag`s (a flag is a name listed in `flags`).
 * No dependency, so the command starts fast.
 */
export interface ParsedArgs {
  positional: string[];
  options: Record<string, string>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], flags: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  const set = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (flags.includes(name)) {
      if (eq !== -1) throw new Error(`--${name} takes no value`);
      set.add(name);
    } else if (eq !== -1) {
      options[name] = arg.slice(eq + 1);
    } else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      options[name] = value;
    }
  }
  return { positional, options, flags: set };
}

/** A duration: `250`, `250ms`, `20s`, `2m`; a bare number is in milliseconds. */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--${name}: expected a duration like 500ms, 20s or 2m, got ${JSON.stringify(text)}`);
  const value = Number(match[1]);
  return match[2] === 's' ? value * 1000 : match[2] === 'm' ? value * 60_000 : value;
}

export function parseNumber(text: string, name: string, { min = -Infinity, max = Infinity, integer = false } = {}): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name}: expected ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}, got ${JSON.stringify(text)}`);
  }
  return value;
}
