// What the library expects of its host and a browser lacks: a global Buffer
// (the codecs use only its public API, and ./buffer.ts is the part of it they
// use, on a Uint8Array) and setImmediate (persistence batches its writes with
// it). Node has both, and this module leaves them alone there; so does a page
// that has installed a Buffer of its own.
import { BrowserBuffer } from './buffer.js';

const host = globalThis as { Buffer?: unknown; setImmediate?: unknown };
host.Buffer ??= BrowserBuffer;
host.setImmediate ??= (callback: (...args: unknown[]) => void, ...args: unknown[]) => setTimeout(callback, 0, ...args);

export {};
