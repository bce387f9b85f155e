import { errors } from '../errors.js';
import { Replica } from '../session/replica.js';
import type { Descriptor, Replicable, SessionOptions } from '../session/contract.js';
import type { ReplicationStream, StreamOptions } from '../stream/duplex.js';
import type { WireProtocolOptions } from '../stream/wire-protocol.js';
import { ControlSession } from './control.js';
import { type ChannelEvent, type ChannelHost, MAX_CHANNEL_NAME_BYTES, MuxProtocol } from './mux-protocol.js';

export interface DocOptions {
  /** Document name: two Docs of different names refuse each other. Default `'doc'`. */
  name?: string;
  /** Replica id of the Doc's connection handshake. Default 16 random hex digits. */
  id?: string;
  /**
   * Called when a peer has a structure this Doc lacks, with its name and
   * kind: return a structure to add under that name (it then replicates), or
   * undefined to leave it out. Default: nothing is added.
   */
  create?: (name: string, kind: string) => Replicable | undefined;
  /** Most channels a peer may hold open on one connection. Default 1,024. */
  maxChannels?: number;
}

/** A structure class whose constructor takes `{ name }` among its options: Model, Log, Seq, every CRDT. */
export type StructureClass<T extends Replicable, O = object> = new (options: O & { name: string }) => T;

/**
 * A container of named structures that replicates them all over one
 * connection: `doc.get('todos', ORSet)`, `doc.get('text', Seq)`, then
 * `doc.createStream()` as for any structure. Each structure gets its own
 * channel, handshake, session and errors; structures added or removed while
 * a connection lives open or close their channel on it.
 *
 * Events: `'add'` (name), `'remove'` (name), `'channel'` (ChannelEvent,
 * stream) for every channel that opens, syncs or closes on any connection;
 * a closing channel's event carries its error, if it failed.
 */
export class Doc extends Replica implements ChannelHost {
  readonly descriptor: Descriptor;
  private readonly members = new Map<string, Replicable>();
  private readonly connections = new Set<MuxProtocol>();

  constructor(private readonly options: DocOptions = {}) {
    super();
    this.descriptor = { kind: 'doc', name: options.name ?? 'doc', id: options.id ?? randomId() };
  }

  /** Adds `structure` under `name` and starts replicating it on every open connection. */
  add<T extends Replicable>(name: string, structure: T): T {
    checkName(name);
    if (this.members.has(name)) throw errors.invalidArgument(`this doc already holds ${JSON.stringify(name)}`);
    this.members.set(name, structure);
    for (const mux of this.connections) mux.add(name, structure);
    this.emit('add', name);
    return structure;
  }

  /**
   * The structure called `name`; if there is none and `Type` is given, a new
   * `Type({ ...options, name })` is added. A structure of another class under
   * that name is ERR_INVALID_ARGUMENT.
   */
  get<T extends Replicable>(name: string): T | undefined;
  get<T extends Replicable, O>(name: string, Type: StructureClass<T, O>, options?: O): T;
  get<T extends Replicable, O>(name: string, Type?: StructureClass<T, O>, options?: O): T | undefined {
    const existing = this.members.get(name);
    if (existing !== undefined) {
      if (Type && !(existing instanceof Type)) throw errors.invalidArgument(`${JSON.stringify(name)} is a ${existing.descriptor.kind}, not a ${Type.name}`);
      return existing as T;
    }
    if (Type === undefined) return undefined;
    return this.add(name, new Type({ ...(options as O), name }));
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  /** Names of the structures held, in the order added. */
  names(): string[] {
    return [...this.members.keys()];
  }

  /** Stops replicating `name` and forgets it; its channels close. Returns false if there was none. */
  remove(name: string): boolean {
    if (!this.members.delete(name)) return false;
    for (const mux of this.connections) mux.remove(name);
    this.emit('remove', name);
    return true;
  }

  /** A duplex stream carrying every structure of this doc, one channel each. */
  override createStream(options?: StreamOptions): ReplicationStream {
    const stream = super.createStream(options);
    const mux = stream.protocol as unknown as MuxProtocol;
    mux.onChannel = (event) => {
      stream.emit('channel', event);
      this.emit('channel', event, stream);
    };
    return stream;
  }

  /** @internal The stream shell asks for the connection's protocol here. */
  createProtocol(options: WireProtocolOptions): MuxProtocol {
    const mux = new MuxProtocol(this, options, { maxChannels: this.options.maxChannels });
    this.connections.add(mux);
    mux.onClose = () => this.connections.delete(mux);
    return mux;
  }

  /**
   * A Doc on a plain single-structure stream (not through `createStream`)
   * speaks only the control channel's handshake, and refuses any channel.
   */
  openSession(_options: SessionOptions): ControlSession {
    return new ControlSession({
      opened: () => {
        throw errors.decode('a plain doc session carries no channels');
      },
      closed: () => {},
      announced: () => {},
    });
  }

  /** @internal */
  structures(): Iterable<[string, Replicable]> {
    return [...this.members];
  }

  /** @internal */
  structure(name: string): Replicable | undefined {
    return this.members.get(name);
  }

  /** @internal */
  adopt(name: string, kind: string): void {
    const structure = this.options.create?.(name, kind);
    if (structure) this.add(name, structure);
  }
}

export type { ChannelEvent };

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || new TextEncoder().encode(name).length > MAX_CHANNEL_NAME_BYTES) {
    throw errors.invalidArgument(`a structure name is 1 to ${MAX_CHANNEL_NAME_BYTES} UTF-8 bytes, got ${JSON.stringify(name)}`);
  }
}

function randomId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
