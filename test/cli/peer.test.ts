import test from 'tape';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers/compliance.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '../../bin/tendril.js');
/** Longest a peer test waits for convergence before it fails. */
const TIMEOUT_MS = 30_000;

interface Peer {
  child: ChildProcessWithoutNullStreams;
  out: string[];
  err: string[];
}

const running = new Set<ChildProcessWithoutNullStreams>();
// Whatever happens, no peer outlives the test.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `tendril peer ...`, collecting its stdout and stderr lines (unless `raw`: the wire). */
function peer(args: string[], { raw = false } = {}): Peer {
  const child = spawn(process.execPath, [bin, 'peer', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const p: Peer = { child, out: [], err: [] };
  const lines = (stream: NodeJS.ReadableStream, into: string[]) => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      into.push(...parts);
    });
  };
  if (!raw) lines(child.stdout, p.out);
  lines(child.stderr, p.err);
  return p;
}

function kill(...peers: Peer[]): void {
  for (const p of peers) p.child.kill('SIGKILL');
}

/** The last `value ...` line a peer printed, parsed. */
function lastValue(p: Peer): unknown {
  const line = p.out.findLast((l) => l.startsWith('value '));
  return line === undefined ? undefined : JSON.parse(line.slice(6));
}

test('tendril --help lists every command; --version prints the version', (t) => {
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  for (const command of ['sim', 'peer']) t.match(help.stdout, new RegExp(`^  ${command} `, 'm'), `lists ${command}`);
  const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  const pkg = JSON.parse(readFileSync(join(here, '../../../package.json'), 'utf8')) as { version: string };
  t.equal(version.stdout.trim(), `tendril ${pkg.version}`);
  const peerHelp = spawnSync(process.execPath, [bin, 'peer', '--help'], { encoding: 'utf8' });
  t.match(peerHelp.stdout, /--kind KIND/, 'peer --help');
  const bad = spawnSync(process.execPath, [bin, 'peer', '--kind', 'nope'], { encoding: 'utf8' });
  t.equal(bad.status, 2, 'an unknown kind exits 2');
  t.match(bad.stderr, /--kind: one of model, log, orset/);
  t.end();
});

test('tendril peer: two processes over TCP on 127.0.0.1 converge', async (t) => {
  const a = peer(['--kind', 'model', '--name', 'cli', '--listen', '0']);
  let b: Peer | undefined;
  try {
    await until(() => a.err.some((l) => l.startsWith('# listening on ')), TIMEOUT_MS);
    const port = /:(\d+)$/.exec(a.err.find((l) => l.startsWith('# listening on '))!)![1]!;
    b = peer(['--kind', 'model', '--name', 'cli', '--connect', `127.0.0.1:${port}`]);
    a.child.stdin.write('set from-a 1\nset shared "a"\n');
    b.child.stdin.write('set from-b 2\n');
    const expected = (v: unknown) => JSON.stringify(v && Object.keys(v).sort()) === '["from-a","from-b","shared"]';
    await until(() => {
      for (const p of [a, b!]) p.child.stdin.write('show\n');
      return expected(lastValue(a)) && expected(lastValue(b!));
    }, TIMEOUT_MS);
    t.deepEqual(lastValue(a), lastValue(b), `same value: ${JSON.stringify(lastValue(a))}`);
    t.ok(b.out.includes('set from-a 1'), 'b printed a\'s change as it arrived');
    // stderr is its own pipe: its lines may trail stdout's.
    await until(() => b!.err.some((l) => l.endsWith(': synced')), TIMEOUT_MS);
    t.pass(`b reported its status: ${JSON.stringify(b.err)}`);
  } finally {
    kill(a, ...(b ? [b] : []));
  }
});

test('tendril peer: two processes piped into each other over stdio converge', async (t) => {
  const a = peer(['--kind', 'seq', '--name', 'pipe', '--stdio', '--do', 'insert 0 hello'], { raw: true });
  const b = peer(['--kind', 'seq', '--name', 'pipe', '--stdio', '--do', 'insert 0 world '], { raw: true });
  try {
    a.child.stdout.pipe(b.child.stdin);
    b.child.stdout.pipe(a.child.stdin);
    const text = (p: Peer) => p.err.findLast((l) => l.startsWith('text '));
    await until(() => text(a) !== undefined && text(a) === text(b) && JSON.parse(text(a)!.slice(5)).length === 'hello'.length + 'world '.length, TIMEOUT_MS);
    t.equal(text(a), text(b), `both print ${text(a)}`);
  } finally {
    kill(a, b);
  }
});

test('tendril peer: a WebSocket server peer and a WebSocket client peer converge', async (t) => {
  const a = peer(['--kind', 'orset', '--name', 'room', '--ws-listen', '0']);
  let b: Peer | undefined;
  try {
    await until(() => a.err.some((l) => l.startsWith('# serving WebSocket on ')), TIMEOUT_MS);
    const url = a.err.find((l) => l.startsWith('# serving WebSocket on '))!.slice('# serving WebSocket on '.length);
    t.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/room$/, url);
    b = peer(['--kind', 'orset', '--name', 'room', '--ws', url]);
    a.child.stdin.write('add "from a"\n');
    b.child.stdin.write('add "from b"\n');
    await until(() => a.out.includes('add "from b"') && b!.out.includes('add "from a"'), TIMEOUT_MS);
    t.pass('each printed the other\'s element as it arrived');
  } finally {
    kill(a, ...(b ? [b] : []));
  }
});
