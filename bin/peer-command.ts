import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Log, Model, connect, listen, persist, stdio } from '../lib/index.js';
import type { Replica } from '../lib/session/replica.js';
import type { DisconnectInfo } from '../lib/transport/reasons.js';
import type { Reconnector } from '../lib/transport/reconnector.js';
import { connectWebSocket, serveWebSocket } from '../lib/transport/ws.js';
import { KINDS, runLine } from './peer-kinds.js';

export function peerUsage(): string {
  return [
    'usage: tendril peer --kind KIND [options]',
    '',
    'Runs one replica: prints its changes as they arrive and takes writes as',
    'lines on stdin. Two shells, or two processes piped into each other,',
    'replicate with no code.',
    '',
    'kinds and their stdin commands (every kind also takes `show` and `help`):',
    ...Object.entries(KINDS).map(([name, k]) => `  ${name.padEnd(11)} ${k.summary}: ${k.commands.join(', ')}`),
    '',
    'options:',
    '  --kind KIND          the structure (required)',
    '  --name DOC           document name; peers of different names refuse each other (default: the kind)',
    '  --id ID              replica id (default: random; give the same one with --data)',
    '  --listen PORT        serve TCP on 127.0.0.1:PORT (0: any free port, printed)',
    '  --host HOST          address for --listen (default 127.0.0.1)',
    '  --connect HOST:PORT  replicate with a TCP peer, reconnecting with backoff',
    '  --ws URL             replicate with a WebSocket server (ws://host:port/<document>)',
    '  --ws-listen PORT     serve WebSocket on 127.0.0.1:PORT; the document is served under its --name',
    '  --stdio              replicate over stdin/stdout; changes go to stderr, writes come from --do',
    '  --do "COMMAND"       a write to make at start (repeatable), e.g. --do "add milk"',
    '  --data DIR           keep the replica on disk in DIR (model and log)',
    '',
    'Status (listening, connected, synced, disconnected and why) goes to stderr as `# ...` lines.',
  ].join('\n');
}

/** `tendril peer ...`: runs until killed (or, with --stdio, until the peer hangs up). */
export async function peerCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      kind: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' },
      listen: { type: 'string' },
      host: { type: 'string' },
      connect: { type: 'string', multiple: true },
      ws: { type: 'string', multiple: true },
      'ws-listen': { type: 'string' },
      stdio: { type: 'boolean' },
      do: { type: 'string', multiple: true },
      data: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(peerUsage() + '\n');
    return 0;
  }
  const kind = values.kind === undefined ? undefined : KINDS[values.kind];
  if (!kind) throw new Error(`--kind: one of ${Object.keys(KINDS).join(', ')} (see tendril peer --help)`);
  const name = values.name ?? values.kind!;
  const replica = kind.create({ name, id: values.id });

  // With --stdio, stdout is the wire: everything for people goes to stderr.
  const out = values.stdio ? process.stderr : process.stdout;
  const print = (line: string) => out.write(line + '\n');
  const status = (line: string) => process.stderr.write(`# ${line}\n`);

  if (values.data !== undefined) {
    if (!(replica instanceof Model || replica instanceof Log)) throw new Error(`--data: ${values.kind} cannot be kept on disk yet (model and log can)`);
    await (replica instanceof Model ? persist(replica, values.data) : persist(replica, values.data));
    status(`restored from ${values.data}: ${JSON.stringify(kind.value(replica))}`);
  }
  kind.watch(replica, print);
  for (const line of values.do ?? []) report(runLine(kind, replica, line), print);

  if (values.listen !== undefined) {
    const server = await listen(replica, port(values.listen, '--listen'), values.host ?? '127.0.0.1');
    server.on('peerError', (err: Error) => status(`a peer failed: ${err.message}`));
    const address = server.address() as { address: string; port: number };
    status(`listening on ${address.address}:${address.port}`);
  }
  if (values['ws-listen'] !== undefined) {
    const hub = await serveWebSocket({ documents: new Map([[name, replica]]), port: port(values['ws-listen'], '--ws-listen'), host: values.host ?? '127.0.0.1' });
    status(`serving WebSocket on ws://${values.host ?? '127.0.0.1'}:${hub.port}/${encodeURIComponent(name)}`);
  }
  for (const target of values.connect ?? []) {
    const match = /^(.*):(\d+)$/.exec(target);
    if (!match) throw new Error(`--connect: expected HOST:PORT, got ${JSON.stringify(target)}`);
    watchStatus(connect(replica, { host: match[1] || '127.0.0.1', port: port(match[2]!, '--connect') }), target, status);
  }
  for (const url of values.ws ?? []) watchStatus(connectWebSocket(replica, url), url, status);

  if (values.stdio) {
    const done = stdio(replica);
    status('replicating over stdio');
    await done.then(
      () => status('the peer hung up'),
      (err: Error) => status(`stdio failed: ${err.message}`),
    );
    return 0;
  }
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    try {
      report(runLine(kind, replica, line), print);
    } catch (err) {
      print(`error: ${(err as Error).message}`);
    }
  });
  // Keeps running after stdin ends: the peer still serves and replicates until killed.
  return new Promise<number>(() => {});
}

function report(line: string | undefined, print: (line: string) => void): void {
  if (line !== undefined) print(line);
}

function watchStatus(connector: Reconnector, target: string, status: (line: string) => void): void {
  connector.on('status', (s: string, info?: DisconnectInfo) => status(`${target}: ${s}${info ? `: ${info.reason}` : ''}`));
  connector.on('error', (err: Error) => {
    status(`${target}: giving up: ${err.message}`);
    process.exitCode = 1;
  });
}

function port(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${option}: expected a port number, got ${JSON.stringify(text)}`);
  return n;
}

export type { Replica };
