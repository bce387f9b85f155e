// The browser's stand-in for the Node stream shell (package.json "browser"
// field): a browser has no Node streams, so `createStream()` says what to
// use instead rather than pulling a stream polyfill into every page.
import { errors } from '../errors.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../session/contract.js';

export { DEFAULT_MAX_FRAME_BYTES };
export const DEFAULT_FAIL_GRACE_MS = 1000;

export class ReplicationStream {
  constructor() {
    throw errors.invalidArgument('createStream() needs Node streams; in a browser, replicate with connectWebSocket()');
  }
}
