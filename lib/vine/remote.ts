import { type ValueEncoding, decode, encode, json } from '../codec/index.js';
import { errors } from '../errors.js';
import { EMPTY_RECORD, decodeRecord, encodeContext } from '../merkle/record.js';
import { type MembersReply, membersCodec } from './messages.js';
import { DEFAULTS, type RequestOptions } from './options.js';
import { HashRing, partitionOf, partitionPoint } from './ring.js';
import { type Address, type RequestBody, VineClient } from './rpc.js';
import type { VineVersions } from './node.js';

/** A write's answer is the key's record; its caller wants the context. */
function contextOf(bytes: Uint8Array): string {
  return encodeContext((bytes.length === 0 ? EMPTY_RECORD : decodeRecord(bytes)).context);
}

/** How long a client keeps its copy of the ring before it asks again, ms. */
const RING_REFRESH_MS = 5000;
/** How long a node that could not be reached is left out of routing, ms. */
const DOWN_MS = 2000;
/** A members reply past these is refused (its ring would cost members × vnodes to build). */
const MAX_MEMBERS = 1024;
const MAX_VNODES = 4096;

/** The cluster as a client last saw it: the ring and where each member listens. */
export interface Routing {
  ring: HashRing;
  members: Map<string, { address: Address; live: boolean }>;
}

/** The routing in a node's members reply; a reply past the limits is refused with ERR_LIMIT before its ring is built. */
export function routingOf(bytes: Uint8Array): Routing {
  const reply: MembersReply = decode(membersCodec, bytes, { maxItems: MAX_MEMBERS });
  if (!(reply.vnodes >= 1 && reply.vnodes <= MAX_VNODES)) throw errors.limit('vnodes', reply.vnodes, MAX_VNODES);
  const members = new Map(reply.members.map((m) => [m.id, { address: { host: m.host, port: m.port }, live: m.live }]));
  return { ring: new HashRing(members.keys(), reply.vnodes), members };
}

export interface RemoteVineOptions<V> {
  cluster?: string;
  valueEncoding?: ValueEncoding<V>;
  n?: number;
  r?: number;
  w?: number;
  /** ms */
  timeout?: number;
  /**
   * Send each request to a replica of its key, which coordinates it without
   * a network hop of its own (default true). The client asks the node it was
   * given for the members and the ring, and again every few seconds; a
   * request it cannot place goes to that node, which coordinates any key.
   */
  route?: boolean;
}

/**
 * A client of a running cluster that is not a member (`tendril vine
 * set|get --to host:port`, benchmarks). Each request is run by one node as
 * coordinator: a replica of the key when the client knows the ring, else the
 * node it was given. The requests of one turn to one node share a frame.
 */
export class RemoteVine<V = unknown> {
  private readonly client: VineClient;
  private readonly valueEncoding: ValueEncoding<V>;
  private readonly wire: { cluster: string; maxFrameBytes: number; helloTimeoutMs: number };
  private readonly clients = new Map<string, VineClient>();
  private readonly down = new Map<string, number>();
  private routing: Routing | undefined;
  private loading: Promise<void> | undefined;
  private nextLoad = 0;
  private turn = 0;

  constructor(
    address: Address,
    private readonly options: RemoteVineOptions<V> = {},
  ) {
    this.valueEncoding = options.valueEncoding ?? (json as ValueEncoding<any>);
    this.wire = { cluster: options.cluster ?? DEFAULTS.cluster, maxFrameBytes: DEFAULTS.maxFrameBytes, helloTimeoutMs: DEFAULTS.helloTimeoutMs };
    this.client = new VineClient(address, '', this.wire);
  }

