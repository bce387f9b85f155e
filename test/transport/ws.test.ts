import test from 'tape';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Model, ORSet, Seq } from '../../lib/index.js';
import { Doc } from '../../lib/mux/index.js';
import { type DisconnectInfo, type Progress, type Reconnector, connectWebSocket, serveWebSocket } from '../../lib/transport/index.js';
import { until } from '../helpers/compliance.js';

const fast = { backoff: { initialMs: 10, maxMs: 50 } };

/** Records a connector's statuses and the reasons it gave. */
function record(connector: Reconnector) {
  const seen = { statuses: [] as string[], reasons: [] as DisconnectInfo[], errors: [] as Error[], progress: 0, last: undefined as Progress | undefined, closed: false };
  connector.on('status', (status: string, info?: DisconnectInfo) => {
    seen.statuses.push(status);
    if (info) seen.reasons.push(info);
  });
  connector.on('progress', (progress: Progress) => {
    seen.progress++;
    seen.last = progress;
  });
  connector.on('error', (err: Error) => seen.errors.push(err));
  connector.on('close', () => (seen.closed = true));
  return seen;
}

function roomDoc(): Doc {
  const doc = new Doc({ name: 'room' });
  doc.get('text', Seq);
  doc.get('todos', ORSet);
  return doc;
}

test('ws: a Node server and Node clients replicate a Doc, with status and progress', async (t) => {
  const server = roomDoc();
  server.get('text', Seq).insert(0, 'hello');
  const hub = await serveWebSocket({ documents: new Map([['notes', server]]) });
  const url = `ws://127.0.0.1:${hub.port}/notes`;
  const [c1, c2] = [roomDoc(), roomDoc()];
  const k1 = connectWebSocket(c1, url, fast);
  const k2 = connectWebSocket(c2, url, fast);
  const seen = record(k1);
  await until(() => k1.status === 'synced' && k2.status === 'synced');
  t.deepEqual(seen.statuses, ['connecting', 'connected', 'synced'], 'statuses in order');
  t.ok(seen.progress > 0, `progress events during the sync (${seen.progress})`);
  t.deepEqual(seen.last?.updates, { done: 5, total: 5 }, 'the server announced its 5 elements of text, and they arrived');
  t.equal(c1.get('text', Seq).toString(), 'hello', 'the server\'s text arrived');
  c1.get('todos', ORSet).add('milk');
  c2.get('text', Seq).insert(5, ' world');
  await until(() => c2.get('todos', ORSet).has('milk') && c1.get('text', Seq).toString() === 'hello world');
  t.pass('two clients edit live through the server');
  k1.close();
  k2.close();
  await until(() => seen.closed);
  t.equal(seen.reasons.at(-1)?.reason, 'closed', 'closing gives the reason "closed"');
  await hub.close();
});

test('ws: documents are rooms: each URL path is its own document', async (t) => {
  const rooms = new Map<string, Model>();
  const hub = await serveWebSocket({
    documents: (name) => {
      if (!/^room-\d$/.test(name)) return undefined;
      if (!rooms.has(name)) rooms.set(name, new Model({ name: 'shared' }));
      return rooms.get(name);
    },
  });
  const [a, b, c] = [new Model({ name: 'shared' }), new Model({ name: 'shared' }), new Model({ name: 'shared' })];
  const ka = connectWebSocket(a, `ws://127.0.0.1:${hub.port}/room-1`, fast);
  const kb = connectWebSocket(b, `ws://127.0.0.1:${hub.port}/room-1`, fast);
  const kc = connectWebSocket(c, `ws://127.0.0.1:${hub.port}/room-2`, fast);
  a.set('from', 'a');
  c.set('from', 'c');
  await until(() => b.get('from') === 'a' && rooms.get('room-2')?.get('from') === 'c');
  t.equal(c.get('from'), 'c', 'room 2 never sees room 1');
  t.deepEqual([...rooms.keys()].sort(), ['room-1', 'room-2'], 'documents made on demand');
  const refused = connectWebSocket(new Model({ name: 'shared' }), `ws://127.0.0.1:${hub.port}/nope`, fast);
  const seen = record(refused);
  await until(() => seen.closed);
  t.equal(seen.errors.length, 1, `an unknown document is a permanent error: ${seen.errors[0]?.message}`);
  t.equal(seen.statuses.filter((s) => s === 'connecting').length, 1, 'no retry');
  for (const k of [ka, kb, kc]) k.close();
  await hub.close();
});

