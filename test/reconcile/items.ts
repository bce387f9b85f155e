import { Random } from '../../lib/random.js';

/** `count` distinct random 16-byte items from `random`. */
export function randomItems(random: Random, count: number): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const item = new Uint8Array(16);
    for (let i = 0; i < 16; i += 4) new DataView(item.buffer).setUint32(i, random.int(0, 0xffffffff));
    const key = Buffer.from(item).toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
  }
  return out;
}

export const hex = (items: Uint8Array[]) => items.map((i) => Buffer.from(i).toString('hex')).sort();
