// The structures `tendril peer` can run: how each is made, which stdin
// commands write to it, and how its changes are printed.
import { GCounter, GSet, LWWRegister, Log, MVRegister, Model, ORSet, PNCounter, Seq, TwoPSet } from '../lib/index.js';
import type { Replica } from '../lib/session/replica.js';

export interface PeerKind {
  summary: string;
  /** The commands it takes, for the help text. */
  commands: string[];
  create(options: { name: string; id?: string }): Replica;
  /** Applies one command line (already split into the command word and the rest); false if unknown. */
  write(replica: Replica, command: string, rest: string): boolean;
  /** Calls `print` with a line for every change, local or remote. */
  watch(replica: Replica, print: (line: string) => void): void;
  /** The whole value, as plain data. */
  value(replica: Replica): unknown;
}

/** A value typed on the command line: JSON if it parses as JSON, the text itself otherwise. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `"word rest of line"` into its first word and the rest after one space (kept as typed: text may end in spaces). */
function split(text: string): [string, string] {
  const match = /^\s*(\S+)(?:\s(.*))?$/s.exec(text);
  return match ? [match[1]!, match[2] ?? ''] : ['', ''];
}

function integer(text: string, fallback?: number): number {
  if (text === '' && fallback !== undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${JSON.stringify(text)}`);
  return n;
}

const json = (value: unknown) => JSON.stringify(value);

function setKind(summary: string, make: (o: { name: string; id?: string }) => ORSet | GSet | TwoPSet, canRemove: boolean): PeerKind {
  return {
    summary,
    commands: canRemove ? ['add <element>', 'remove <element>'] : ['add <element>'],
    create: make,
    write(replica, command, rest) {
      const set = replica as ORSet;
      if (command === 'add') set.add(parseValue(rest));
      else if (command === 'remove' && canRemove) set.remove(parseValue(rest));
      else return false;
      return true;
    },
    watch(replica, print) {
      replica.on('change', (change: { added: unknown[]; removed: unknown[] }) => {
        for (const value of change.added) print(`add ${json(value)}`);
        for (const value of change.removed) print(`remove ${json(value)}`);
      });
    },
    value: (replica) => (replica as ORSet).values(),
  };
}

function counterKind(summary: string, make: (o: { name: string; id?: string }) => GCounter | PNCounter, canDecrement: boolean): PeerKind {
  return {
    summary,
    commands: canDecrement ? ['inc [n]', 'dec [n]'] : ['inc [n]'],
    create: make,
    write(replica, command, rest) {
      if (command === 'inc') (replica as GCounter).increment(integer(rest, 1));
      else if (command === 'dec' && canDecrement) (replica as PNCounter).decrement(integer(rest, 1));
      else return false;
      return true;
    },
    watch: (replica, print) => replica.on('change', () => print(`value ${json((replica as GCounter).value())}`)),
    value: (replica) => (replica as GCounter).value(),
  };
}

function registerKind(summary: string, make: (o: { name: string; id?: string }) => LWWRegister | MVRegister): PeerKind {
  return {
    summary,
    commands: ['set <value>'],
    create: make,
    write(replica, command, rest) {
      if (command !== 'set') return false;
      (replica as LWWRegister).set(parseValue(rest));
      return true;
    },
    watch: (replica, print) => replica.on('change', () => print(`value ${json((replica as LWWRegister).get())}`)),
    value: (replica) => (replica as LWWRegister).get(),
  };
}

export const KINDS: Record<string, PeerKind> = {
  model: {
    summary: 'last-writer-wins key/value map',
    commands: ['set <key> <value>', 'delete <key>'],
    create: (o) => new Model(o),
    write(replica, command, rest) {
      const model = replica as Model;
      const [key, value] = split(rest);
      if (command === 'set' && key) model.set(key, parseValue(value));
      else if (command === 'delete' && key) model.delete(key);
      else return false;
      return true;
    },
    watch(replica, print) {
      replica.on('update', (key: string, value: unknown) => print(value === undefined ? `delete ${key}` : `set ${key} ${json(value)}`));
    },
    value: (replica) => (replica as Model).toJSON(),
  },
  log: {
    summary: 'append-only event log',
    commands: ['append <value>'],
    create: (o) => new Log(o),
    write(replica, command, rest) {
      if (command !== 'append') return false;
      (replica as Log).append(parseValue(rest));
      return true;
    },
    watch(replica, print) {
      replica.on('append', (record: { source: string; seq: number; value: unknown }) => print(`append ${json(record.value)} (${record.source}#${record.seq})`));
    },
    value: (replica) => (replica as Log).toJSON().map((r) => r.value),
  },
  orset: setKind('add-wins set', (o) => new ORSet(o), true),
  gset: setKind('grow-only set', (o) => new GSet(o), false),
  twopset: setKind('two-phase set (removed for good)', (o) => new TwoPSet(o), true),
  gcounter: counterKind('grow-only counter', (o) => new GCounter(o), false),
  pncounter: counterKind('counter', (o) => new PNCounter(o), true),
  lww: registerKind('last-writer-wins register', (o) => new LWWRegister(o)),
  mvregister: registerKind('multi-value register (keeps concurrent writes)', (o) => new MVRegister(o)),
  seq: {
    summary: 'replicated text',
    commands: ['insert <index> <text>', 'delete <index> [count]', 'push <text>'],
    create: (o) => new Seq(o),
    write(replica, command, rest) {
      const seq = replica as Seq;
      if (command === 'push') {
        seq.push(rest);
        return true;
      }
      const [index, text] = split(rest);
      if (command === 'insert') seq.insert(integer(index), text);
      else if (command === 'delete') seq.delete(integer(index), integer(text, 1));
      else return false;
      return true;
    },
    watch: (replica, print) => replica.on('change', () => print(`text ${json((replica as Seq).toString())}`)),
    value: (replica) => (replica as Seq).toString(),
  },
};

/** Runs one stdin line against `replica`: a write, `show`, or `help`. Returns what to print, if anything. */
export function runLine(kind: PeerKind, replica: Replica, line: string): string | undefined {
  const [command, rest] = split(line);
  if (command === '') return undefined;
  if (command === 'show') return `value ${json(kind.value(replica))}`;
  if (command === 'help') return `commands: ${[...kind.commands, 'show'].join(', ')}`;
  if (!kind.write(replica, command, rest)) return `unknown command ${JSON.stringify(command)}; commands: ${[...kind.commands, 'show'].join(', ')}`;
  return undefined;
}
