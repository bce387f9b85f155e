#!/usr/bin/env node
// The tendril command. Each subcommand lives in its own file; this one only dispatches.
import { readFileSync } from 'node:fs';
import { peerCommand } from './peer-command.js';
import { simCommand, simUsage } from './sim-command.js';
import { vineCommand } from './vine-command.js';
import { gossipCommand } from './gossip-command.js';

const COMMANDS: Record<string, { summary: string; run: (argv: readonly string[]) => number | Promise<number> }> = {
  sim: { summary: 'run a deterministic simulation scenario (tendril sim --help)', run: simCommand },
  peer: { summary: 'run one replica over TCP, WebSocket or stdio; writes from stdin (tendril peer --help)', run: peerCommand },
  gossip: { summary: 'run a gossip node: tendril gossip --port 9001 --seeds 127.0.0.1:9000 [--cluster NAME]', run: gossipCommand },
  vine: { summary: 'run a vine key/value node, or set/get through one (tendril vine --help)', run: vineCommand },
};

function usage(): string {
  return [
    'usage: tendril <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`),
    '',
    'tendril --version prints the version.',
  ].join('\n');
}

/** The version of the installed package: package.json sits two levels above dist/bin. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

// A reader that goes away early (`tendril sim ... | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const [command, ...rest] = process.argv.slice(2);
const entry = command === undefined ? undefined : COMMANDS[command];
if (command === '--version' || command === '-v') {
  process.stdout.write(`tendril ${version()}\n`);
} else if (!entry) {
  process.stdout.write(usage() + '\n');
  if (command === 'sim') process.stdout.write(simUsage() + '\n');
  process.exitCode = command === undefined || command === '--help' || command === 'help' ? 0 : 2;
} else {
  try {
    process.exitCode = await entry.run(rest);
  } catch (err) {
    process.stderr.write(`tendril ${command}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
