export { listen, connect, Connector, DEFAULT_MAX_CONNECTIONS, type ConnectOptions, type ListenOptions } from './net.js';
export { encryptionKeyPair, type EncryptOptions, type KeyPair } from './encrypt.js';
export { stdio } from './stdio.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { Reconnector, type ConnectionStatus, type Progress, type ReconnectOptions } from './reconnector.js';
export { type DisconnectInfo, isPermanent } from './reasons.js';
export { serveWebSocket, connectWebSocket, WebSocketHub, WebSocketConnector, type WebSocketServeOptions, type WebSocketConnectOptions } from './ws.js';
