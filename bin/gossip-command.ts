// tendril gossip: run one gossip node and print membership changes and updates as they happen.
import { Gossiper } from '../lib/index.js';
import { parseArgs, parseDuration, parseNumber } from './args.js';

export function gossipUsage(): string {
  return [
    'usage: tendril gossip --port PORT [--host 127.0.0.1] [--seeds HOST:PORT,...] [--cluster NAME]',
    '                      [--interval 1s] [--set KEY=VALUE ...]',
    '',
    'Runs one gossip node until interrupted. Prints one line per event:',
    'new_peer, peer_alive, peer_failed, peer_removed, update, expire.',
    'IPv6 seeds go in brackets: --seeds [::1]:9000',
  ].join('\n');
}

export async function gossipCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help']);
  if (args.flags.has('help')) {
    process.stdout.write(gossipUsage() + '\n');
    return 0;
  }
  if (args.options.port === undefined) throw new Error('--port is required\n' + gossipUsage());
  const port = parseNumber(args.options.port, 'port', { min: 1, max: 65535, integer: true });
  const seeds = args.options.seeds ? args.options.seeds.split(',').filter(Boolean) : [];
  const interval = args.options.interval ? parseDuration(args.options.interval, 'interval') : undefined;
  const gossiper = new Gossiper({
    port,
    host: args.options.host ?? '127.0.0.1',
    seeds,
    cluster: args.options.cluster,
    timing: interval === undefined ? undefined : { gossipIntervalMs: interval },
  });
  const say = (...words: unknown[]) => process.stdout.write(`${new Date().toISOString()} ${words.join(' ')}\n`);
  for (const event of ['new_peer', 'peer_alive', 'peer_failed', 'peer_removed']) gossiper.on(event, (peer: string) => say(event, peer));
  gossiper.on('update', (peer: string, key: string, value: unknown) => say('update', peer, key, JSON.stringify(value)));
  gossiper.on('expire', (peer: string, key: string) => say('expire', peer, key));
  for (const pair of (args.options.set ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--set: expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    gossiper.setLocalState(pair.slice(0, eq), pair.slice(eq + 1));
  }
  await gossiper.start();
  say('listening', gossiper.address, `cluster ${gossiper.cluster ?? '(none)'}`, `seeds ${seeds.join(',') || '(none)'}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gossiper.stop();
  say('stopped');
  return 0;
}
