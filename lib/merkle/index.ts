export { MerkleStore } from './store.js';
export { DEFAULT_DEPTH, type MerkleStoreOptions, type Versions, type ChangeEvent, type WriteOptions } from './store-options.js';
export { MerkleTree, MAX_DEPTH } from './tree.js';
export { MerkleSession } from './session.js';
export { lastWriterWins, type Resolver, type SiblingView } from './resolve.js';
export { HASH_BYTES, HASH_NAME } from './hash.js';
export { type MerkleMessage, merkleMessageCodec } from './messages.js';
export { RatelessSession } from './rateless-session.js';
export { DEFAULT_SYMBOL_PREFIX } from './store-symbols.js';
