import pump from 'pump';
import type { StreamOptions } from '../stream/duplex.js';
import type { Streamable } from '../stream/replicate.js';

/**
 * Replicates `replica` over this process's stdin and stdout, so peers can be
 * joined by shell pipes. Anything else the process prints must go to stderr.
 */
export function stdio(replica: Streamable, options: StreamOptions = {}): Promise<void> {
  const stream = replica.createStream(options);
  return new Promise((resolve, reject) => pump(process.stdin, stream, process.stdout, (err) => (err ? reject(err) : resolve())));
}
