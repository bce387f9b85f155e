import test from 'tape';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { HASH_BYTES, keyPosition, leafHash, nodeHash, sha256 } from '../../lib/merkle/hash.js';
import { testRandom } from '../helpers/seed.js';

// The tree hashes with OpenSSL in Node and with @noble/hashes in the browser: replicas on either must agree byte for byte.
test('the tree hash is the same SHA-256 in Node and in the browser', (t) => {
  const random = testRandom('merkle hash');
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  let differ = 0;
  for (let i = 0; i < 300; i++) {
    const data = Uint8Array.from({ length: random.int(0, 300) }, () => random.int(0, 255));
    if (hex(sha256(data)) !== hex(nobleSha256(data))) differ++;
    const key = data.subarray(0, random.int(0, data.length));
    const record = data.subarray(key.length);
    const input = new Uint8Array(5 + key.length + record.length);
    new DataView(input.buffer).setUint32(1, key.length);
    input.set(key, 5);
    input.set(record, 5 + key.length);
    if (hex(leafHash(key, record)) !== hex(nobleSha256(input).subarray(0, HASH_BYTES))) differ++;
    const h = nobleSha256(key);
    if (keyPosition(key) !== ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0) differ++;
    if (data.length >= 2 * HASH_BYTES) {
      const pair = new Uint8Array(1 + 2 * HASH_BYTES);
      pair[0] = 1;
      pair.set(data.subarray(0, 2 * HASH_BYTES), 1);
      if (hex(nodeHash(data, 0)) !== hex(nobleSha256(pair).subarray(0, HASH_BYTES))) differ++;
    }
  }
  t.equal(differ, 0, '300 random inputs: sha256, leaf, node hashes and key positions equal @noble/hashes');
  t.equal(hex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'the SHA-256 test vector of "abc"');
  t.end();
});
