export { listen, connect, Connector, DEFAULT_MAX_CONNECTIONS, type ConnectOptions, type ListenOptions } from './net.js';
export { encryptionKeyPair, type EncryptOptions, type KeyPair } from './encrypt.js';
export { stdio } from './stdio.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
