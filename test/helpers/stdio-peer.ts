// A Model peer on stdin/stdout, for the child-process transport test:
// node stdio-peer.js <id> sets one key, replicates, and prints nothing else.
import { Model } from '../../lib/index.js';

const model = new Model({ id: process.argv[2] ?? 'child' });
model.set(`from-${model.id}`, process.pid);
const stream = model.createStream();
process.stdin.pipe(stream).pipe(process.stdout);
stream.on('error', () => process.exit(1));
// The parent hanging up first is a normal end, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
stream.on('end', () => process.exit(0));
