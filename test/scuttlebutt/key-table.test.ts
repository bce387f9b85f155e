import test from 'tape';
import { KeyTable } from '../../lib/scuttlebutt/key-table.js';
import { hashOf } from '../../lib/key-hash.js';
import { testRandom } from '../helpers/seed.js';

// The Model's key table against a JavaScript Map used the same way (a key
// written again is deleted and set, so it moves to the end): a Map's
// iterator is live in exactly the way the table's scans must be, holes,
// compactions and index growth included.

test('key table: finds, scans and compacts as a Map in write order does, with scans under way', (t) => {
  const random = testRandom('key table');
  const table = new KeyTable();
  const reference = new Map<string, string>();
  const scans: { table: Iterator<number>; reference: Iterator<[string, string]>; done: boolean }[] = [];
  let mismatches = 0;
  let compared = 0;
  const keys = Array.from({ length: 3000 }, (_, i) => `k${i}-${'x'.repeat(i % 7)}`);
  let stamp = 0;
  for (let op = 0; op < 60_000; op++) {
    const roll = random.float();
    if (roll < 0.7) {
      // A write: new keys first, then mostly rewrites (so holes pile up and compactions run).
      const key = op < 4000 || random.chance(0.05) ? keys[random.int(0, keys.length - 1)] : random.pick([...reference.keys()].slice(0, 50).concat(keys.slice(0, 50)));
      const json = random.chance(0.1) ? undefined : JSON.stringify(op);
      const slot = table.find(key);
      if ((slot >= 0) !== reference.has(key)) mismatches++;
      table.put(key, json, random.chance(0.5) ? 'a' : 'b', ++stamp, slot);
      reference.delete(key);
      reference.set(key, json ?? 'deleted');
    } else if (roll < 0.72 && scans.length < 6) {
      scans.push({ table: table.scan(), reference: reference.entries(), done: false });
    } else {
      for (const scan of scans) {
        if (scan.done) continue;
        for (let step = random.int(1, 200); step > 0; step--) {
          const a = scan.table.next();
          const b = scan.reference.next();
          compared++;
          if (a.done !== b.done) mismatches++;
          if (a.done || b.done) {
            scan.done = true;
            break;
          }
          if (table.keyAt(a.value) !== b.value[0] || (table.jsonAt(a.value) ?? 'deleted') !== b.value[1]) mismatches++;
        }
      }
    }
  }
  t.equal(mismatches, 0, `every scan step (${compared}) and lookup agrees with the Map`);
  t.equal(table.size, reference.size, 'as many keys');
  for (const [key, json] of reference) {
    const slot = table.find(key);
    if (slot < 0 || (table.jsonAt(slot) ?? 'deleted') !== json) mismatches++;
  }
  t.equal(mismatches, 0, 'every key found, with its latest value');
  t.equal(table.find('never written'), -1, 'an unknown key is not found');
  t.end();
});

test('key table: keys made to collide under an unseeded hash spread out in the index', (t) => {
  // 200 keys whose unseeded FNV-1a agrees in its low 10 bits: as a peer
  // could compute them, to pile every key into one run of the index.
  const unseeded = (key: string) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return hash;
  };
  const target = unseeded('k0') & 1023;
  const keys: string[] = [];
  for (let i = 0; keys.length < 200; i++) if ((unseeded(`k${i}`) & 1023) === target) keys.push(`k${i}`);
  const buckets = new Set(keys.map((key) => hashOf(key) & 1023));
  // 200 keys at random over 1,024 buckets fill about 182 of them.
  t.ok(buckets.size > 150, `${buckets.size} of 1,024 low-bit buckets used by 200 keys`);
  t.end();
});

