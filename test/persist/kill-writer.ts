// A writer for the kill test: opens an ORSet stored at a path, adds
// `w<first>`, `w<first+1>`, ... and prints each number once it is on disk.
import { ORSet, persist } from '../../lib/index.js';

const [path, firstArg] = process.argv.slice(2);
const set = new ORSet({ id: 'writer' });
const stored = await persist(set, path);
process.stdout.write(`open ${set.size} ${set.context.max('writer')}\n`);
for (let i = Number(firstArg); ; i++) {
  set.add(`w${i}`);
  if (i % 7 === 0) set.remove(`w${i - 3}`);
  await stored.flush();
  process.stdout.write(`${i}\n`);
}
