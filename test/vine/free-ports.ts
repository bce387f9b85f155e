import { createServer } from 'node:net';
import type { Random } from '../../lib/random.js';

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port such that `count` consecutive ports from it are free on
 * 127.0.0.1 now (a vine node takes two: requests and gossip). Chosen from
 * the seeded random source, so a replay tries the same ports first.
 */
export async function freePorts(count: number, random: Random): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 2 * random.int(0, 10_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error('no run of free ports found');
}
