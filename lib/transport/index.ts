export { listen, connect, Connector, type ConnectOptions } from './net.js';
export { stdio } from './stdio.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
