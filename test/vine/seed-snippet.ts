// The seed's two snippets, as written, one per process (with a callback).
// Usage: node seed-snippet.js first PORT DIR | node seed-snippet.js second PORT SEED_PORT DIR
import { Vine } from '../../lib/vine/vine.js';

const [which, port, ...rest] = process.argv.slice(2);
process.chdir(rest[rest.length - 1]); // each node keeps its data under the working directory, named by port

if (which === 'first') {
  // On the first computer:
  const vine = Vine();
  vine.listen(Number(port)).set('foo', 'hello, world');
  vine.on('set', () => process.stdout.write('set\n'));
  vine.on('error', (err: Error) => process.stdout.write(`error ${err.message}\n`));
} else {
  // On the second, joining the first:
  const vine = Vine();
  vine
    .listen(Number(port))
    .join(Number(rest[0]), '127.0.0.1')
    .on('data', 'foo', (value) => {
      process.stdout.write(`data ${JSON.stringify(value)}\n`);
    });
}