  put(key: string, value: V, options: RequestOptions = {}): Promise<string> {
    let bytes: Uint8Array;
    try {
      bytes = encode(this.valueEncoding, value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.send('put', key, bytes, options).then(contextOf);
  }

  del(key: string, options: RequestOptions = {}): Promise<string> {
    return this.send('del', key, undefined, options).then(contextOf);
  }

  get(key: string, options: RequestOptions = {}): Promise<VineVersions<V>> {
    return this.send('get', key, undefined, options).then((bytes) => this.versionsOf(key, bytes));
  }

  /** The node's root hash (hex; zeros when it holds nothing) of each partition: equal roots on a partition's replicas mean equal copies. */
  async roots(partitions: number[]): Promise<string[]> {
    const bytes = await this.client.request({ type: 'roots', partitions }, this.options.timeout ?? DEFAULTS.timeout);
    return partitions.map((_, i) => Buffer.from(bytes.subarray(i * 16, i * 16 + 16)).toString('hex'));
  }

  close(): void {
    this.client.close();
    for (const client of this.clients.values()) client.close();
  }

  /** Sends one request to the node that coordinates it; settles with the key's record as the coordinator answered it. */
  private send(op: string, key: string, value: Uint8Array | undefined, options: RequestOptions): Promise<Uint8Array> {
    const n = options.n ?? this.options.n ?? DEFAULTS.n;
    const r = options.r ?? this.options.r ?? DEFAULTS.r;
    const w = options.w ?? this.options.w ?? DEFAULTS.w;
    const timeout = options.timeout ?? this.options.timeout ?? DEFAULTS.timeout;
    const body: RequestBody = { type: 'coordinate', op, key, value, context: options.context, n, r, w, timeout };
    // The node answers within `timeout` (with ERR_UNAVAILABLE at worst); the connection waits a little longer.
    const coordinator = this.coordinatorOf(key, n);
    return coordinator instanceof VineClient ? coordinator.request(body, timeout + 1000) : coordinator.then((client) => client.request(body, timeout + 1000));
  }

  private versionsOf(key: string, bytes: Uint8Array): VineVersions<V> {
    const record = bytes.length === 0 ? EMPTY_RECORD : decodeRecord(bytes);
    // Siblings with byte-identical values are one value to a reader (a retried write), as in VineNode.
    const distinct = record.siblings.length <= 1 ? record.siblings.map((s) => s.value) : [...new Map(record.siblings.map((s) => [Buffer.from(s.value).toString('base64'), s.value])).values()];
    const values = distinct.map((bytes) => decode(this.valueEncoding, bytes));
    return { key, values, value: values.length === 1 ? values[0] : undefined, conflict: values.length > 1, context: encodeContext(record.context) };
  }

  /**
   * The connection to the node that runs a request for `key`: a live
   * replica of the key (in turn, so the replicas share the work) whose
   * connection is open or opens, else the node this client was given.
   */
  private coordinatorOf(key: string, n: number): VineClient | Promise<VineClient> {
    if (this.options.route === false) return this.client;
    const routing = this.routingNow();
    if (!routing) return this.client;
    const now = Date.now();
    const owners = routing.ring.walk(partitionPoint(partitionOf(key)), n).filter((id) => routing.members.get(id)?.live && !((this.down.get(id) ?? 0) > now));
    if (owners.length === 0) return this.client;
    const id = owners[this.turn++ % owners.length];
    let client = this.clients.get(id);
    if (!client) {
      client = new VineClient(routing.members.get(id)!.address, '', this.wire);
      this.clients.set(id, client);
    }
    // Connected: no promise in between.
    if (client.isConnected) return client;
    const dialled = client;
    return dialled.connected().then(
      () => dialled,
      () => {
        // Not reachable now: the given node coordinates meanwhile (a request not sent cannot have been applied).
        this.down.set(id, now + DOWN_MS);
        return this.client;
      },
    );
  }

  /** The ring as last loaded (a load starts when there is none or it is old); undefined until the first one arrives. */
  private routingNow(): Routing | undefined {
    if (!this.loading && Date.now() >= this.nextLoad) {
      this.nextLoad = Date.now() + RING_REFRESH_MS;
      this.loading = this.loadRouting().finally(() => (this.loading = undefined));
    }
    return this.routing;
  }

  private async loadRouting(): Promise<void> {
    try {
      const bytes = await this.client.request({ type: 'members' }, this.options.timeout ?? DEFAULTS.timeout);
      this.routing = routingOf(bytes);
      for (const [id, client] of this.clients) {
        if (!this.routing.members.has(id)) {
          client.close();
          this.clients.delete(id);
        }
      }
    } catch {
      // Keep the ring we had (or none): the given node coordinates any key. Asked again at the next refresh.
    }
  }
}
