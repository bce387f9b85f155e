// The README's examples run as they are: every ```js block that imports
// 'tendril' and does not reach for the network or the disk is executed.
import test from 'tape';
import { execFile, spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { pipeline } from 'node:stream';
import { Model } from '../lib/index.js';
import { handshakeFrame, wireFrame } from './helpers/raw-peer.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const runnable = blocks.filter((code) => code.includes("from 'tendril'") && !/node:net|persist\(model, '\.\/data'\)|fs\./.test(code));

test('README examples run', async (t) => {
  t.ok(runnable.length >= 5, `${runnable.length} runnable examples`);
  for (const [i, code] of runnable.entries()) {
    // Inside the package, so that `import 'tendril'` resolves to this package by name.
    const file = join(root, `readme-example-${i}.mjs`);
    writeFileSync(file, code);
    try {
      await run(process.execPath, [file], { cwd: root, timeout: 30_000 });
      t.pass(`example ${i + 1} (${code.split('\n')[0].slice(0, 60)})`);
    } catch (err) {
      t.fail(`example ${i + 1} failed: ${(err as Error).message}`);
    } finally {
      rmSync(file, { force: true });
    }
  }
});

// Defect 8: the README's hand-written server must survive a peer's garbage
// frame. Its own line is run in a child process; a raw peer sends a
// handshake and then bytes that decode to nothing; the server must refuse
// that connection and go on serving the next.
test('README: the hand-written TCP server survives a garbage frame and serves the next peer', async (t) => {
  const line = readme.match(/^net\.createServer\(.*\)\.listen\(8001\)$/m)?.[0];
  t.ok(line, 'the README shows a hand-written server');
  if (!line) return;
  t.ok(/pipeline\(|\.on\('error'/.test(line), 'it handles the stream\'s errors');
  const file = join(root, 'readme-server.mjs');
  writeFileSync(
    file,
    [
      "import net from 'node:net'",
      "import { pipeline } from 'node:stream'",
      "import { Model } from 'tendril'",
      "const model = new Model({ id: 'server' })",
      "model.set('k', 'v')",
      `const server = ${line.replace(/\.listen\(8001\)$/, '')}`,
      "server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })))",
    ].join('\n'),
  );
  const child = spawn(process.execPath, [file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()).port));
      child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
    const probe = new Model({ id: 'probe' });
    const attacker = netConnect(port, '127.0.0.1');
    attacker.on('error', () => {});
    attacker.resume();
    attacker.write(handshakeFrame(probe.descriptor, { id: 'attacker' }));
    attacker.write(wireFrame(Buffer.from([1, 3, 0xff, 0xfe, 0xfd, 0x00])));
    await new Promise((resolve) => attacker.once('close', resolve));
    t.pass('the server closed the attacker\'s connection');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the stream's error is emitted after the close
    t.notOk(exited, 'and is still running');
    const socket = netConnect(port, '127.0.0.1');
    const stream = probe.createStream({ live: false });
    await new Promise((resolve) => pipeline(socket, stream, socket, resolve));
    t.equal(probe.get('k'), 'v', 'a well-behaved peer syncs from it afterwards');
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
    rmSync(file, { force: true });
  }
});
