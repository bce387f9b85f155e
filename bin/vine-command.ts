// `tendril vine`: run a vine node, or talk to a running cluster.
import { RemoteVine } from '../lib/vine/remote.js';
import { Vine } from '../lib/vine/vine.js';
import { parseArgs, parseDuration, parseNumber } from './args.js';

export function vineUsage(): string {
  return [
    'usage: tendril vine --port PORT [--host H] [--join HOST:PORT ...] [--data DIR] [-n 3 -r 2 -w 2] [--cluster NAME] [--gossip-ms 1000]',
    '       tendril vine set KEY VALUE --to HOST:PORT [-w W] [--timeout 2s]',
    '       tendril vine get KEY --to HOST:PORT [-r R] [--timeout 2s]',
    '',
    'A node serves requests on PORT and gossips on PORT + 1. VALUE is JSON if it parses, else a string.',
  ].join('\n');
}

function address(text: string, name: string): { host: string; port: number } {
  const cut = text.lastIndexOf(':');
  if (cut < 1) throw new Error(`--${name}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: text.slice(0, cut), port: parseNumber(text.slice(cut + 1), name, { min: 1, max: 65535, integer: true }) };
}

export async function vineCommand(argv: readonly string[]): Promise<number> {
  // -n, -r, -w are the quorum's usual names; the parser knows only --long options.
  const normalized: string[] = [];
  const joins: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-n' || arg === '-r' || arg === '-w') normalized.push(`-${arg}`);
    else if (arg === '--join') joins.push(argv[++i] ?? '');
    else normalized.push(arg);
  }
  const args = parseArgs(normalized, ['help']);
  if (args.flags.has('help')) {
    process.stdout.write(vineUsage() + '\n');
    return 0;
  }
  const quorum = {
    ...(args.options.n ? { n: parseNumber(args.options.n, 'n', { min: 1, integer: true }) } : {}),
    ...(args.options.r ? { r: parseNumber(args.options.r, 'r', { min: 1, integer: true }) } : {}),
    ...(args.options.w ? { w: parseNumber(args.options.w, 'w', { min: 1, integer: true }) } : {}),
    ...(args.options.timeout ? { timeout: parseDuration(args.options.timeout, 'timeout') } : {}),
  };
  const cluster = args.options.cluster;
  const [verb, key, value] = args.positional;
  if (verb === 'set' || verb === 'get') {
    if (!key || !args.options.to || (verb === 'set' && value === undefined)) {
      process.stderr.write(vineUsage() + '\n');
      return 2;
    }
    // `--to` names the node that coordinates: one request, no ring to learn first.
    const remote = new RemoteVine(address(args.options.to, 'to'), { cluster, route: false });
    try {
      if (verb === 'set') {
        let parsed: unknown = value;
        try {
          parsed = JSON.parse(value!);
        } catch {
          // not JSON: the value is the string itself
        }
        await remote.put(key, parsed, quorum);
        process.stdout.write('ok\n');
      } else {
        const versions = await remote.get(key, quorum);
        if (versions.values.length === 0) {
          process.stderr.write(`${key}: not found\n`);
          return 1;
        }
        for (const v of versions.values) process.stdout.write(JSON.stringify(v) + '\n');
      }
      return 0;
    } finally {
      remote.close();
    }
  }
  if (verb !== undefined || !args.options.port) {
    process.stderr.write(vineUsage() + '\n');
    return 2;
  }
  const port = parseNumber(args.options.port, 'port', { min: 1, max: 65534, integer: true });
  const gossip = args.options['gossip-ms'] ? { intervalMs: parseDuration(args.options['gossip-ms'], 'gossip-ms') } : undefined;
  const vine = Vine({ ...quorum, cluster, gossip, ...(args.options.data ? { dataDir: args.options.data } : {}) });
  vine.listen(port, args.options.host);
  for (const seed of joins) {
    const { host, port: seedPort } = address(seed, 'join');
    vine.join(seedPort, host);
  }
  return new Promise<number>((resolve) => {
    vine.on('error', (err: Error) => {
      process.stderr.write(`tendril vine: ${err.message}\n`);
      resolve(1);
    });
    vine.on('listening', (where: { host: string; port: number }) => process.stdout.write(`vine ${vine.node.id} listening on ${where.host}:${where.port}\n`));
    const stop = () => void vine.close(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