test('ws: the client reconnects after the server restarts', async (t) => {
  const server = new Model({ name: 'm' });
  server.set('v', 1);
  let hub = await serveWebSocket({ documents: new Map([['m', server]]) });
  const port = hub.port;
  const client = new Model({ name: 'm' });
  const connector = connectWebSocket(client, `ws://127.0.0.1:${port}/m`, fast);
  const seen = record(connector);
  await until(() => connector.status === 'synced');
  await hub.close();
  await until(() => connector.status !== 'synced');
  server.set('v', 2);
  client.set('offline', true);
  hub = await serveWebSocket({ documents: new Map([['m', server]]), port });
  await until(() => client.get('v') === 2 && server.get('offline') === true);
  t.pass('synced both ways after the restart');
  // The values can arrive a moment before the catch-up's end is counted: wait for the status, not just the data.
  await until(() => connector.status === 'synced');
  const reasons = seen.reasons.map((r) => r.reason);
  t.ok(reasons.length >= 1 && reasons.every((r) => r.length > 0), `every disconnect has a reason: ${JSON.stringify(reasons)}`);
  t.ok(seen.statuses.filter((s) => s === 'synced').length >= 2, 'synced again');
  t.equal(seen.errors.length, 0, 'no permanent error');
  connector.close();
  await hub.close();
});

test('ws: a permanent error (kind mismatch) stops the reconnect loop with "error"', async (t) => {
  const hub = await serveWebSocket({ documents: new Map([['x', new Model({ name: 'x' })]]) });
  const connector = connectWebSocket(new ORSet({ name: 'x' }), `ws://127.0.0.1:${hub.port}/x`, fast);
  const seen = record(connector);
  await until(() => seen.closed);
  t.equal(seen.errors.length, 1, 'one error');
  t.equal((seen.errors[0] as { code?: string }).code, 'ERR_HANDSHAKE', seen.errors[0]?.message);
  t.ok(seen.reasons[0]?.permanent, `reason: ${seen.reasons[0]?.reason}`);
  t.equal(seen.statuses.filter((s) => s === 'connecting').length, 1, 'tried once');
  await hub.close();
});

test('ws: a plain HTTP server and a closed port are reported as such', async (t) => {
  const http = createServer((_req, res) => res.end('hello'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const toHttp = record(connectWebSocket(new Model(), `ws://127.0.0.1:${port}/x`, { reconnect: false }));
  await until(() => toHttp.closed);
  t.match(toHttp.reasons[0]?.reason ?? '', /HTTP server/, toHttp.reasons[0]?.reason);
  t.notOk(toHttp.reasons[0]?.permanent, 'not permanent: the right server may come back');
  await new Promise((resolve) => http.close(resolve));
  const refused = record(connectWebSocket(new Model(), `ws://127.0.0.1:${port}/x`, { reconnect: false }));
  await until(() => refused.closed);
  t.equal(refused.reasons[0]?.reason, 'connection refused');
});

test('ws: a URL the WebSocket class refuses is a permanent error', async (t) => {
  const seen = record(connectWebSocket(new Model(), 'ftp://127.0.0.1/not-a-websocket-url'));
  await until(() => seen.closed);
  t.equal(seen.errors.length, 1, seen.reasons[0]?.reason);
  t.equal(seen.statuses.filter((s) => s === 'connecting').length, 1, 'tried once');
});
