// What the library expects of its host and a browser lacks: a global Buffer
// (the codecs use only its public API; the `buffer` package is the same API
// on a Uint8Array) and setImmediate (persistence batches its writes with it).
// Node has both, and this module leaves them alone there.
import { Buffer } from 'buffer';

const host = globalThis as { Buffer?: unknown; setImmediate?: unknown };
host.Buffer ??= Buffer;
host.setImmediate ??= (callback: (...args: unknown[]) => void, ...args: unknown[]) => setTimeout(callback, 0, ...args);

export {};
