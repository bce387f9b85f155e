import test from 'tape';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { Model, ORSet, Seq } from '../../lib/index.js';
import { Doc } from '../../lib/mux/index.js';
import { type DisconnectInfo, type Progress, connect, listen } from '../../lib/transport/index.js';
import { until } from '../helpers/compliance.js';

function record(connector: ReturnType<typeof connect>) {
  const seen = { statuses: [] as string[], reasons: [] as DisconnectInfo[], errors: [] as Error[], progress: [] as Progress[], closed: false };
  connector.on('status', (status: string, info?: DisconnectInfo) => {
    seen.statuses.push(status);
    if (info) seen.reasons.push(info);
  });
  connector.on('progress', (p: Progress) => seen.progress.push(p));
  connector.on('error', (err: Error) => seen.errors.push(err));
  connector.on('close', () => (seen.closed = true));
  return seen;
}

const portOf = (server: Server | ReturnType<typeof createHttpServer>) => (server.address() as AddressInfo).port;
const closeServer = (server: { close(cb: () => void): unknown }) => new Promise<void>((resolve) => server.close(() => resolve()));

test('net: a Doc over TCP, with progress counting updates and channels', async (t) => {
  const server = new Doc();
  const big = server.get('big', Model);
  for (let i = 0; i < 20_000; i++) big.set(`k${i}`, i);
  server.get('text', Seq).insert(0, 'hi');
  const tcp = await listen(server, 0);
  const client = new Doc();
  client.get('big', Model);
  client.get('text', Seq);
  const connector = connect(client, { port: portOf(tcp) });
  const seen = record(connector);
  await until(() => connector.status === 'synced');
  t.equal(client.get('big', Model).get('k19999'), 19_999, 'synced');
  t.ok(seen.progress.length > 1, `${seen.progress.length} progress events`);
  const last = seen.progress.at(-1)!;
  t.ok(seen.progress.every((p, i) => i === 0 || p.bytes >= seen.progress[i - 1]!.bytes), 'bytes only grow');
  t.equal(last.channels?.total, 2, 'two channels to sync');
  t.deepEqual(last.updates, { done: 20_002, total: 20_002 }, 'the server announced 20,000 updates and 2 elements, and all arrived before "synced"');
  t.ok(seen.progress.every((p) => p.updates === undefined || p.updates.done <= p.updates.total), 'done never passes the total');
  t.deepEqual(seen.statuses, ['connecting', 'connected', 'synced']);
  connector.close();
  await until(() => seen.closed);
  await closeServer(tcp);
});

test('net: a kind mismatch is permanent: "error", and no retry', async (t) => {
  const tcp = await listen(new Model({ name: 'x' }), 0);
  const connector = connect(new ORSet({ name: 'x' }), { port: portOf(tcp), backoff: { initialMs: 5, maxMs: 10 } });
  const seen = record(connector);
  await until(() => seen.closed);
  t.equal((seen.errors[0] as { code?: string })?.code, 'ERR_HANDSHAKE', seen.errors[0]?.message);
  t.equal(seen.statuses.filter((s) => s === 'connecting').length, 1, 'tried once');
  t.ok(seen.reasons[0]?.permanent, seen.reasons[0]?.reason);
  await closeServer(tcp);
});

test('net: refused, HTTP and SSH peers each get their reason, and are retried', async (t) => {
  const http = createHttpServer((_req, res) => res.end('hi'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const ssh = createServer((socket) => {
    socket.on('error', () => {}); // the client may hang up first
    socket.write('SSH-2.0-OpenSSH_9.6\r\n');
    socket.once('data', () => socket.end('Invalid SSH identification string.\r\n'));
  });
  await new Promise<void>((resolve) => ssh.listen(0, '127.0.0.1', resolve));
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const closedPort = portOf(free);
  await closeServer(free);

  const cases: [number, RegExp][] = [
    [closedPort, /^connection refused$/],
    [portOf(http), /HTTP server answered \("HTTP\/1\.1 400/],
    [portOf(ssh), /SSH server answered \("SSH-2\.0-OpenSSH_9\.6"\)/],
  ];
  for (const [port, expected] of cases) {
    const connector = connect(new Model(), { port, backoff: { initialMs: 5, maxMs: 10 } });
    const seen = record(connector);
    await until(() => seen.reasons.length >= 2);
    connector.close();
    await until(() => seen.closed);
    t.match(seen.reasons[0]!.reason, expected, seen.reasons[0]!.reason);
    t.equal(seen.errors.length, 0, 'not permanent: retried');
  }
  await closeServer(http);
  await closeServer(ssh);
});
