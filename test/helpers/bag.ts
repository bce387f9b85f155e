import { type Codec, array, constant, string, struct, union } from '../../lib/codec/index.js';
import { Replica } from '../../lib/session/replica.js';
import type { Descriptor, PeerInfo, Session, SessionOptions } from '../../lib/session/contract.js';

/**
 * A test-only structure: a grow-only bag of strings with the plainest
 * possible session (send everything, then live additions). It exercises the
 * stream shell before any real structure exists.
 */
export class Bag extends Replica {
  readonly descriptor: Descriptor;
  readonly items = new Set<string>();

  constructor(id: string, name = 'bag') {
    super();
    this.descriptor = { kind: 'test-bag', name, id };
  }

  add(item: string, origin?: BagSession): void {
    if (this.items.has(item)) return;
    this.items.add(item);
    this.emit('add', item, origin);
  }

  openSession(options: SessionOptions): BagSession {
    return new BagSession(this, options);
  }
}

type BagMessage = { type: 'items'; items: string[] };

const bagCodec: Codec<BagMessage> = union<BagMessage>({
  items: [0, struct({ type: constant('items' as const), items: array(string) })],
});

class BagSession implements Session<BagMessage> {
  readonly codec = bagCodec;
  onWake?: () => void;
  initialSent = false;
  private backlog: Iterator<string> | undefined;
  private readonly live: string[] = [];
  private accepting = false;
  private sending = false;

  constructor(
    private readonly bag: Bag,
    private readonly options: SessionOptions,
  ) {}

  start(peer: PeerInfo): void {
    this.sending = this.options.readable && peer.writable;
    this.accepting = this.options.writable && peer.readable;
    if (this.sending) {
      this.backlog = [...this.bag.items].values();
      this.bag.on('add', this.onAdd);
    }
    this.onWake?.();
  }

  receive(message: BagMessage): void {
    if (!this.accepting) return;
    for (const item of message.items) this.bag.add(item, this);
  }

  pull(): BagMessage | undefined {
    const source = this.backlog ?? this.live.values();
    const items: string[] = [];
    let size = 0;
    for (let next = source.next(); !next.done; next = source.next()) {
      items.push(next.value);
      size += next.value.length + 5;
      if (size > this.options.maxMessageBytes / 2) break;
    }
    if (this.backlog) {
      if (items.length === 0) {
        this.backlog = undefined;
        return this.pull();
      }
    } else {
      this.live.splice(0, items.length);
      if (!this.initialSent) this.initialSent = true;
    }
    return items.length > 0 ? { type: 'items', items } : undefined;
  }

  close(): void {
    this.bag.off('add', this.onAdd);
    this.live.length = 0;
  }

  private onAdd = (item: string, origin?: BagSession) => {
    if (origin === this) return;
    this.live.push(item);
    this.onWake?.();
  };
}
