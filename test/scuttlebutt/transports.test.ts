import test from 'tape';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pump from 'pump';
import { WebSocketServer, WebSocket, createWebSocketStream } from 'ws';
import { Model } from '../../lib/index.js';
import { until } from '../helpers/compliance.js';

function pair() {
  const a = new Model({ id: 'a' });
  const b = new Model({ id: 'b' });
  a.set('from-a', 1);
  b.set('from-b', 2);
  return { a, b, converged: () => a.has('from-b') && b.has('from-a') };
}

test('model: replicates over loopback TCP', async (t) => {
  const { a, b, converged } = pair();
  const server = createServer((socket) => pump(socket, a.createStream(), socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const stream = b.createStream();
  pump(socket, stream, socket);
  await until(converged);
  a.set('live', 'over tcp');
  await until(() => b.get('live') === 'over tcp');
  t.pass('synced and live over net');
  socket.end();
  await once(socket, 'close');
  server.close();
});

test('model: replicates over WebSocket', async (t) => {
  const { a, b, converged } = pair();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    const duplex = createWebSocketStream(ws);
    pump(duplex, a.createStream(), duplex);
  });
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const duplex = createWebSocketStream(ws);
  pump(duplex, b.createStream(), duplex);
  await until(converged);
  b.set('live', 'over ws');
  await until(() => a.get('live') === 'over ws');
  t.pass('synced and live over ws');
  ws.close();
  await new Promise((resolve) => wss.close(resolve));
});

test("model: replicates over a child process's stdin and stdout", async (t) => {
  const { a } = pair();
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'stdio-peer.js');
  const child = spawn(process.execPath, [script, 'child'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stream = a.createStream();
  pump(child.stdout, stream, child.stdin);
  await until(() => a.has('from-child'));
  t.equal(a.get('from-child'), child.pid, 'the child replicated its key over stdout');
  stream.end();
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'the child ended cleanly');
});