test('key table: an announced number of keys makes the index grow in fewer, larger steps, and a false one costs at most one step', (t) => {
  const grows = (expected: number | undefined, count: number) => {
    const table = new KeyTable();
    if (expected !== undefined) table.expect(expected);
    const sizes: number[] = [];
    let missing = 0;
    for (let i = 0; i < count; i++) {
      const key = `k${i}`;
      table.put(key, '"v"', 'a', i + 1, table.find(key));
      const size = (table as unknown as { index: Int32Array }).index.length;
      if (sizes[sizes.length - 1] !== size) sizes.push(size);
    }
    for (let i = 0; i < count; i++) if (table.find(`k${i}`) !== i) missing++;
    return { steps: sizes.length, last: sizes[sizes.length - 1], missing };
  };
  const plain = grows(undefined, 50_000);
  const announced = grows(50_000, 50_000);
  const lie = grows(2 ** 52, 50_000);
  t.equal(plain.missing + announced.missing + lie.missing, 0, 'every key found at its slot, whatever the hint');
  t.ok(announced.steps < plain.steps, `announced: ${announced.steps} sizes of index, against ${plain.steps} without`);
  t.ok(announced.last <= 2 * plain.last && lie.last <= 2 * plain.last, `the index ends at most twice the size plain doubling gives (${announced.last}, ${lie.last}, ${plain.last})`);
  t.ok(grows(0, 1000).last <= grows(undefined, 1000).last, 'an announcement of nothing changes nothing');
  t.end();
});

test('key table: keys and values given as text or as UTF-8 bytes are the same keys and values, and are written as the wire carries them', (t) => {
  const random = testRandom('key table bytes');
  const table = new KeyTable();
  const reference = new Map<string, string | undefined>();
  const pieces = ['a', 'k', '0', 'é', '€', '😀', '"', 'x'.repeat(40)];
  const text = (max: number) => {
    let s = '';
    for (let n = random.int(1, max); n > 0; n--) s += random.pick(pieces);
    return s;
  };
  const keys = Array.from({ length: 400 }, () => text(6));
  let mismatches = 0;
  let stamp = 0;
  for (let op = 0; op < 20_000; op++) {
    const key = random.pick(keys);
    // Values short and long (past what a page keeps as bytes), and deletes.
    const json = random.chance(0.1) ? undefined : JSON.stringify(random.chance(0.05) ? text(200) : text(4));
    if (random.chance(0.5)) {
      table.put(key, json, 'a', ++stamp, table.find(key));
    } else {
      // As a peer's update arrives: the key and the value among other bytes of a frame.
      const keyBytes = Buffer.from(key);
      const jsonBytes = json === undefined ? Buffer.alloc(0) : Buffer.from(json);
      const frame = Buffer.concat([Buffer.from([7]), keyBytes, Buffer.from([9]), jsonBytes, Buffer.from([7])]);
      const keyEnd = 1 + keyBytes.length;
      const jsonStart = json === undefined ? -1 : keyEnd + 1;
      const slot = table.findBytes(frame, 1, keyEnd);
      if (slot !== table.find(key)) mismatches++;
      table.putBytes(frame, 1, keyEnd, jsonStart, jsonStart + jsonBytes.length, 'b', [++stamp], 0, slot);
      frame.fill(0); // the table keeps its own copy
    }
    reference.delete(key);
    reference.set(key, json);
  }
  t.equal(mismatches, 0, 'a key given as bytes is found where the same key given as text is');
  t.equal(table.size, reference.size, 'as many keys');
  const scan = table.scan();
  let entries = 0;
  for (const [key, json] of reference) {
    const slot = scan.next().value as number;
    entries++;
    if (table.keyAt(slot) !== key || table.jsonAt(slot) !== json || table.hasJsonAt(slot) !== (json !== undefined)) mismatches++;
    if (table.find(key) !== slot || table.findBytes(Buffer.from(key), 0, Buffer.byteLength(key)) !== slot) mismatches++;
    // Written as an updates message carries the entry: the key, then the value's length + 1 (0: deleted) and its bytes.
    const expected = Buffer.concat([encodeLength(Buffer.byteLength(key)), Buffer.from(key), json === undefined ? Buffer.from([0]) : encodeLength(Buffer.byteLength(json) + 1), Buffer.from(json ?? '')]);
    const out = Buffer.alloc(table.entryLength(slot) + 2);
    const end = table.writeEntry(slot, out, 1);
    if (table.entryLength(slot) !== expected.length || end !== 1 + expected.length || !out.subarray(1, end).equals(expected)) mismatches++;
  }
  t.ok(scan.next().done, 'the scan ends after the last key');
  t.equal(mismatches, 0, `every key (${entries}) found both ways, read back and written alike, in the order written`);
  t.end();
});

/** A varint, as the wire writes lengths. */
function encodeLength(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
