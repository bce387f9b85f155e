export { listen, connect, Connector, type ConnectOptions } from './net.js';
export { stdio } from './stdio.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { Reconnector, type ConnectionStatus, type Progress, type ReconnectOptions } from './reconnector.js';
export { type DisconnectInfo, isPermanent } from './reasons.js';
export { serveWebSocket, connectWebSocket, WebSocketHub, WebSocketConnector, type WebSocketServeOptions, type WebSocketConnectOptions } from './ws.js';
