declare module 'length-prefixed-stream' {
  import type { Transform } from 'node:stream';
  export function encode(): Transform;
  export function decode(options?: { limit?: number; allowEmpty?: boolean }): Transform;
}
