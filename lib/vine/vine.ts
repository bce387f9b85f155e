import { EventEmitter } from 'node:events';
import { ReplicationError, errors } from '../errors.js';
import { type DataEvent, VineNode, type VineVersions } from './node.js';
import type { RequestOptions, VineOptions } from './options.js';

/** How long `set()` keeps retrying while too few replicas are reachable (a cluster still forming), ms. */
export const SET_RETRY_MS = 30_000;

type DataListener<V> = (value: V | undefined, event: DataEvent<V>) => void;
type AnyDataListener<V> = (key: string, value: V | undefined, event: DataEvent<V>) => void;

/**
 * The seed's API: a chainable vine node.
 *
 * ```js
 * Vine().listen(8000).set('foo', 'hello, world')
 * Vine().listen(8001).join(8000, '192.168.0.2').on('data', 'foo', (value) => console.log(value))
 * ```
 *
 * `listen` starts the node on the next turn of the event loop, so `join`
 * calls chained after it are its seeds. `set` returns the vine; its failure
 * is an `'error'` event, never silent; while the cluster is too small for
 * the write quorum it retries for up to `SET_RETRY_MS`. `on('data', key, fn)`
 * calls `fn(value, { key, values, conflict })` on this node whenever `key`
 * changes anywhere in the cluster (and once with the current value, if any);
 * `on('data', fn)` calls `fn(key, value, event)` for every key. The promise
 * API (`put`, `get`, `del`) is beside it for code that wants the outcome.
 */
export class VineHandle<V = unknown> extends EventEmitter {
  readonly node: VineNode<V>;
  private readonly seeds: Array<{ host: string; port: number }> = [];
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: VineOptions<V> = {}) {
    super();
    this.node = new VineNode<V>(options);
    this.node.on('data', (key: string, value: V | undefined, event: DataEvent<V>) => this.emit('data', key, value, event));
    this.node.on('peerError', (err) => this.emit('peerError', err));
  }

  /** Listens on `port` (and `host`, default 127.0.0.1); with the gossip membership, gossip runs on `port + 1`. */
  listen(port: number, host?: string): this {
    if (this.starting) {
      this.emit('error', errors.invalidArgument('listen() was called already'));
      return this;
    }
    Object.assign(this.node.options, { port, ...(host === undefined ? {} : { host }) });
    this.starting = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.node.start(this.seeds));
    this.starting.then(
      () => this.emit('listening', this.node.address),
      (err) => this.emit('error', err),
    );
    return this;
  }

  /** Joins the cluster through the node listening on `port` at `host` (default 127.0.0.1). Call it right after `listen`; several seeds may be given. */
  join(port: number, host = '127.0.0.1'): this {
    this.seeds.push({ host, port });
    return this;
  }

  /** Writes `key`; the outcome is a `'set'` event (key, context) or an `'error'` event. Returns the vine. */
  set(key: string, value: V, options: RequestOptions = {}): this {
    const deadline = Date.now() + SET_RETRY_MS;
    const attempt = (): Promise<string> =>
      this.put(key, value, options).catch(async (err) => {
        if (!(err instanceof ReplicationError) || err.code !== 'ERR_UNAVAILABLE' || Date.now() > deadline || this.closing) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
        return attempt();
      });
    attempt().then(
      (context) => this.emit('set', key, context),
      (err) => this.emit('error', err),
    );
    return this;
  }

  override on(event: 'data', key: string, listener: DataListener<V>): this;
  override on(event: 'data', listener: AnyDataListener<V>): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, keyOrListener: unknown, maybeListener?: unknown): this {
    if (event === 'data' && typeof keyOrListener === 'string') {
      const key = keyOrListener;
      const listener = maybeListener as DataListener<V>;
      if (typeof listener !== 'function') throw errors.invalidArgument('on(\'data\', key, fn) needs a function');
      super.on('data', (changed: string, value: V | undefined, info: DataEvent<V>) => {
        if (changed === key) listener(value, info);
      });
      this.node.watch(key);
      void this.ready().then(() => this.node.refresh(key)).catch(() => undefined);
      return this;
    }
    if (event === 'data') this.node.watch('*');
    return super.on(event, keyOrListener as (...args: any[]) => void);
  }

  /** Resolves once the node is listening and has joined. */
  ready(): Promise<void> {
    return this.starting ?? Promise.reject(errors.invalidArgument('call listen() first'));
  }

  async put(key: string, value: V, options?: RequestOptions): Promise<string> {
    await this.ready();
    return this.node.put(key, value, options);
  }

  async get(key: string, options?: RequestOptions): Promise<VineVersions<V>> {
    await this.ready();
    return this.node.get(key, options);
  }

  async del(key: string, options?: RequestOptions): Promise<string> {
    await this.ready();
    return this.node.del(key, options);
  }

  /** Leaves the cluster for good: hands its partitions to the members that take them over, then closes; calls `callback` (if given) when done. */
  leave(callback?: (err?: Error) => void): Promise<void> {
    this.closing ??= (async () => {
      if (this.starting) await this.starting.catch(() => undefined);
      await this.node.leave();
    })();
    if (callback) this.closing.then(() => callback(), callback);
    return this.closing;
  }

  /** Stops serving and closes storage (the others see it down, and keep hints for it); calls `callback` (if given) when done. */
  close(callback?: (err?: Error) => void): Promise<void> {
    this.closing ??= (async () => {
      if (this.starting) await this.starting.catch(() => undefined);
      await this.node.stop();
    })();
    if (callback) this.closing.then(() => callback(), callback);
    return this.closing;
  }
}

/** `Vine()` and `new Vine()` both make a vine. */
export interface VineFactory {
  <V = unknown>(options?: VineOptions<V>): VineHandle<V>;
  new <V = unknown>(options?: VineOptions<V>): VineHandle<V>;
}

export const Vine = function Vine<V>(options?: VineOptions<V>): VineHandle<V> {
  return new VineHandle<V>(options);
} as unknown as VineFactory;
(Vine as unknown as { prototype: object }).prototype = VineHandle.prototype;
