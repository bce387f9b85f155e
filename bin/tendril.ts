#!/usr/bin/env node
// The tendril command. Each subcommand lives in its own file; this one only dispatches.
import { simCommand, simUsage } from './sim-command.js';
import { vineCommand } from './vine-command.js';
import { gossipCommand } from './gossip-command.js';

const COMMANDS: Record<string, { summary: string; run: (argv: readonly string[]) => number | Promise<number> }> = {
  sim: { summary: 'run a deterministic simulation scenario (tendril sim --help)', run: simCommand },
  gossip: { summary: 'run a gossip node: tendril gossip --port 9001 --seeds 127.0.0.1:9000 [--cluster NAME]', run: gossipCommand },
  vine: { summary: 'run a vine key/value node, or set/get through one (tendril vine --help)', run: vineCommand },
};

function usage(): string {
  return ['usage: tendril <command> [options]', '', 'commands:', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)].join('\n');
}

// A reader that goes away early (`tendril sim ... | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const [command, ...rest] = process.argv.slice(2);
const entry = command === undefined ? undefined : COMMANDS[command];
if (!entry) {
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
