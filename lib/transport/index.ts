export { listen, connect, Connector, DEFAULT_MAX_CONNECTIONS, type ConnectOptions, type ListenOptions } from './net.js';
export { stdio } from './stdio.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
