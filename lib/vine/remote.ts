import { type ValueEncoding, decode, encode, json } from '../codec/index.js';
import { EMPTY_RECORD, decodeRecord, encodeContext } from '../merkle/record.js';
import { DEFAULTS, type RequestOptions } from './options.js';
import { type Address, VineClient } from './rpc.js';
import type { VineVersions } from './node.js';

export interface RemoteVineOptions<V> {
  cluster?: string;
  valueEncoding?: ValueEncoding<V>;
  n?: number;
  r?: number;
  w?: number;
  /** ms */
  timeout?: number;
}

/**
 * A client of a running cluster that is not a member: it asks one node to
 * coordinate each request (`tendril vine set|get --to host:port`, benchmarks).
 */
export class RemoteVine<V = unknown> {
  private readonly client: VineClient;
  private readonly valueEncoding: ValueEncoding<V>;

  constructor(
    address: Address,
    private readonly options: RemoteVineOptions<V> = {},
  ) {
    this.valueEncoding = options.valueEncoding ?? (json as ValueEncoding<any>);
    this.client = new VineClient(address, '', { cluster: options.cluster ?? DEFAULTS.cluster, maxFrameBytes: DEFAULTS.maxFrameBytes, helloTimeoutMs: DEFAULTS.helloTimeoutMs });
  }

  async put(key: string, value: V, options: RequestOptions = {}): Promise<string> {
    return this.run('put', key, encode(this.valueEncoding, value), options).then((v) => v.context);
  }

  async del(key: string, options: RequestOptions = {}): Promise<string> {
    return this.run('del', key, undefined, options).then((v) => v.context);
  }

  get(key: string, options: RequestOptions = {}): Promise<VineVersions<V>> {
    return this.run('get', key, undefined, options);
  }

  /** The node's root hash (hex; zeros when it holds nothing) of each partition: equal roots on a partition's replicas mean equal copies. */
  async roots(partitions: number[]): Promise<string[]> {
    const bytes = await this.client.request({ type: 'roots', partitions }, this.options.timeout ?? DEFAULTS.timeout);
    return partitions.map((_, i) => Buffer.from(bytes.subarray(i * 16, i * 16 + 16)).toString('hex'));
  }

  close(): void {
    this.client.close();
  }

  private async run(op: string, key: string, value: Uint8Array | undefined, options: RequestOptions): Promise<VineVersions<V>> {
    const n = options.n ?? this.options.n ?? DEFAULTS.n;
    const r = options.r ?? this.options.r ?? DEFAULTS.r;
    const w = options.w ?? this.options.w ?? DEFAULTS.w;
    const timeout = options.timeout ?? this.options.timeout ?? DEFAULTS.timeout;
    // The node answers within `timeout` (with ERR_UNAVAILABLE at worst); the connection waits a little longer.
    const bytes = await this.client.request({ type: 'coordinate', op, key, value, context: options.context, n, r, w, timeout }, timeout + 1000);
    const record = bytes.length === 0 ? EMPTY_RECORD : decodeRecord(bytes);
    // Siblings with byte-identical values are one value to a reader (a retried write), as in VineNode.
    const distinct = [...new Map(record.siblings.map((s) => [Buffer.from(s.value).toString('base64'), s.value])).values()];
    const values = distinct.map((bytes) => decode(this.valueEncoding, bytes));
    return { key, values, value: values.length === 1 ? values[0] : undefined, conflict: values.length > 1, context: encodeContext(record.context) };
  }
}
