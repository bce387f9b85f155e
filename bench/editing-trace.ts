// A seeded generator of human-like editing sessions, for benchmarks: runs
// of typing with backspaces, cursor jumps (mostly short, sometimes far),
// selections deleted, and pastes of a few lines at once. The same seed
// always gives the same edits.

/** One edit: insert `text` or delete `length` at `index` (UTF-16 units). */
export type TraceEdit = { index: number; text: string } | { index: number; length: number };

const WORDS = ['the', 'of', 'and', 'to', 'in', 'a', 'is', 'that', 'for', 'it', 'replica', 'stream', 'merge', 'update', 'peer', 'state', 'clock', 'delta', 'sync', 'document'];

/** mulberry32: small, fast and seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` edits of one simulated writer. Each edit is one keystroke's worth
 * of change (a character typed, a backspace) or one command (a selection
 * deleted, a paste). Only the document's length is tracked (a paste is a
 * run of words like the typed ones), so generating is linear.
 */
export function editingTrace(count: number, seed = 1): TraceEdit[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const edits: TraceEdit[] = [];
  let length = 0;
  let cursor = 0;
  let word = '';
  const insert = (s: string) => {
    edits.push({ index: cursor, text: s });
    length += s.length;
    cursor += s.length;
  };
  const remove = (index: number, n: number) => {
    edits.push({ index, length: n });
    length -= n;
    cursor = index;
  };
  while (edits.length < count) {
    const roll = random();
    if (roll < 0.86 || length < 50) {
      // Typing, a character at a time: words, spaces, now and then a sentence end or a new line.
      if (word.length === 0) word = pick(WORDS) + (random() < 0.1 ? '.' : '') + (random() < 0.03 ? '\n' : ' ');
      insert(word[0]);
      word = word.slice(1);
    } else if (roll < 0.95) {
      // Backspaces: one to a few, right where we type.
      const n = Math.min(cursor, 1 + Math.floor(random() * 3));
      for (let i = 0; i < n && edits.length < count; i++) remove(cursor - 1, 1);
      word = '';
    } else if (roll < 0.985) {
      // A cursor jump: mostly nearby, sometimes anywhere.
      const far = random() < 0.3;
      const target = far ? Math.floor(random() * (length + 1)) : cursor + Math.floor((random() - 0.5) * 200);
      cursor = Math.max(0, Math.min(length, target));
      word = '';
    } else if (roll < 0.995) {
      // Select and delete: a word to a few lines.
      const n = Math.min(length - cursor, 3 + Math.floor(random() ** 2 * 300));
      if (n > 0) remove(cursor, n);
    } else {
      // Paste: a few lines of text at once.
      let pasted = '';
      const n = 10 + Math.floor(random() * 400);
      while (pasted.length < n) pasted += pick(WORDS) + (random() < 0.05 ? '\n' : ' ');
      insert(pasted);
    }
  }
  return edits;
}
